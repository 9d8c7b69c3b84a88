import ArgumentParser
import SSEParser

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// How `sse-listen` writes events to standard output (`--format`).
public enum OutputFormat: String, CaseIterable, Sendable, ExpressibleByArgument {
    /// One JSON object per line: `{"id":"…","event":"…","data":"…"}`.
    case jsonl
    /// The data of each event, followed by a line feed.
    case data
    /// The events as `text/event-stream`, which parses back to the same events.
    case raw
    /// For people: time, type and id, then the data indented, JSON pretty-printed, in colour.
    case pretty

    /// `pretty` when standard output is a terminal, `jsonl` otherwise.
    public static func defaultFormat(stdoutIsTerminal: Bool) -> OutputFormat {
        stdoutIsTerminal ? .pretty : .jsonl
    }
}

/// Turns events into the bytes of one output format. Holds the `raw` format's serializer, which
/// writes `id:` only when the ID changes, so feed one formatter the events of one run, in order.
public struct EventFormatter: Sendable {
    /// The output format.
    public let format: OutputFormat

    /// Colours for the `pretty` format.
    public let style: TerminalStyle

    private var serializer = EventStreamSerializer()

    /// Creates a formatter.
    public init(format: OutputFormat, style: TerminalStyle = .plain) {
        self.format = format
        self.style = style
    }

    /// The bytes to write for `event`, ending with a line feed (a blank line for `raw`).
    ///
    /// - Parameters:
    ///   - event: The event.
    ///   - time: The wall-clock time shown by the `pretty` format, such as `14:02:11.123`.
    public mutating func format(_ event: ServerSentEvent, time: @autoclosure () -> String = WallClock.now()) -> [UInt8]
    {
        var output: [UInt8] = []
        append(event, to: &output, time: time())
        return output
    }

    /// Appends the bytes of ``format(_:time:)`` to `output`, without an array of their own: the
    /// way `sse-listen` formats straight into the output it has not written yet.
    ///
    /// - Parameters:
    ///   - event: The event.
    ///   - output: The bytes to append to.
    ///   - time: The wall-clock time shown by the `pretty` format, such as `14:02:11.123`.
    public mutating func append(
        _ event: ServerSentEvent,
        to output: inout [UInt8],
        time: @autoclosure () -> String = WallClock.now()
    ) {
        switch format {
        case .jsonl:
            // No `reserveCapacity` here: on a buffer that keeps growing it would reallocate for
            // every event instead of doubling.
            output.append(contentsOf: #"{"id":"#.utf8)
            JSONText.appendQuoted(event.id, to: &output)
            output.append(contentsOf: #","event":"#.utf8)
            JSONText.appendQuoted(event.type, to: &output)
            output.append(contentsOf: #","data":"#.utf8)
            JSONText.appendQuoted(event.data, to: &output)
            output.append(contentsOf: "}\n".utf8)
        case .data:
            output.append(contentsOf: event.data.utf8)
            output.append(0x0A)
        case .raw:
            output.append(contentsOf: serializer.serialize(event).utf8)
        case .pretty:
            output.append(contentsOf: pretty(event, time: time()).utf8)
        }
    }

    private func pretty(_ event: ServerSentEvent, time: String) -> String {
        var text = style.paint(time, .dim) + " " + style.paint(style.sanitized(event.type), .boldCyan)
        if !event.id.isEmpty {
            text += " " + style.paint("#" + style.sanitized(event.id), .yellow)
        }
        text += "\n"
        let body: String
        if event.data.isEmpty {
            body = style.paint("(empty)", .dim)
        } else if let json = JSONText.prettyPrinted(event.data), !TerminalStyle.containsControlCharacters(json) {
            // Colour only text known to be free of control characters: sanitizing after
            // colouring would escape the colours themselves.
            body = style.jsonPalette.flatMap { JSONText.prettyPrinted(event.data, palette: $0) } ?? json
        } else {
            body = style.sanitized(event.data)
        }
        for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
            text += "  " + line + "\n"
        }
        return text
    }
}

/// The local wall-clock time, for the `pretty` format and status lines.
public enum WallClock {
    /// The time of day now, as `HH:MM:SS.mmm` in the local time zone.
    public static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        let milliseconds = Int(spec.tv_nsec) / 1_000_000
        return "\(twoDigits(Int(parts.tm_hour))):\(twoDigits(Int(parts.tm_min))):\(twoDigits(Int(parts.tm_sec)))."
            + (milliseconds < 10 ? "00" : milliseconds < 100 ? "0" : "") + "\(milliseconds)"
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
