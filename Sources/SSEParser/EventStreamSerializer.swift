/// Writes events, comments and reconnection times as `text/event-stream` text.
///
/// What it writes reads back through ``EventStreamParser`` as the same values: the data keeps
/// any leading spaces, and an `id:` line is written only when the last event ID changes (an
/// empty `id` line when an event resets it), because the parser carries the ID from one event
/// to the next. Feed one serializer the events of one stream, in order.
///
/// The format cannot carry a few things, so they are normalised rather than allowed to break
/// the framing: line breaks (CR, LF, CRLF) in ``ServerSentEvent/data`` become LF, and line breaks
/// in ``ServerSentEvent/id`` or ``ServerSentEvent/type`` are removed. An ID containing U+0000
/// is written, but parsers ignore it, as the standard says.
///
/// ```swift
/// var serializer = EventStreamSerializer()
/// let text = serializer.serialize(ServerSentEvent(id: "7", type: "update", data: "a\nb"))
/// // "id: 7\nevent: update\ndata: a\ndata: b\n\n"
/// ```
public struct EventStreamSerializer: Sendable {
    /// The last event ID the written text has put into effect; empty at the start of a stream.
    public private(set) var lastEventID: String

    /// Creates a serializer for a stream whose last event ID starts as `lastEventID`.
    ///
    /// - Parameter lastEventID: The ID already in effect for the reader, for example the
    ///   `Last-Event-ID` a reconnecting client sent. Empty (the default) at the start of a stream.
    public init(lastEventID: String = "") {
        self.lastEventID = lastEventID
    }

    /// Returns `event` as one block of `text/event-stream`, ending with the blank line that dispatches it.
    public mutating func serialize(_ event: ServerSentEvent) -> String {
        var text = ""
        text.reserveCapacity(event.data.utf8.count + event.type.utf8.count + event.id.utf8.count + 24)
        let id = Self.removingLineBreaks(event.id)
        if id != lastEventID {
            text += id.isEmpty ? "id\n" : "id: \(id)\n"
            lastEventID = id
        }
        let type = Self.removingLineBreaks(event.type)
        if !type.isEmpty && type != ServerSentEvent.defaultType {
            text += "event: \(type)\n"
        }
        Self.appendLines(of: event.data, prefix: "data", to: &text)
        text += "\n"
        return text
    }

    /// Returns `text` as comment lines (each line prefixed with `:`), which readers ignore.
    ///
    /// Servers send comments as heartbeats to keep idle connections alive. The text is written
    /// right after the colon, without a space, so a reader sees exactly `text`.
    public static func comment(_ text: String) -> String {
        var result = ""
        var first = true
        for line in lines(of: text) {
            if !first { result += "\n" }
            result += ":" + line
            first = false
        }
        return result + "\n"
    }

    /// Returns a `retry:` line that sets the reader's reconnection time, in whole milliseconds.
    ///
    /// Negative durations are written as 0; sub-millisecond parts are dropped.
    public static func retry(_ reconnectionTime: Duration) -> String {
        let (seconds, attoseconds) = reconnectionTime.components
        let milliseconds = max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        return "retry: \(milliseconds)\n"
    }

    private static func appendLines(of value: String, prefix: String, to text: inout String) {
        for line in lines(of: value) {
            text += line.isEmpty ? "\(prefix)\n" : "\(prefix): \(line)\n"
        }
    }

    /// Splits at CRLF, CR or LF, as the parser does; always at least one (possibly empty) line.
    private static func lines(of value: String) -> [Substring] {
        var lines: [Substring] = []
        var start = value.startIndex
        var index = value.startIndex
        // Iterating unicode scalars, not characters: "\r\n" is one Character but two scalars.
        let scalars = value.unicodeScalars
        while index < value.endIndex {
            let scalar = scalars[index]
            if scalar == "\r" || scalar == "\n" {
                lines.append(value[start..<index])
                var next = scalars.index(after: index)
                if scalar == "\r", next < value.endIndex, scalars[next] == "\n" {
                    next = scalars.index(after: next)
                }
                start = next
                index = next
            } else {
                index = scalars.index(after: index)
            }
        }
        lines.append(value[start..<value.endIndex])
        return lines
    }

    private static func removingLineBreaks(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }) else {
            return value
        }
        return String(value.unicodeScalars.filter { $0 != "\r" && $0 != "\n" })
    }
}
