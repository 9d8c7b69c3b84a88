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
/// A source is consumed by one iteration of ``events`` or ``updates``; ``states`` can be
/// watched alongside. All transfers of the process share one I/O thread.
public final class EventSource: Sendable {
    /// The URL every connection, including every reconnect, is made to.
    public let url: String

    /// The configuration the source was created with.
    public let configuration: Configuration

    let hooks: Hooks
    let logger: Logger
    let storage: EventSourceStorage
    let driver: CurlDriver

    /// The connection states, as they change. Buffers the latest 256 if nobody is watching.
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
    /// ``EventSourceError/Code/invalidRequest(_:)``.
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

    /// Creates a source on a given driver (tests use their own to observe its thread and transfers).
    init(url: String, configuration: Configuration, hooks: Hooks, logger: Logger, driver: CurlDriver) {
        self.url = url
        self.configuration = configuration
        self.hooks = hooks
        self.logger = logger
        self.driver = driver
        let (states, continuation) = AsyncStream.makeStream(
            of: ConnectionState.self, bufferingPolicy: .bufferingNewest(256))
        self.states = states
        self.storage = EventSourceStorage(
            url: url,
            lastEventID: configuration.lastEventID,
            maximumEventSize: configuration.maximumEventSize,
            maximumQueuedBytes: max(1, configuration.maximumBufferedBytes),
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
        let (connection, task) = storage.close()
        connection?.abort(because: .closed)
        task?.cancel()
    }

    /// Drops the current connection and reconnects at once, without backoff and without
    /// reporting an error (for example after the network changed). Does nothing once closed.
    public func reconnect() {
        storage.requestRestart()?.abort(because: .restart)
    }

    /// Starts the connection loop the first time the source is iterated.
    func startIfNeeded() {
        storage.start {
            Task { [self] in await self.runConnectionLoop() }
        }
    }
}

extension EventSource {
    /// Customisation points of an ``EventSource``.
    public struct Hooks: Sendable {
        /// Called before every connection, including reconnects, with the request about to be
        /// sent; returns the request to send, for example with a fresh `Authorization` header.
        /// An error it throws ends the source with ``EventSourceError/Code/invalidRequest(_:)``.
        public var prepareRequest: (@Sendable (Request) async throws -> Request)?

        /// Decides what a response means instead of the built-in rules (see ``ResponseDisposition``);
        /// returning `nil` falls back to them.
        public var classifyResponse: (@Sendable (ResponseHead) -> ResponseDisposition?)?

        /// Waits before a reconnect. Default: `Task.sleep(for:)`. Tests inject one that records
        /// the delays and returns at once.
        public var sleep: @Sendable (Duration) async throws -> Void

        /// A random number in `[0, 1)` for the backoff jitter. Default: the system generator.
        public var random: @Sendable () -> Double

        /// Creates hooks; the defaults change nothing.
        public init(
            prepareRequest: (@Sendable (Request) async throws -> Request)? = nil,
            classifyResponse: (@Sendable (ResponseHead) -> ResponseDisposition?)? = nil,
            sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
            random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
        ) {
            self.prepareRequest = prepareRequest
            self.classifyResponse = classifyResponse
            self.sleep = sleep
            self.random = random
        }
    }

    /// One connection attempt's request, as ``Hooks/prepareRequest`` sees and may change it.
    public struct Request: Sendable, Hashable {
        /// The URL.
        public var url: String
        /// The HTTP method.
        public var method: String
        /// All request headers, including `Accept`, `Cache-Control` and `Last-Event-ID`.
        public var headers: [HTTPHeader]
        /// The body, if any.
        public var body: [UInt8]?
        /// The backoff attempt number of this connection (0 for the first).
        public let attempt: Int
    }

    /// The default `User-Agent`: `swift-sse/<version> libcurl/<version>`.
    public static var defaultUserAgent: String {
        "swift-sse/\(SwiftSSEVersion.current) libcurl/\(CurlGlobal.version)"
    }

