import SSEParser

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

        /// Creates hooks; the defaults change nothing.
        public init(
            prepareRequest: (@Sendable (Request) async throws -> Request)? = nil,
            classifyResponse: (@Sendable (ResponseHead) -> ResponseDisposition?)? = nil
        ) {
            self.prepareRequest = prepareRequest
            self.classifyResponse = classifyResponse
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

        /// Creates an environment.
        package init(
            clock: any Clock<Duration> = ContinuousClock(),
            random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
        ) {
            self.clock = clock
            self.random = random
        }

        /// The system's continuous clock and random generator.
        package static let system = Environment()
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
            recordsSentRequest: configuration.recordsSentRequests
        )
    }
}
