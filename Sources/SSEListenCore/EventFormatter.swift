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
/// writes `id:` only when the ID changes, and what `--join` and `--field` remember, so feed one
/// formatter the events of one run, in order, and end the run with ``finish(to:)``.
public struct EventFormatter: Sendable {
    /// The output format.
    public let format: OutputFormat

    /// Colours for the `pretty` format.
    public let style: TerminalStyle

    /// `--field`: the value printed from each event's JSON data instead of the data, by the
    /// `data` and `jsonl` formats (`raw` and `pretty` show whole events and ignore it). `nil`
    /// (the default) prints the data.
    public let field: JSONPath?

    /// `--join`: whether the `data` and `jsonl` formats leave out the line feed after each event,
    /// so the values join as they stream, and ``finish(to:)`` writes one at the end. `raw` and
    /// `pretty` ignore it. Default: `false`.
    public let joinsEvents: Bool

    /// How many events printed nothing because ``field`` found no value in their data (it is not
    /// JSON, or has nothing at the path). Always 0 without a field.
    public private(set) var eventsWithoutField = 0

    private var serializer = EventStreamSerializer()

    /// Whether joined output was printed that ``finish(to:)`` has not ended with a line feed yet.
    private var lineIsOpen = false

    /// Creates a formatter.
    ///
    /// - Parameters:
    ///   - format: The output format.
    ///   - style: Colours for the `pretty` format.
    ///   - field: The value to print from each event's JSON data (`--field`); see ``field``.
    ///   - joinsEvents: No line feed between events (`--join`); see ``joinsEvents``.
    public init(format: OutputFormat, style: TerminalStyle = .plain, field: JSONPath? = nil, joinsEvents: Bool = false)
    {
        self.format = format
        self.style = style
        self.field = field
        self.joinsEvents = joinsEvents
    }

    /// The bytes to write for `event`, ending with a line feed (a blank line for `raw`, nothing
    /// with ``joinsEvents``); none when ``field`` finds no value in its data.
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
    /// - Returns: Whether the event was printed: `false` (nothing appended, and the event counted
    ///   in ``eventsWithoutField``) when ``field`` finds no value in its data.
    @discardableResult
    public mutating func append(
        _ event: ServerSentEvent,
        to output: inout [UInt8],
        time: @autoclosure () -> String = WallClock.now()
    ) -> Bool {
        switch format {
        case .jsonl:
            // No `reserveCapacity` here: on a buffer that keeps growing it would reallocate for
            // every event instead of doubling.
            let start = output.count
            output.append(contentsOf: #"{"id":"#.utf8)
            JSONText.appendQuoted(event.id, to: &output)
            output.append(contentsOf: #","event":"#.utf8)
            JSONText.appendQuoted(event.type, to: &output)
            output.append(contentsOf: #","data":"#.utf8)
            if let field {
                // One pass: look the value up where it goes, and take the line back if there is none.
                guard field.append(from: event.data, as: .quotedText, to: &output) else {
                    output.removeLast(output.count - start)
                    eventsWithoutField += 1
                    return false
                }
            } else {
                JSONText.appendQuoted(event.data, to: &output)
            }
            output.append(UInt8(ascii: "}"))
            endEvent(&output)
        case .data:
            if let field {
                guard field.append(from: event.data, as: .text, to: &output) else {
                    eventsWithoutField += 1
                    return false
                }
            } else {
                output.append(contentsOf: event.data.utf8)
            }
            endEvent(&output)
        case .raw:
            output.append(contentsOf: serializer.serialize(event).utf8)
        case .pretty:
            output.append(contentsOf: pretty(event, time: time()).utf8)
        }
        return true
    }

    /// Ends a `data` or `jsonl` event: a line feed, or with ``joinsEvents`` none until the end.
    private mutating func endEvent(_ output: inout [UInt8]) {
        if joinsEvents {
            lineIsOpen = true
        } else {
            output.append(0x0A)
        }
    }

    /// Appends what ends the output of a run: with ``joinsEvents``, one line feed if any event
    /// was printed since the last call; otherwise nothing. Call it once the events are over,
    /// however the run ends; a second call appends nothing.
    public mutating func finish(to output: inout [UInt8]) {
        guard lineIsOpen else { return }
        output.append(0x0A)
        lineIsOpen = false
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
