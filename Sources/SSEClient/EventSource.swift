import Logging
import SSEParser
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A resilient Server-Sent Events client over libcurl.
///
/// ```swift
/// let source = EventSource(url: URL(string: "https://example.com/stream")!)
/// for try await event in source.events {
///     print(event.type, event.id, event.data)
/// }
/// ```
///
/// The source connects when you start iterating ``events`` (or ``updates``), then keeps the
/// stream alive: when a connection ends or fails it reconnects with exponential backoff and
/// jitter (``ReconnectPolicy``), resuming with `Last-Event-ID` so that a server that replays
/// from it loses no event; it honours the server's `retry:`, treats a silent connection as dead
/// after ``Configuration/idleTimeout``, and classifies answers: 204 ends the stream, 5xx/408/429
/// are retried (honouring `Retry-After`), other 4xx and a wrong `Content-Type` end it with an
/// ``EventSourceError``.
///
/// The sequence ends normally when the stream is finished for good (204, ``close()``, a clean
/// end with ``EndOfStreamPolicy/finish``), and throws on a fatal failure. Cancelling the
/// iterating task, breaking out of the loop, or calling ``close()`` aborts the transfer at once
/// and stops all reconnects.
///
/// A source is consumed through one iterator of ``events`` or ``updates`` over its life; a
/// second one fails at once with ``EventSourceError/Code/alreadyIterated``, and ``states`` can be
/// watched alongside. The iterator parses what the I/O thread received, so a consumer that
/// stops reading also holds back the reconnect after a drop until it reads again: the next
/// request's `Last-Event-ID` and `retry:` then reflect every byte received. All transfers of the
/// process share one I/O thread.
public final class EventSource: Sendable {
    /// The URL every connection, including every reconnect, is made to.
    public let url: String

    /// The configuration the source was created with.
    public let configuration: Configuration

    let storage: EventSourceStorage

    /// The connection states, as they change. Buffers the latest 256 while nobody is watching
    /// (``Configuration/maximumBufferedStates``).
    public let states: AsyncStream<ConnectionState>

    /// Creates a source for `url`. Nothing is sent until ``events`` or ``updates`` is iterated.
    ///
    /// - Parameters:
    ///   - url: An `http` or `https` URL.
    ///   - configuration: How to connect and reconnect; ``Configuration/default`` unless given.
    ///   - hooks: Customisation points (request and response hooks, clock, randomness).
    ///   - logger: Where connection events are logged; nothing is logged by default.
    public convenience init(
        url: URL,
        configuration: Configuration = .default,
        hooks: Hooks = Hooks(),
        logger: Logger = Logger(label: "sse", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.init(url: url.absoluteString, configuration: configuration, hooks: hooks, logger: logger)
    }

    /// Creates a source for the URL in `url`. Nothing is sent until ``events`` or ``updates`` is
    /// iterated; a URL libcurl cannot use makes the first iteration throw
    /// ``EventSourceError/Code/invalidRequest``.
    ///
    /// - Parameters:
    ///   - url: An `http` or `https` URL.
    ///   - configuration: How to connect and reconnect; ``Configuration/default`` unless given.
    ///   - hooks: Customisation points (request and response hooks, clock, randomness).
    ///   - logger: Where connection events are logged; nothing is logged by default.
    public convenience init(
        url: String,
        configuration: Configuration = .default,
        hooks: Hooks = Hooks(),
        logger: Logger = Logger(label: "sse", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.init(url: url, configuration: configuration, hooks: hooks, logger: logger, driver: .shared)
    }

    /// Creates a source in a given environment (tests use a clock that records the reconnect
    /// delays and returns at once).
    package convenience init(
        url: String,
        configuration: Configuration = .default,
        hooks: Hooks = Hooks(),
        environment: Environment
    ) {
        self.init(
            url: url, configuration: configuration, hooks: hooks,
            logger: Logger(label: "sse", factory: { _ in SwiftLogNoOpLogHandler() }), driver: .shared,
            environment: environment)
    }

    /// Creates a source on a given driver (tests use their own to observe its thread and transfers).
    init(
        url: String, configuration: Configuration, hooks: Hooks, logger: Logger, driver: CurlDriver,
        environment: Environment = .system
    ) {
        self.url = url
        self.configuration = configuration
        let (states, continuation) = AsyncStream.makeStream(
            of: ConnectionState.self, bufferingPolicy: .bufferingNewest(max(0, configuration.maximumBufferedStates)))
        self.states = states
        self.storage = EventSourceStorage(
            url: url,
            configuration: configuration,
            hooks: hooks,
            logger: logger,
            driver: driver,
            environment: environment,
            states: continuation
        )
    }

    deinit {
        close()
    }

    /// The events of the stream, across reconnects, each delivered once and in order.
    public var events: Events { Events(source: self) }

    /// Everything the source reports, in order: events, comments (heartbeats), `retry:` changes
    /// and connection states. An alternative to ``events`` for callers that need all of it.
    public var updates: Updates { Updates(source: self) }

    /// The last event ID received (or configured), which the next connection sends as `Last-Event-ID`.
    public var lastEventID: String {
        storage.lastEventID
    }

    /// Counters since the source was created.
    public var metrics: Metrics {
        storage.metrics
    }

    /// Stops the source: aborts the current transfer, cancels any reconnect, and ends the
    /// sequences normally (events not yet consumed are dropped). Safe to call more than once,
    /// from any thread.
    public func close() {
        storage.close()
    }

    /// Drops the current connection and reconnects at once, without backoff and without
    /// reporting an error (for example after the network changed). Does nothing once closed.
    public func reconnect() {
        storage.restart()
    }

    /// ``reconnect()``, closing the connection with a TCP reset (`SO_LINGER` 0) instead of a
    /// FIN when `reset`: how `sse-listen load --reset` churns a server.
    package func reconnect(resettingConnection reset: Bool) {
        storage.restart(resettingConnection: reset)
    }
}
