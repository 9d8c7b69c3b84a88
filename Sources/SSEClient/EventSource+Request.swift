import CoreMetrics
import SSEParser
import Tracing

extension EventSource {
    /// Customisation points of an ``EventSource``.
    public struct Hooks: Sendable {
        /// Called before every connection, including reconnects, with the request about to be
        /// sent; returns the request to send, for example with a fresh `Authorization` header.
        /// An error it throws ends the source with ``EventSourceError/Code/invalidRequest``.
        public var prepareRequest: (@Sendable (Request) async throws -> Request)?

        /// Decides what a response means instead of the built-in rules (see ``ResponseDisposition``);
        /// returning `nil` falls back to them.
        public var classifyResponse: (@Sendable (ResponseHead) -> ResponseDisposition?)?

        /// Continues a stream whose connection dropped before it was complete: called before
        /// every reconnect after the first connection, with what is known
        /// (``Resumption``), it returns the request that continues the same logical stream
        /// (another method and URL if need be), or `nil` to end it as
        /// ``EventSourceError/Code/truncated``. ``prepareRequest`` then runs on that request as
        /// on any other.
        ///
        /// With it, a request that must not be repeated (a POST) is resumed instead of ending:
        ///
        /// ```swift
        /// // OpenAI Responses: continue after the last sequence number seen.
        /// hooks.resumeRequest = { resumption in
        ///     let last = try resumption.lastEvent?.decodeData(as: Sequenced.self).sequenceNumber ?? -1
        ///     var request = resumption.request
        ///     (request.method, request.body) = ("GET", nil)
        ///     request.url = "https://api.example.com/v1/responses/\(id)?stream=true&starting_after=\(last)"
        ///     return request
        /// }
        /// // MCP Streamable HTTP: the POST's stream is continued by a GET with Last-Event-ID.
        /// hooks.resumeRequest = { resumption in
        ///     var request = resumption.request
        ///     (request.method, request.body) = ("GET", nil)
        ///     return request
        /// }
        /// ```
        ///
        /// Without it (the default) a request that must not be repeated is never sent again,
        /// and a repeatable one is repeated with `Last-Event-ID`. An error it throws ends the
        /// source with ``EventSourceError/Code/invalidRequest``.
        public var resumeRequest: (@Sendable (Resumption) async throws -> Request?)?

        /// Creates hooks; the defaults change nothing.
        public init(
            prepareRequest: (@Sendable (Request) async throws -> Request)? = nil,
            classifyResponse: (@Sendable (ResponseHead) -> ResponseDisposition?)? = nil,
            resumeRequest: (@Sendable (Resumption) async throws -> Request?)? = nil
        ) {
            self.prepareRequest = prepareRequest
            self.classifyResponse = classifyResponse
            self.resumeRequest = resumeRequest
        }
    }

    /// What ``Hooks/resumeRequest`` knows when a stream is to be continued.
    public struct Resumption: Sendable, Hashable {
        /// The last event ID received (or configured).
        public var lastEventID: String
        /// The last event delivered, across all connections so far (`nil` before the first):
        /// where APIs without event IDs keep their cursor (a `sequence_number` in the data).
        public var lastEvent: ServerSentEvent?
        /// How many events have been delivered, across all connections so far.
        public var deliveredEvents: Int
        /// The first connection's request, as built from the configuration (before
        /// ``Hooks/prepareRequest``).
        public var originalRequest: Request
        /// What a plain reconnect would send: ``originalRequest`` with the current `Last-Event-ID`.
        public var request: Request
        /// Why the last connection ended.
        public var reason: DisconnectReason
        /// The backoff attempt number of the connection about to be made.
        public var attempt: Int

        /// Creates a resumption (the source makes them; tests of a hook may too).
        public init(
            lastEventID: String, lastEvent: ServerSentEvent?, deliveredEvents: Int, originalRequest: Request,
            request: Request, reason: DisconnectReason, attempt: Int
        ) {
            self.lastEventID = lastEventID
            self.lastEvent = lastEvent
            self.deliveredEvents = deliveredEvents
            self.originalRequest = originalRequest
            self.request = request
            self.reason = reason
            self.attempt = attempt
        }
    }

