import SSEClient

/// The kinds of ``EventSourceError`` that `sse-listen` words in its own way.
///
/// The one place the command looks inside an error's code, so that a change in the shape of the
/// library's error is ported here and nowhere else.
enum FailureKind: Sendable, Hashable {
    /// The server answered with this status.
    case status(Int)
    /// The connection could not be made or broke, with libcurl's message.
    case transport(String)
    /// Nothing arrived for this long.
    case idleTimeout(Duration)
    /// The server's certificate could not be verified, with libcurl's message.
    case tlsVerification(String)
    /// The server's certificate is for another host name, with libcurl's message.
    case tlsHostNameMismatch(String)
    /// Reconnecting was given up after `attempts`; the last failure, if the last attempt failed.
    case gaveUp(attempts: Int, lastFailure: EventSourceError?)
    /// The stream ended before its terminator (described), after `lastFailure` if one ended it.
    case truncated(expected: String?, lastFailure: EventSourceError?)
    /// The server sent an error event of this type, with this data.
    case serverError(type: String, data: String)
    /// Anything else: the library's own sentence says it.
    case other

    init(_ error: EventSourceError) {
        switch error.code {
        case .unexpectedStatus: self = .status(error.status ?? 0)
        case .transport: self = .transport(error.message ?? "")
        case .idleTimeout: self = .idleTimeout(error.timeout ?? .zero)
        case .tlsVerification: self = .tlsVerification(error.message ?? "")
        case .tlsHostNameMismatch: self = .tlsHostNameMismatch(error.message ?? "")
        case .gaveUp: self = .gaveUp(attempts: error.attempts ?? 0, lastFailure: error.lastFailure)
        case .truncated: self = .truncated(expected: error.expectedTerminator, lastFailure: error.lastFailure)
        case .serverError: self = .serverError(type: error.event?.type ?? "", data: error.event?.data ?? "")
        default: self = .other
        }
    }
}
