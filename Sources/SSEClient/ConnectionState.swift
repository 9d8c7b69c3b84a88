import SSEParser

/// Where an ``EventSource`` is in its connection life cycle, as reported by
/// ``EventSource/states`` and ``EventSource/updates``. ``finished(_:)`` is reported by
/// ``EventSource/states`` only: ``EventSource/updates`` ends, or throws the error, instead.
public enum ConnectionState: Sendable, Hashable {
    /// A connection attempt is starting. `attempt` is the backoff attempt number (0 for the first
    /// connection and after a healthy one); `lastEventID` is sent as `Last-Event-ID` when not empty.
    case connecting(attempt: Int, lastEventID: String)
    /// The server answered with an event stream.
    case open(ResponseHead)
    /// The connection ended.
    case disconnected(DisconnectReason)
    /// A reconnect is scheduled after `delay`.
    case waitingToReconnect(delay: Duration, attempt: Int, reason: DisconnectReason)
    /// The source is done for good: `nil` when it ended as asked (204, `close()`, the end of a
    /// request-scoped stream), or the error that ended it.
    case finished(EventSourceError?)
}

/// Why a connection ended.
public enum DisconnectReason: Sendable, Hashable, CustomStringConvertible {
    /// The server ended the response body cleanly.
    case endOfStream
    /// The server said the stream is over for good: it answered `204 No Content` (or a status
    /// that ``EventSource/Hooks/classifyResponse`` answered with ``ResponseDisposition/finish``).
    case finishedByServer(status: Int)
    /// The connection failed: a network error, an idle timeout, a retryable status, a bad response.
    case failure(EventSourceError)
    /// ``EventSource/reconnect()`` asked for a fresh connection.
    case restart
    /// ``EventSource/close()`` was called, or the consuming task was cancelled.
    case closed
    /// The stream's ``EventSource/Configuration/terminator`` arrived: it is complete.
    case completed

    /// The error of a ``failure(_:)``.
    public var error: EventSourceError? {
        if case .failure(let error) = self { return error }
        return nil
    }

    /// What kind of ending this was, for ``EventSource/Metrics/reconnects``.
    public var cause: ReconnectCause {
        switch self {
        case .endOfStream, .finishedByServer, .completed: .endOfStream
        case .restart: .restart
        case .closed: .closed
        case .failure(let error):
            switch error.code {
            case .idleTimeout: .idleTimeout
            case .unexpectedStatus: .retryableStatus
            default: .networkError
            }
        }
    }

    /// A short phrase: "the server ended the stream", "no data for 5 s (idle timeout)", ….
    public var description: String {
        switch self {
        case .endOfStream: "the server ended the stream"
        case .finishedByServer(let status):
            "the server answered \(status) \(ResponseHead.reasonPhrase(for: status)): the stream is over"
        case .failure(let error): error.description
        case .restart: "a reconnect was requested"
        case .closed: "closed"
        case .completed: "the stream is complete"
        }
    }
}

/// The kinds of ``DisconnectReason``, as counter keys.
public enum ReconnectCause: String, Sendable, Hashable, CaseIterable {
    /// The server ended the stream cleanly.
    case endOfStream
    /// A network or protocol error.
    case networkError
    /// No data within the idle timeout.
    case idleTimeout
    /// A retryable status such as 429 or 503.
    case retryableStatus
    /// ``EventSource/reconnect()`` was called.
    case restart
    /// The source was closed.
    case closed
}

/// Everything an ``EventSource`` reports, in the order it happened.
public enum EventSourceUpdate: Sendable, Hashable {
    /// An event.
    case event(ServerSentEvent)
    /// A comment line (a heartbeat), with the text after the colon.
    case comment(String)
    /// The server set a new reconnection time with `retry:`.
    case retry(Duration)
    /// The connection state changed.
    ///
    /// Boxed: a state (with its response head or error) is several times the size of an
    /// event, and every update, mostly events, is as large as its largest case.
    indirect case state(ConnectionState)
}