    /// How a source waits before reconnecting and draws its jitter: the system's clock and
    /// random generator, or a test's (a clock that records the delays and returns at once).
    /// Package access: a test seam, not API.
    package struct Environment: Sendable {
        /// The clock reconnect delays are slept on.
        package var clock: any Clock<Duration>
        /// A random number in `[0, 1)` for the backoff jitter.
        package var random: @Sendable () -> Double
        /// Where figures are recorded; `nil`: the bootstrapped `MetricsSystem` when the source
        /// is created (tests pass their own, so that parallel tests do not share one).
        package var metricsFactory: (any MetricsFactory)?
        /// Where connection attempts are traced; `nil`: the bootstrapped instrument's tracer.
        package var tracer: (any Tracer)?
        /// Sees every body byte as it arrives and may drop the connection there (`sse-listen
        /// verify`); `nil`, the default, costs one branch per read.
        package var probe: ConnectionProbe?

        /// Creates an environment.
        package init(
            clock: any Clock<Duration> = ContinuousClock(),
            random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
            metricsFactory: (any MetricsFactory)? = nil,
            tracer: (any Tracer)? = nil,
            probe: ConnectionProbe? = nil
        ) {
            self.clock = clock
            self.random = random
            self.metricsFactory = metricsFactory
            self.tracer = tracer
            self.probe = probe
        }

        /// The system's continuous clock and random generator.
        package static let system = Environment()
    }

    /// Watches the body of every stream a source opens, on the I/O thread, and can drop the
    /// connection at any byte, with a FIN or a TCP reset: how `sse-listen verify` times a
    /// server's writes and cuts a stream mid-event to check its replay.
    package struct ConnectionProbe: Sendable {
        /// What to do with bytes that arrived.
        package enum Verdict: Sendable, Hashable {
            /// Take them all.
            case take
            /// Take the first `count` of them, then drop the connection as if
            /// ``EventSource/reconnect()`` was called; with a TCP reset (`SO_LINGER` 0) when
            /// `reset`, else with an orderly close (FIN).
            case cut(after: Int, reset: Bool)
        }

        /// Called with the bytes of each read of an open stream's body (after decompression),
        /// before the source takes them; it must be quick.
        package var received: @Sendable (UnsafeRawBufferPointer) -> Verdict

        /// Creates a probe.
        package init(received: @escaping @Sendable (UnsafeRawBufferPointer) -> Verdict) {
            self.received = received
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

        /// Creates a request; `attempt` is set by the source for the connection it is used for.
        public init(url: String, method: String, headers: [HTTPHeader], body: [UInt8]?, attempt: Int = 0) {
            self.url = url
            self.method = method
            self.headers = headers
            self.body = body
            self.attempt = attempt
        }

        /// The same request for another attempt.
        func forAttempt(_ attempt: Int) -> Request {
            Request(url: url, method: method, headers: headers, body: body, attempt: attempt)
        }
    }

    /// The version of the system libcurl in use, such as `7.88.1`.
    public static var libcurlVersion: String { CurlGlobal.version }

    /// The default `User-Agent`: `swift-sse/<version> libcurl/<version>`.
    public static var defaultUserAgent: String {
        "swift-sse/\(SwiftSSEVersion.current) libcurl/\(CurlGlobal.version)"
    }

    /// The headers every connection sends: the standard's, the configured ones, `Last-Event-ID`.
    static func requestHeaders(_ configured: [HTTPHeader], lastEventID: String) -> [HTTPHeader] {
        var headers: [HTTPHeader] = []
        let configured = configured.filter { $0.name.lowercased() != "last-event-id" }
        if configured.value(for: "Accept") == nil {
            headers.append(HTTPHeader("Accept", "text/event-stream"))
        }
        if configured.value(for: "Cache-Control") == nil {
            headers.append(HTTPHeader("Cache-Control", "no-cache"))
        }
        headers += configured
        if !lastEventID.isEmpty {
            headers.append(HTTPHeader("Last-Event-ID", lastEventID))
        }
        return headers
    }
}

extension TransferRequest {
    /// What libcurl is asked for one attempt: the (possibly hook-changed) request, and the
    /// transport settings of the configuration.
    init(_ request: EventSource.Request, _ configuration: EventSource.Configuration) {
        self.init(
            url: request.url,
            method: request.method,
            headers: request.headers,
            body: request.body,
            connectTimeout: configuration.connectTimeout,
            tls: configuration.tls,
            acceptsCompression: configuration.acceptsCompression,
            maximumRedirects: configuration.maximumRedirects,
            userAgent: configuration.userAgent,
            idleTimeout: configuration.idleTimeout,
            recordsSentRequest: configuration.recordsSentRequests,
            transport: configuration.transport
        )
    }
}
