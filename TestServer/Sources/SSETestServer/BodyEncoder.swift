import SSEParser

/// Turns the text of an event stream into the writes that go on the wire, applying in order the byte
/// limit, the hold-back (``Scenario/holdEvents``, ``Scenario/holdBytes``), gzip, the write size and
/// delay, and the framing of a ``Scenario``.
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
    private let holdEvents: Int?
    private let holdBytes: Int?
    /// The text held back, and how many events it has.
    private var held: [UInt8] = []
    private var heldEvents = 0

    /// Whether the byte limit has been reached: everything after it is dropped.
    private(set) var isCut: Bool

    init(scenario: Scenario, gzip: Bool) {
        self.remainingBytes = scenario.dropAfterBytes
        self.gzip = gzip ? GzipStoredEncoder() : nil
        self.framing = scenario.framing
        self.writeSize = scenario.writeSize
        self.writeDelay = scenario.writeDelay
        self.isCut = scenario.dropAfterBytes == 0
        self.holdEvents = scenario.holdEvents
        self.holdBytes = scenario.holdBytes
        if case .raw = scenario.content {
            self.lineEnding = .lf
        } else {
            self.lineEnding = scenario.lineEnding
        }
    }

    /// Returns the steps that send `text` (one event when `isEvent`), or as much of it as the byte
    /// limit lets through; none while it is held back.
    mutating func encode(_ text: [UInt8], isEvent: Bool = false) -> [Step] {
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
        guard holdEvents != nil || holdBytes != nil else { return send(bytes) }
        held += bytes
        if isEvent { heldEvents += 1 }
        var steps: [Step] = []
        if let holdEvents, heldEvents >= holdEvents {
            steps += flush()
        }
        if let holdBytes {
            while held.count >= holdBytes {
                steps += send(Array(held.prefix(holdBytes)))
                held.removeFirst(holdBytes)
            }
            if held.isEmpty { heldEvents = 0 }
        }
        return steps
    }

    /// Returns the steps that send what is held back, at once.
    mutating func flush() -> [Step] {
        defer {
            held = []
            heldEvents = 0
        }
        return send(held)
    }

    /// The steps that send `bytes` as they are: compressed, split into writes and framed.
    private mutating func send(_ bytes: [UInt8]) -> [Step] {
        guard !bytes.isEmpty else { return [] }
        var bytes = bytes
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

/// The timeline of a scripted body: a prefix (`retry:` or raw bytes), then events on their
/// schedule, with heartbeat comments in between. A pure value: the connection handler pulls its steps.
///
/// Numbered events follow a ``NumberedTimeline``: event `n` goes out at `time(of: n) - offset` on
/// the script's clock (at once when that has passed). Other events go out `interval` apart, the
/// first at once.
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
    private var writer: EventWriter
    private let timeline: NumberedTimeline
    private let offset: Duration
    private let heartbeat: Duration?
    /// The time on the script's clock, which starts at zero: the sum of the waits returned so far.
    private(set) var clock: Duration = .zero
    /// When the next event that is not numbered is due.
    private var nextFixedEventAt: Duration = .zero
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

    /// Creates a script whose events go out `interval` apart, the first at once.
    init(prefix: [UInt8], events: Events, interval: Duration, heartbeat: Duration?) {
        self.init(prefix: prefix, events: events, timeline: NumberedTimeline(interval: interval), heartbeat: heartbeat)
    }

    /// Creates a script.
    ///
    /// - Parameters:
    ///   - prefix: Text sent first, at once.
    ///   - events: The events.
    ///   - timeline: When numbered events are due; its interval paces other events.
    ///   - heartbeat: The time between heartbeat comments, the first one interval after the start.
    ///   - offset: Where the script's clock starts on the timeline (a live stream's time since its
    ///     epoch); `nil` (the default) starts it at the first numbered event, which goes out at once.
    init(prefix: [UInt8], events: Events, timeline: NumberedTimeline, heartbeat: Duration?, offset: Duration? = nil) {
        self.prefix = prefix
        self.events = events
        self.timeline = timeline
        self.heartbeat = heartbeat
        self.nextHeartbeatAt = heartbeat
        if case .numbered(let next, _, let scenario) = events {
            self.offset = offset ?? timeline.time(of: next)
            self.writer = EventWriter(earlyIDEvery: scenario.earlyIDEvery)
        } else {
            self.offset = offset ?? .zero
            self.writer = EventWriter(earlyIDEvery: nil)
        }
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
        let nextEventAt = self.nextEventAt
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
        return .text(takeEvent(), isEvent: true)
    }

    /// When the next event is due on the script's clock; it may have passed.
    private var nextEventAt: Duration {
        if case .numbered(let next, _, _) = events {
            return timeline.time(of: next) - offset
        }
        return nextFixedEventAt
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
        nextFixedEventAt += timeline.interval
        switch events {
        case .numbered(let next, let last, let scenario):
            events = .numbered(next: next + 1, last: last, scenario: scenario)
            return Array(writer.write(scenario.numberedEvent(next)).utf8)
        case .fixed(var list):
            let event = list.removeFirst()
            events = .fixed(list)
            return Array(writer.write(event).utf8)
        case .rendered(var pieces):
            let piece = pieces.removeFirst()
            events = .rendered(pieces)
            return piece.text
        }
    }
}
