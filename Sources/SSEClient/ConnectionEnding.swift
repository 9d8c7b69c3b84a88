/// How one connection attempt ended: the one internal form, from which the reconnect decision
/// and the public ``DisconnectReason`` are derived.
enum ConnectionEnding: Sendable, Hashable {
    /// The server ended the body cleanly.
    case endOfStream
    /// The server said the stream is over (204, or a hook's ``ResponseDisposition/finish``).
    case finishedByServer(status: Int)
    /// A failure worth retrying; `retryAfter` from a 429/5xx answer, if any.
    case failure(EventSourceError, retryAfter: Duration?)
    /// A failure that no reconnect fixes.
    case fatal(EventSourceError)
    /// ``EventSource/reconnect()`` asked for a fresh connection.
    case restart
    /// The source was closed.
    case closed
    /// The consumer saw the stream's terminator.
    case completed

    /// How a transfer ended as libcurl saw it, for a request to `url`: the one place a
    /// transfer's failure becomes an ``EventSourceError`` and is judged retryable or not.
    init(_ completion: TransferCompletion, url: String, idleTimeout: Duration?, headTimeout: Duration) {
        switch completion {
        case .finished:
            self = .endOfStream
        case .aborted:
            self = .closed
        case .idleTimedOut:
            self = .failure(EventSourceError.idleTimeout(idleTimeout ?? .zero, url: url), retryAfter: nil)
        case .headTimedOut:
            self = .failure(EventSourceError.responseTimeout(headTimeout, url: url), retryAfter: nil)
        case .failed(let failure):
            let error = EventSourceError(failure, url: url)
            self = error.isTransient ? .failure(error, retryAfter: nil) : .fatal(error)
        }
    }

    /// The same ending, its error carrying the body of the answer that caused it.
    func withResponseBody(_ body: [UInt8]?) -> ConnectionEnding {
        switch self {
        case .failure(let error, let retryAfter): .failure(error.withResponseBody(body), retryAfter: retryAfter)
        case .fatal(let error): .fatal(error.withResponseBody(body))
        default: self
        }
    }

    /// The public form.
    var reason: DisconnectReason {
        switch self {
        case .endOfStream: .endOfStream
        case .finishedByServer(let status): .finishedByServer(status: status)
        case .failure(let error, _), .fatal(let error): .failure(error)
        case .restart: .restart
        case .closed: .closed
        case .completed: .completed
        }
    }
}

extension EventSourceError {
    /// The error a failed transfer means.
    init(_ failure: TransferFailure, url: String) {
        switch failure.kind {
        case .transport: self = .transport(failure.message, url: url)
        case .tlsVerification: self = .tlsVerification(failure.message, url: url)
        case .tlsHostNameMismatch: self = .tlsHostNameMismatch(failure.message, url: url)
        case .redirect: self = .redirect(failure.message, url: url)
        case .invalidRequest: self = .invalidRequest(failure.message, url: url)
        // The tunnel's answer counts as the answer: a 407 is fatal, a 503 from the proxy retried.
        case .proxyRefused(let status): self = .unexpectedStatus(status, url: url)
        }
    }
}
