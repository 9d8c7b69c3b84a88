/// A seeded fault injector for the broadcast hub: each `/subscribe` connection draws one fault.
///
/// Set ``TestServer/Configuration/chaos`` and every subscriber connection gets, at random (from
/// `seed`, so a failing run can be replayed): a drop after a random number of body bytes (mid-line,
/// mid-CRLF, mid-UTF-8 as it falls), with FIN or with RST; a `503` with `Retry-After: 0`; a hang
/// before the response head (the client's idle timeout must fire); or a normal stream. With
/// ``endsConnections`` also the end of the whole connection (`GOAWAY`, or a TCP reset), which over
/// HTTP/2 ends every stream on it. The counts are in ``TestServer/injectedFaults``.
public struct Chaos: Sendable, Hashable {
    /// The seed of the fault sequence.
    public var seed: UInt64
    /// The most body bytes sent before a drop (at least 1). 2000 by default.
    public var maximumDropOffset: Int
    /// Whether some drops end the whole connection (``Fault/goAway``, ``Fault/connectionReset``)
    /// rather than the request's own stream: for HTTP/2, where a connection carries many. `false`
    /// by default (over HTTP/1.1 they are the same as the other drops).
    public var endsConnections: Bool

    /// Creates a fault injector.
    public init(seed: UInt64, maximumDropOffset: Int = 2000, endsConnections: Bool = false) {
        self.seed = seed
        self.maximumDropOffset = max(1, maximumDropOffset)
        self.endsConnections = endsConnections
    }

    /// The kinds of fault, as counter keys.
    public enum Fault: String, Sendable, Hashable, CaseIterable {
        /// A drop after some bytes, closed with FIN.
        case dropFIN
        /// A drop after some bytes, closed with RST (over HTTP/2, `RST_STREAM` of the stream).
        case dropRST
        /// A drop after some bytes, then `GOAWAY` and the connection's close (``endsConnections``).
        case goAway
        /// A drop after some bytes that resets the whole TCP connection (``endsConnections``).
        case connectionReset
        /// `503 Service Unavailable` with `Retry-After: 0`.
        case unavailable
        /// Nothing sent at all: the request is read and never answered.
        case hang
        /// No fault: the stream runs until the server stops.
        case none
    }

    /// Draws the next fault and applies it to `scenario`.
    func apply(to scenario: inout Scenario, random: inout SeededRandom) -> Fault {
        let roll = random.next() % 100
        let fault: Fault
        switch (roll, endsConnections) {
        case (0..<25, false), (0..<20, true): fault = .dropFIN
        case (25..<50, false), (20..<40, true): fault = .dropRST
        case (40..<46, true): fault = .goAway
        case (46..<52, true): fault = .connectionReset
        case (50..<60, false), (52..<60, true): fault = .unavailable
        case (60..<68, _): fault = .hang
        default: fault = .none
        }
        let drops: [Fault: Scenario.Ending] = [
            .dropFIN: .close, .dropRST: .reset, .goAway: .goAway, .connectionReset: .resetConnection,
        ]
        switch fault {
        case .dropFIN, .dropRST, .goAway, .connectionReset:
            scenario.dropAfterBytes = 1 + Int(random.next() % UInt64(maximumDropOffset))
            scenario.ending = drops[fault]
        case .unavailable:
            scenario.status = 503
            scenario.retryAfter = "0"
        case .hang:
            scenario.hang = .beforeHeaders
        case .none:
            break
        }
        return fault
    }
}

/// A small seeded random number generator (SplitMix64): the same sequence for the same seed on
/// every machine, so a failing chaos run or randomized test can be replayed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    /// The generator's state; the seed at the start.
    public var state: UInt64

    /// Creates a generator that starts from `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
