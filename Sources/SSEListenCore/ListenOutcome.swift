import SSEClient

/// How a run of `sse-listen` ended. The one mapping from outcome to exit status is ``exitCode``.
public enum ListenOutcome: Sendable, Hashable {
    /// `--max-events` events were printed.
    case maxEventsReached(Int)
    /// The stream ended for good without an error: the server answered 204, or it ended the
    /// stream and no reconnect was allowed (`--no-reconnect`, a POST).
    case streamEnded
    /// `--timeout` was reached after the stream had been open at some point.
    case timedOut(Duration)
    /// `--timeout` was reached and the stream was never open: the server was down, refused or
    /// failed every attempt (the last failure, if any attempt got that far), or never answered.
    case timedOutBeforeOpen(Duration, lastFailure: EventSourceError?)
    /// Standard output was closed by its reader (`| head`).
    case outputClosed
    /// A signal (SIGINT, SIGTERM) asked the program to stop.
    case interrupted(signal: Int32)
    /// The stream failed for good: a fatal answer, or reconnecting was given up.
    case failed(EventSourceError)
    /// A usage error, including a state file that cannot be read or written.
    case usageError(ListenError)

    /// The exit status: 0 when ended as asked, 1 for usage errors, 2 when the stream failed (or
    /// never opened before `--timeout`), 3 when it ended before its `--until` terminator,
    /// 128 + the signal number when interrupted (130 for SIGINT, 143 for SIGTERM).
    public var exitCode: Int32 {
        switch self {
        case .maxEventsReached, .streamEnded, .timedOut, .outputClosed: 0
        case .usageError: 1
        case .failed(let error) where error.code == .truncated: 3
        case .failed, .timedOutBeforeOpen: 2
        case .interrupted(let signal): 128 + signal
        }
    }
}
