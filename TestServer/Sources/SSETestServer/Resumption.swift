/// Where a stream with numeric IDs (the numbered stream, the hub) starts for one request: what its
/// `Last-Event-ID` names, read through the scenario's ``Scenario/Replay``. A pure value.
enum Resumption: Equatable, Sendable {
    /// As a fresh connection: no `Last-Event-ID`, or an unknown one that is not refused.
    case fresh
    /// After the newest event the stream has issued, whatever the request names (``Scenario/Replay/newest``).
    case newest
    /// At this ID.
    case from(Int)
    /// The request names an ID the stream never issued.
    case unknown

    /// The largest ID a request can name; beyond it every ID is unknown, so `n + 2` cannot overflow.
    static let largestID = Int.max / 2

    /// Reads a request's `Last-Event-ID`.
    ///
    /// - Parameters:
    ///   - lastEventID: The request's `Last-Event-ID`, if any.
    ///   - replay: How the scenario replays.
    ///   - newest: The highest ID the stream has issued (0 for none); `nil` when every number is
    ///     one of its IDs (the numbered stream, whose event `n` is defined for every `n`).
    init(lastEventID: String?, replay: Scenario.Replay, newest: Int?) {
        guard let lastEventID else {
            self = .fresh
            return
        }
        guard let n = Int(lastEventID), n >= 0, n <= min(newest ?? Self.largestID, Self.largestID) else {
            self = .unknown
            return
        }
        switch replay {
        case .resume: self = .from(n + 1)
        case .repeatLast: self = .from(max(n, 1))
        case .skipOne: self = .from(n + 2)
        case .newest: self = .newest
        }
    }

    /// The first number of a numbered stream, or `nil` when the request is refused (an unknown ID
    /// under ``Scenario/unknownIDStatus``).
    ///
    /// - Parameters:
    ///   - lastEventID: The request's `Last-Event-ID`, if any.
    ///   - scenario: The scenario: its replay, history, count and unknown-ID status.
    ///   - head: The highest number sent under the scenario's key, if any.
    ///   - due: For a live stream, how many events are due now; `nil` otherwise.
    static func firstNumber(lastEventID: String?, scenario: Scenario, head: Int?, due: Int?) -> Int? {
        // A live stream has issued what is due; a stream that refuses unknown IDs counts what it sent.
        let issued = due ?? (scenario.unknownIDStatus != nil ? min(head ?? 0, scenario.count ?? Int.max) : nil)
        let fresh = due.map { $0 + 1 } ?? 1
        switch Resumption(lastEventID: lastEventID, replay: scenario.replay, newest: issued) {
        case .fresh:
            return fresh
        case .unknown:
            return scenario.unknownIDStatus == nil ? fresh : nil
        case .newest:
            return (due ?? head ?? 0) + 1
        case .from(let first):
            // A bounded history holds the last `history` events issued; an older ID leaves a gap.
            guard let history = scenario.history, let newest = due ?? head else { return first }
            return max(first, newest - history + 1)
        }
    }

    /// Where the hub starts a subscriber.
    ///
    /// - Parameters:
    ///   - lastEventID: The request's `Last-Event-ID`, if any.
    ///   - scenario: The scenario: its replay and unknown-ID status.
    ///   - newest: The hub's newest ID (0 before the first message).
    static func hubStart(lastEventID: String?, scenario: Scenario, newest: Int) -> HubStart {
        switch Resumption(lastEventID: lastEventID, replay: scenario.replay, newest: newest) {
        case .fresh, .newest: .newOnly
        case .unknown: scenario.unknownIDStatus == nil ? .newOnly : .refused
        case .from(let first): .after(first - 1)
        }
    }
}

/// Where the hub starts a subscriber.
enum HubStart: Equatable, Sendable {
    /// Replay the held messages whose IDs are above this, and send only such messages later.
    case after(Int)
    /// Replay nothing: send the messages published from now on.
    case newOnly
    /// Answer ``Scenario/unknownIDStatus`` instead.
    case refused
}
