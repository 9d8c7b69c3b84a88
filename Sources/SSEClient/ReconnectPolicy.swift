/// When and how fast an ``EventSource`` reconnects after a connection ends or fails.
///
/// The delay before reconnect attempt *n* is
///
///     base    = the server's latest `retry:` value, or initialDelay if it sent none
///     base'   = n ≥ 2 ? max(base, minimumRepeatDelay) : base
///     d       = min(cap, base' × multiplier^(n − 1)),  cap = max(maximumDelay, the server's retry:)
///     delay   = d × (1 − jitter × r)   with the client's own base (initialDelay),
///               d × (1 + jitter × r)   with the server's `retry:`, never sooner than it asked;
///     r uniform in [0, 1)
///
/// and a `Retry-After` from a 429 or 5xx answer raises it to at least that long, capped at
/// `maximumDelay`. Attempt *n* counts the connections since the last one that made progress:
///
/// | the connection that ended…                          | next delay |
/// |-----------------------------------------------------|------------|
/// | delivered new events (then closed, cleanly or not)  | attempt 1: the base, with jitter |
/// | delivered nothing new (refused, 503, closed at once) | the next attempt: doubled, at least `minimumRepeatDelay` from the 2nd |
/// | was dropped by ``EventSource/reconnect()``          | none: at once, attempt unchanged |
///
/// A poll-style server that sends an event or two and closes (serverless hosts, MCP's polling)
/// is thus met again after its `retry:` every time, as a browser would, while one that accepts
/// and closes without events, even with `retry: 0`, gets growing delays rather than a tight loop.
/// "New" events move the last event ID on (or, for a stream without IDs, any event): a server
/// that replays the same event every time makes no progress. With the defaults (base 1 s):
///
/// | attempt | delay, base 1 s | delay, server's `retry: 2000` |
/// |---------|-----------------|-------------------------------|
/// | 1       | 0.5 – 1 s       | 2 – 3 s                       |
/// | 2       | 1 – 2 s         | 4 – 6 s                       |
/// | 3       | 2 – 4 s         | 8 – 12 s                      |
/// | 4       | 4 – 8 s         | 16 – 24 s                     |
/// | 5       | 8 – 16 s        | 30 – 45 s                     |
/// | 6 and on| 15 – 30 s       | 30 – 45 s                     |
public struct ReconnectPolicy: Sendable, Hashable {
    /// Whether the source reconnects at all. Default: `true`. When `false`, a clean end of the
    /// stream finishes the source and a failure ends it with that failure.
    public var isEnabled: Bool

    /// The base delay until the server sends `retry:`. Default: 1 s.
    public var initialDelay: Duration

    /// The longest delay between attempts, also the cap on `Retry-After`. Default: 30 s.
    public var maximumDelay: Duration

    /// The factor by which the delay grows with each consecutive attempt. Default: 2.
    public var multiplier: Double

    /// The fraction of each delay that is randomised, from 0 (none) to 1: the delay is drawn
    /// from `[d × (1 − jitter), d]` with the client's own base, and from `[d, d × (1 + jitter)]`
    /// when the server set it with `retry:`, so it is never shorter than the server asked.
    /// Default: 0.5, so clients that lost the same server do not come back in lockstep.
    public var jitter: Double

    /// The smallest base from the second consecutive attempt on, so a `retry: 0` cannot turn a
    /// failing server into a flood of reconnects. Default: 100 ms.
    public var minimumRepeatDelay: Duration

    /// After how many consecutive failed attempts (connections that delivered no event) to give
    /// up with ``EventSourceError/Code/gaveUp``; `nil` never gives up.
    /// Default: `nil`.
    public var maximumAttempts: Int?

    /// How long a streak of failed attempts may last before giving up; `nil` never gives up.
    /// Default: `nil`.
    public var maximumElapsed: Duration?

    /// Creates a policy; see each property for its default.
    public init(
        isEnabled: Bool = true,
        initialDelay: Duration = .seconds(1),
        maximumDelay: Duration = .seconds(30),
        multiplier: Double = 2,
        jitter: Double = 0.5,
        minimumRepeatDelay: Duration = .milliseconds(100),
        maximumAttempts: Int? = nil,
        maximumElapsed: Duration? = nil
    ) {
        self.isEnabled = isEnabled
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = multiplier
        self.jitter = jitter
        self.minimumRepeatDelay = minimumRepeatDelay
        self.maximumAttempts = maximumAttempts
        self.maximumElapsed = maximumElapsed
    }

    /// The defaults: reconnect forever, 1 s initial delay doubling to at most 30 s, half jitter.
    public static let `default` = ReconnectPolicy()

    /// Never reconnect.
    public static let disabled = ReconnectPolicy(isEnabled: false)

    /// The delay before reconnect attempt `attempt` (1-based) with base delay `base`, for a
    /// random number `random` in `[0, 1)`; `setByServer` when `base` is the server's `retry:`.
    /// See the formula in the type's documentation.
    public func delay(attempt: Int, base: Duration, setByServer: Bool = false, random: Double) -> Duration {
        let attempt = max(1, attempt)
        var baseSeconds = max(0, base.seconds)
        let maximum = max(0, maximumDelay.seconds, setByServer ? baseSeconds : 0)
        if attempt >= 2 {
            baseSeconds = max(baseSeconds, minimumRepeatDelay.seconds)
        }
        var seconds = min(maximum, baseSeconds)
        var step = 1
        while step < attempt && seconds < maximum {
            seconds = min(maximum, seconds * max(1, multiplier))
            step += 1
        }
        let jitter = min(1, max(0, jitter))
        let random = min(max(random, 0), 1)
        let factor = setByServer ? 1 + jitter * random : 1 - jitter * random
        // Whole nanoseconds, so that 0.1 s × 2^4 is exactly 1.6 s.
        let nanoseconds = (seconds * factor * 1e9).rounded()
        return .nanoseconds(nanoseconds < 9.2e18 ? Int64(nanoseconds) : Int64.max)
    }
}

