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
    /// Reconnecting was given up after `attempts`, the last failure worded by the library.
    case gaveUp(attempts: Int, lastFailure: String)
    /// Anything else: the library's own sentence says it.
    case other

    init(_ error: EventSourceError) {
        switch error.code {
        case .unexpectedStatus(let status): self = .status(status)
        case .transport(let message): self = .transport(message)
        case .idleTimeout(let timeout): self = .idleTimeout(timeout)
        case .tlsVerification(let message): self = .tlsVerification(message)
        case .gaveUp(let attempts, let lastFailure): self = .gaveUp(attempts: attempts, lastFailure: lastFailure)
        default: self = .other
        }
    }
}
