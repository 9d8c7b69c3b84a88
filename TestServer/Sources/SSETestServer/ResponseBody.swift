/// The body of a streamed response as a pure value: the text sent so far against the scenario's
/// limits (``Scenario/dropAfterEvents``, ``Scenario/dropAfterBytes``), encoded by a ``BodyEncoder``,
/// and how it ends (``Scenario/ending``). The connection performs the steps it returns.
struct ResponseBody: Sendable {
    /// One thing to do on the wire.
    enum Step: Equatable, Sendable {
        /// Write and flush these bytes.
        case write([UInt8])
        /// Wait before the next step.
        case wait(Duration)
        /// End the connection this way; nothing follows.
        case end(Scenario.Ending)
    }

    private var encoder: BodyEncoder
    private var eventsLeft: Int?
    /// How the response ends when its content runs out.
    private let naturalEnding: Scenario.Ending
    /// How the response ends when a limit cuts it.
    private let cutEnding: Scenario.Ending

    /// Whether the ending step has been returned: the body takes no more text.
    private(set) var isEnding = false

    init(scenario: Scenario, gzip: Bool) {
        encoder = BodyEncoder(scenario: scenario, gzip: gzip)
        eventsLeft = scenario.dropAfterEvents
        naturalEnding = scenario.ending ?? .finish
        cutEnding = scenario.ending ?? .close
    }

    /// The steps before any text: the ending, when the byte limit is zero.
    mutating func start() -> [Step] {
        encoder.isCut ? end(cut: true) : []
    }

    /// The steps that send `text` (one event when `isEvent`), as far as the limits let it, and the
    /// ending when it reaches one. Nothing once the body is ending.
    mutating func text(_ text: [UInt8], isEvent: Bool) -> [Step] {
        guard !isEnding else { return [] }
        var steps = Self.steps(encoder.encode(text, isEvent: isEvent))
        if isEvent, let left = eventsLeft {
            eventsLeft = left - 1
        }
        if encoder.isCut || eventsLeft == 0 {
            steps += end(cut: true)
        }
        return steps
    }

    /// The steps that end the body: what is held back, the proper end of the response (gzip
    /// trailer, last chunk) when the ending is ``Scenario/Ending/finish``, then the ending itself.
    /// Nothing when already ending.
    mutating func end(cut: Bool) -> [Step] {
        guard !isEnding else { return [] }
        isEnding = true
        let ending = cut ? cutEnding : naturalEnding
        // A buffering proxy passes on what it holds when the upstream ends, however it ends.
        var steps = Self.steps(encoder.flush())
        if ending == .finish {
            let bytes = encoder.finish()
            if !bytes.isEmpty { steps.append(.write(bytes)) }
        }
        steps.append(.end(ending))
        return steps
    }

    private static func steps(_ steps: [BodyEncoder.Step]) -> [Step] {
        steps.map { step in
            switch step {
            case .write(let bytes): .write(bytes)
            case .wait(let duration): .wait(duration)
            }
        }
    }
}