/// The reconnect decisions of one ``EventSource``: a pure state machine fed with how each
/// connection ended, returning what to do next. No clocks, sockets or randomness of its own.
struct ReconnectStateMachine: Sendable {
    /// What one connection achieved.
    struct Summary: Sendable {
        /// Whether it delivered new events: progress, after which the backoff starts over.
        var deliveredEvent: Bool
        /// Whether it opened a stream (a response head that was accepted).
        var wasOpen: Bool
    }

    /// What to do next.
    enum Decision: Sendable, Equatable {
        /// Reconnect after `delay`; `attempt` is the backoff attempt number.
        case reconnect(delay: Duration, attempt: Int)
        /// Stop: the stream is complete.
        case finish
        /// Stop with an error.
        case fail(EventSourceError)
    }

    let policy: ReconnectPolicy
    let mayRepeatRequest: Bool
    let endOfStream: EventSource.EndOfStreamPolicy
    /// The declared terminator's description: a stream that ends without it is incomplete.
    let expectedTerminator: String?
    /// Whether a hook continues the stream when the request itself must not be repeated.
    let canResume: Bool
    /// For the "gave up" error.
    let url: String

    /// The server's latest `retry:` value.
    private(set) var serverRetry: Duration?
    /// Backoff attempts since the last connection that made progress.
    private(set) var attempt = 0
    /// Consecutive connections that delivered no event, for the give-up limits.
    private(set) var failedAttempts = 0
    /// When the current streak of failed attempts began, in the caller's time.
    private var streakStart: Duration?
    /// Whether any connection opened a stream: only a stream that started can be truncated.
    private var hasOpened = false

    init(
        policy: ReconnectPolicy, mayRepeatRequest: Bool, endOfStream: EventSource.EndOfStreamPolicy,
        expectedTerminator: String? = nil, canResume: Bool = false, url: String
    ) {
        self.policy = policy
        self.mayRepeatRequest = mayRepeatRequest
        self.endOfStream = endOfStream
        self.expectedTerminator = expectedTerminator
        self.canResume = canResume
        self.url = url
    }

    /// Whether another connection may continue the stream.
    private var mayContinue: Bool {
        policy.isEnabled && (mayRepeatRequest || canResume)
    }

    /// Records a `retry:` field from the server.
    mutating func serverRequestedRetry(_ delay: Duration) {
        serverRetry = delay
    }

    /// Decides what follows a connection that ended as `ending` after achieving `summary`.
    ///
    /// - Parameters:
    ///   - now: The current time on any monotonic clock, for the give-up time limit.
    ///   - random: A number in `[0, 1)` for the jitter.
    mutating func decide(after ending: ConnectionEnding, summary: Summary, now: Duration, random: Double) -> Decision {
        if summary.wasOpen { hasOpened = true }
        if summary.deliveredEvent {
            failedAttempts = 0
            streakStart = nil
            attempt = 0
        }

        switch ending {
        case .closed, .finishedByServer, .completed:
            return .finish
        case .fatal(let error):
            return .fail(error)
        case .restart:
            return .reconnect(delay: .zero, attempt: attempt)
        case .endOfStream:
            // A declared terminator that has not come means the stream is not over, whatever
            // the end-of-stream policy says.
            if expectedTerminator == nil && (endOfStream == .finish || !mayContinue) {
                return .finish
            }
            if !mayContinue {
                return .fail(.truncated(expectedTerminator: expectedTerminator, lastFailure: nil, url: url))
            }
        case .failure(let error, _):
            if !mayContinue {
                // A broken connection of a started stream leaves its answer incomplete; the
                // server's own error event says more than "truncated" would.
                let truncates = expectedTerminator != nil && hasOpened && error.code != .serverError
                return .fail(
                    truncates
                        ? .truncated(expectedTerminator: expectedTerminator, lastFailure: error, url: url) : error)
            }
        }

        if !summary.deliveredEvent {
            failedAttempts += 1
            if streakStart == nil { streakStart = now }
            let lastFailure: EventSourceError?
            if case .failure(let error, _) = ending { lastFailure = error } else { lastFailure = nil }
            if let maximum = policy.maximumAttempts, failedAttempts > maximum {
                return .fail(.gaveUp(attempts: failedAttempts, lastFailure: lastFailure, url: url))
            }
            if let maximum = policy.maximumElapsed, let streakStart, now - streakStart >= maximum {
                return .fail(.gaveUp(attempts: failedAttempts, lastFailure: lastFailure, url: url))
            }
        }

        attempt += 1
        var delay = policy.delay(
            attempt: attempt, base: serverRetry ?? policy.initialDelay, setByServer: serverRetry != nil, random: random)
        if case .failure(_, let retryAfter?) = ending {
            // Capped, but never below what the server's `retry:` asked for.
            delay = min(max(delay, retryAfter), max(policy.maximumDelay, delay))
        }
        return .reconnect(delay: delay, attempt: attempt)
    }
}
