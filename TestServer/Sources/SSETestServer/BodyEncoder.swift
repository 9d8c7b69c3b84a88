import SSEParser

/// Turns the text of an event stream into the writes that go on the wire, applying in order the byte
/// limit, gzip, the write size and delay, and the framing of a ``Scenario``.
///
/// A pure value: the connection handler performs the steps it returns.
struct BodyEncoder {
    /// One thing to do on the wire.
    enum Step: Equatable {
        /// Write and flush these bytes.
        case write([UInt8])
        /// Wait before the next step.
        case wait(Duration)
    }

    private var remainingBytes: Int?
    private var gzip: GzipStoredEncoder?
    private let framing: Scenario.Framing
    private let writeSize: Int?
    private let writeDelay: Duration
    private var hasWritten = false
    private let lineEnding: Scenario.LineEnding

    /// Whether the byte limit has been reached: everything after it is dropped.
    private(set) var isCut: Bool

    init(scenario: Scenario, gzip: Bool) {
        self.remainingBytes = scenario.dropAfterBytes
        self.gzip = gzip ? GzipStoredEncoder() : nil
        self.framing = scenario.framing
        self.writeSize = scenario.writeSize
        self.writeDelay = scenario.writeDelay
        self.isCut = scenario.dropAfterBytes == 0
        if case .raw = scenario.content {
            self.lineEnding = .lf
        } else {
            self.lineEnding = scenario.lineEnding
        }
    }

    /// Returns the steps that send `text`, or as much of it as the byte limit lets through.
    mutating func encode(_ text: [UInt8]) -> [Step] {
        guard !isCut, !text.isEmpty else { return [] }
        var bytes = text
        if lineEnding != .lf {
            // Generated text uses LF only (data never contains CR), so each LF is one line ending.
            let newline: [UInt8] = lineEnding == .crlf ? [0x0D, 0x0A] : [0x0D]
            bytes = bytes.flatMap { $0 == 0x0A ? newline : [$0] }
        }
        if let remaining = remainingBytes {
            if bytes.count >= remaining {
                bytes.removeSubrange(remaining...)
                isCut = true
            }
            remainingBytes = remaining - bytes.count
        }
        if gzip != nil {
            bytes = gzip!.compress(bytes)
        }
        var steps: [Step] = []
        let size = writeSize ?? max(bytes.count, 1)
        var start = 0
        while start < bytes.count {
            let end = min(start + size, bytes.count)
            if hasWritten && writeDelay > .zero {
                steps.append(.wait(writeDelay))
            }
            steps.append(.write(frame(bytes[start..<end])))
            hasWritten = true
            start = end
        }
        return steps
    }

    /// Returns the bytes that end the response properly: the gzip trailer and the last chunk.
    mutating func finish() -> [UInt8] {
        var bytes: [UInt8] = []
        if gzip != nil {
            bytes += frame(gzip!.finish()[...])
        }
        if framing == .chunked {
            bytes += Array("0\r\n\r\n".utf8)
        }
        return bytes
    }

    private func frame(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        switch framing {
        case .connectionClose:
            return Array(bytes)
        case .chunked:
            return Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10]
        }
    }
}

/// The timeline of a scripted body: a prefix (`retry:` or raw bytes), then events `interval` apart,
/// with heartbeat comments in between. A pure value: the connection handler pulls its steps.
struct StreamScript {
    /// One thing the body does next.
    enum Step: Equatable {
        /// Send this text; `isEvent` tells whether it is one event (for the event limit).
        case text([UInt8], isEvent: Bool)
        /// Wait before the next step.
        case wait(Duration)
        /// The content has run out.
        case end
    }

    private var prefix: [UInt8]
    private var events: Events
    private var serializer = EventStreamSerializer()
    private let interval: Duration
    private let heartbeat: Duration?
    private var clock: Duration = .zero
    private var nextEventAt: Duration = .zero
    private var nextHeartbeatAt: Duration?

    /// Where the events come from.
    enum Events {
        /// Numbered events `next...last` (endless when `last` is `nil`).
        case numbered(next: Int, last: Int?, scenario: Scenario)
        /// These events, in order.
        case fixed([ServerSentEvent])
        /// Text written beforehand (a model stream's), in order: each event waits for its turn in
        /// the timeline; a comment between two events goes out at once, right after the first.
        case rendered([Piece])
    }

    /// A piece of ``Events/rendered(_:)`` text.
    struct Piece: Equatable, Sendable {
        /// The text as it goes on the wire (before line endings, limits and framing).
        var text: [UInt8]
        /// Whether it is one event (for the event limit); otherwise a comment.
        var isEvent: Bool
    }

    init(prefix: [UInt8], events: Events, interval: Duration, heartbeat: Duration?) {
        self.prefix = prefix
        self.events = events
        self.interval = interval
        self.heartbeat = heartbeat
        self.nextHeartbeatAt = heartbeat
    }

    mutating func next() -> Step {
        if !prefix.isEmpty {
            defer { prefix = [] }
            return .text(prefix, isEvent: false)
        }
        guard hasEvent else { return .end }
        if case .rendered(var pieces) = events, let piece = pieces.first, !piece.isEvent {
            pieces.removeFirst()
            events = .rendered(pieces)
            return .text(piece.text, isEvent: false)
        }
        if let heartbeatAt = nextHeartbeatAt, let heartbeat, heartbeatAt < nextEventAt {
            if clock < heartbeatAt {
                defer { clock = heartbeatAt }
                return .wait(heartbeatAt - clock)
            }
            nextHeartbeatAt = heartbeatAt + heartbeat
            return .text(Array(EventStreamSerializer.comment("").utf8), isEvent: false)
        }
        if clock < nextEventAt {
            defer { clock = nextEventAt }
            return .wait(nextEventAt - clock)
        }
        nextEventAt += interval
        return .text(takeEvent(), isEvent: true)
    }

    private var hasEvent: Bool {
        switch events {
        case .numbered(let next, let last, _): last.map { next <= $0 } ?? true
        case .fixed(let list): !list.isEmpty
        case .rendered(let pieces): !pieces.isEmpty
        }
    }

    /// The text of the next event.
    private mutating func takeEvent() -> [UInt8] {
        switch events {
        case .numbered(let next, let last, let scenario):
            events = .numbered(next: next + 1, last: last, scenario: scenario)
            return Array(serializer.serialize(scenario.numberedEvent(next)).utf8)
        case .fixed(var list):
            let event = list.removeFirst()
            events = .fixed(list)
            return Array(serializer.serialize(event).utf8)
        case .rendered(var pieces):
            let piece = pieces.removeFirst()
            events = .rendered(pieces)
            return piece.text
        }
    }
}
