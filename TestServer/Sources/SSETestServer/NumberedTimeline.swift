/// When each event of the numbered stream is due: event `n` at `n × interval`, plus one
/// `silence` for each multiple of `silenceEvery` below `n`. A pure value.
///
/// A live stream (``Scenario/isLive``) reads it from the epoch its clients share, so
/// ``dueCount(at:)`` says which events exist at a moment; any other numbered stream reads it from
/// its first event, which goes out at once.
///
/// | `interval` 100 ms, `silence` 1 s, `silenceEvery` 3 | 1 | 2 | 3 | 4 | 5 | 6 | 7 |
/// | --- | --- | --- | --- | --- | --- | --- | --- |
/// | time of event | 0.1 s | 0.2 s | 0.3 s | 1.4 s | 1.5 s | 1.6 s | 2.7 s |
struct NumberedTimeline: Sendable, Hashable {
    /// The time between two events.
    var interval: Duration
    /// The pause after every ``silenceEvery``-th event, on top of the interval.
    var silence: Duration = .zero
    /// Which event numbers a silence follows: the multiples of this, at least 1.
    var silenceEvery: Int = 1

    /// The time of event `n` (`n >= 1`).
    func time(of n: Int) -> Duration {
        let silences = Int128(max(n - 1, 0) / max(silenceEvery, 1))
        return Self.duration(attoseconds: Int128(n) * Self.attoseconds(interval) + silences * Self.attoseconds(silence))
    }

    /// How many events are due at `elapsed`: the highest `n` whose time is at most `elapsed`; 0
    /// before the first. The interval must be above zero.
    func dueCount(at elapsed: Duration) -> Int {
        let interval = Self.attoseconds(interval)
        precondition(interval > 0, "a live timeline needs an interval above zero")
        let elapsed = Self.attoseconds(elapsed)
        guard elapsed > 0 else { return 0 }
        let every = Int128(max(silenceEvery, 1))
        // Events come in periods of `every` events and one silence: event p × every + j (j in
        // 1...every) is due at p × period + j × interval.
        let period = every * interval + Self.attoseconds(silence)
        let periods = elapsed / period
        let rest = elapsed - periods * period
        return Int(clamping: periods * every + min(every, rest / interval))
    }

    private static func attoseconds(_ duration: Duration) -> Int128 {
        let (seconds, attoseconds) = duration.components
        return Int128(seconds) * 1_000_000_000_000_000_000 + Int128(attoseconds)
    }

    private static func duration(attoseconds: Int128) -> Duration {
        let (seconds, rest) = attoseconds.quotientAndRemainder(dividingBy: 1_000_000_000_000_000_000)
        return Duration(secondsComponent: Int64(clamping: seconds), attosecondsComponent: Int64(rest))
    }
}