    /// The events of an ``EventSource``. Iterate it once.
    public struct Events: AsyncSequence, Sendable {
        /// Events, in stream order.
        public typealias Element = ServerSentEvent
        /// ``EventSourceError``, the only error thrown.
        public typealias Failure = any Error

        let source: EventSource

        /// Starts the source if it is not running yet.
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(token: IterationToken(source: source))
        }

        /// Hands out the events among the source's updates, a batch at a time.
        public struct AsyncIterator: AsyncIteratorProtocol {
            let token: IterationToken
            var batch: [EventSourceUpdate] = []
            var batchIndex = 0

            /// How many events this iterator already holds: ``next()`` returns that many without
            /// waiting. A consumer that batches its own work (writes, commits) can finish a batch
            /// when this reaches zero, without adding latency.
            public var bufferedCount: Int { token.source.storage.isClosed ? 0 : batch.count - batchIndex }

            /// The next event; `nil` when the stream is finished; throws ``EventSourceError``.
            public mutating func next() async throws -> ServerSentEvent? {
                try await next(isolation: nil)
            }

            /// The next event, without leaving the caller's isolation; `nil` when the stream is
            /// finished; throws ``EventSourceError``.
            public mutating func next(isolation actor: isolated (any Actor)?) async throws -> ServerSentEvent? {
                // Events from the batch are handed out without another async call: per event,
                // that call (and its executor check) cost more than the event itself.
                while true {
                    while batchIndex < batch.count, !token.source.storage.isClosed {
                        defer { batchIndex += 1 }
                        if case .event(let event) = batch[batchIndex] { return event }
                    }
                    batch.removeAll(keepingCapacity: true)
                    batchIndex = 0
                    guard
                        try await token.source.storage.take(into: &batch, eventsOnly: true, isolation: actor)
                    else {
                        return nil
                    }
                }
            }
        }
    }

    /// Everything an ``EventSource`` reports. Iterate it once.
    public struct Updates: AsyncSequence, Sendable {
        /// Updates, in order.
        public typealias Element = EventSourceUpdate
        /// ``EventSourceError``, the only error thrown.
        public typealias Failure = any Error

        let source: EventSource

        /// Starts the source if it is not running yet.
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(token: IterationToken(source: source))
        }

        /// Takes updates from the source's buffer, a batch at a time.
        public struct AsyncIterator: AsyncIteratorProtocol {
            let token: IterationToken
            var batch: [EventSourceUpdate] = []
            var batchIndex = 0

            /// How many updates this iterator already holds: ``next()`` returns that many without
            /// waiting. A consumer that batches its own work (writes, commits) can finish a batch
            /// when this reaches zero, without adding latency.
            public var bufferedCount: Int { token.source.storage.isClosed ? 0 : batch.count - batchIndex }

            /// The next update; `nil` when the stream is finished; throws ``EventSourceError``.
            public mutating func next() async throws -> EventSourceUpdate? {
                try await next(isolation: nil)
            }

            /// The next update, without leaving the caller's isolation; `nil` when the stream is
            /// finished; throws ``EventSourceError``.
            public mutating func next(isolation actor: isolated (any Actor)?) async throws -> EventSourceUpdate? {
                while true {
                    if batchIndex < batch.count && !token.source.storage.isClosed {
                        defer { batchIndex += 1 }
                        return batch[batchIndex]
                    }
                    batch.removeAll(keepingCapacity: true)
                    batchIndex = 0
                    guard try await token.source.storage.take(into: &batch, eventsOnly: false, isolation: actor)
                    else {
                        return nil
                    }
                }
            }
        }
    }

    /// Closes the source when the last copy of an iterator goes away, which is how breaking out
    /// of a `for try await` loop stops the connection.
    final class IterationToken: Sendable {
        let source: EventSource

        init(source: EventSource) {
            self.source = source
            source.startIfNeeded()
        }

        deinit {
            source.close()
        }
    }
}
