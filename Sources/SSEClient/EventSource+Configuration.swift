extension EventSource {
    /// How an ``EventSource`` connects and reconnects. Every property has a default suited to a
    /// long-lived stream; request-scoped streams (an LLM completion over POST) typically set
    /// ``method``, ``body``, and either a ``terminator`` (so an answer cut short is an error,
    /// never a silent normal end) or ``endOfStream`` to ``EndOfStreamPolicy/finish``:
    ///
    /// ```swift
    /// var configuration = EventSource.Configuration(method: "POST", body: prompt)
    /// configuration.headers = [HTTPHeader("Content-Type", "application/json")]
    /// configuration.terminator = .data("[DONE]")
    /// configuration.errorEvents = .eventType("error")
    /// ```
    public struct Configuration: Sendable, Hashable {
        /// The HTTP method. Default: `GET`.
        public var method: String

        /// Extra request headers, sent on every connection. `Accept: text/event-stream` and
        /// `Cache-Control: no-cache` are sent unless overridden here; `Last-Event-ID` is managed
        /// by the source. Default: none.
        public var headers: [HTTPHeader]

        /// The request body, sent on every connection (for example a JSON prompt). Default: none.
        public var body: [UInt8]?

        /// The last event ID to resume from on the first connection (sent as `Last-Event-ID`).
        /// Default: empty, so the first request carries no `Last-Event-ID`.
        public var lastEventID: String

        /// When and how fast to reconnect. Default: ``ReconnectPolicy/default``.
        public var reconnect: ReconnectPolicy

        /// What a clean end of the response body means. Default: ``EndOfStreamPolicy/reconnect``,
        /// as the standard says.
        public var endOfStream: EndOfStreamPolicy

        /// The event that says a request-scoped stream is complete, such as `.data("[DONE]")`
        /// (OpenAI chat completions) or `.eventType("message_stop")` (Anthropic messages). It ends
        /// the sequences normally and is not delivered; the connection is closed. Default: `nil`.
        ///
        /// With a terminator, a stream that ends before it (the server closed, a reset, an idle
        /// timeout) is continued if it can be: a repeatable request reconnects with
        /// `Last-Event-ID`, and ``Hooks/resumeRequest`` may name a request that continues it.
        /// Otherwise the source fails with ``EventSourceError/Code/truncated``, whatever
        /// ``endOfStream`` says: an incomplete answer never looks complete.
        public var terminator: EventPattern?

        /// Events that carry an error from the server in the stream, such as
        /// `.eventType("error")` (Anthropic's `overloaded_error` after a 200). A matching event is
        /// not delivered: it ends the connection with ``EventSourceError/Code/serverError``
        /// holding the event. Before any other event it counts like a 503 (retried when the
        /// request may be repeated, or resumed by ``Hooks/resumeRequest``); after the first
        /// event it ends the source. Default: `nil`.
        public var errorEvents: EventPattern?

        /// The name of the source in its metrics (the `sse.source` dimension, see ``Telemetry``):
        /// pick one per kind of stream ("prices", "completions"), a small fixed set, never a URL
        /// or a user. Default: `default`.
        public var metricsLabel: String

        /// Whether a request with a method other than GET, HEAD or OPTIONS (a POST with a body)
        /// may be sent again when reconnecting. Default: `false`: such a stream ends, or fails,
        /// instead of repeating the request.
        public var replaysNonIdempotentRequests: Bool

        /// How long a connection may stay silent (no event, no comment, no byte) before it is
        /// considered dead, dropped and reconnected; `nil` turns the check off. Default: 300 s.
        /// Measured to the millisecond; not counted while the consumer is behind and the
        /// connection is paused for it. Until the response head is complete it runs from the
        /// start of the attempt, not from the last header byte, so a server trickling header
        /// fields cannot hold a connection either.
        public var idleTimeout: Duration?

        /// How long establishing a connection (DNS, TCP, TLS) and receiving the response head
        /// may take; an attempt that takes longer fails with
        /// ``EventSourceError/Code/responseTimeout`` (or a transport error while connecting)
        /// and is retried. Default: 30 s.
        public var connectTimeout: Duration

        /// Certificate verification and client certificates. Default: verify against the system's CAs.
        public var tls: TLS

        /// The HTTP version, proxy, Unix socket and name overrides. Default: ``Transport``'s
        /// defaults: HTTP/2 where the server offers it on `https`, the environment's proxy.
        public var transport: Transport

        /// Whether to ask for a compressed body (`Accept-Encoding` with every encoding libcurl
        /// can decode: gzip, deflate, brotli, zstd as built). Default: `false`.
        public var acceptsCompression: Bool

        /// How many redirects to follow (HTTP and HTTPS targets only; `Authorization` and cookies
        /// are not sent to another host); 0 treats a redirect as an unexpected status. Default: 10.
        public var maximumRedirects: Int

        /// The largest event accepted, in bytes; a larger one ends the source with
        /// ``EventSourceError/Code/eventTooLarge``. Default: 16 MiB.
        public var maximumEventSize: Int

        /// How many received bytes may wait for the consumer before the connection is paused,
        /// so a slow consumer slows the server down (TCP backpressure) instead of growing memory.
        /// Reading resumes when half of them have been consumed. The consumer parses what it
        /// takes, so at most this much raw stream, plus one batch of parsed events, waits for it.
        /// Default: 1 MiB.
        ///
        /// Over HTTP/2 the pause holds back only this source's stream, never the others on its
        /// connection, but libcurl has by then granted the server a flow-control window, which it
        /// buffers in full: up to 32 MiB per paused stream with libcurl 7.x (10 MiB from 8.0), on
        /// top of this limit. Where that is too much, ``Transport/HTTPVersion/http1_1`` makes the
        /// bound this limit again.
        public var maximumBufferedBytes: Int

        /// How many connection states ``EventSource/states`` keeps while nobody is iterating it:
        /// the latest ones, older ones being dropped. Each kept state may hold a response head
        /// or an error, and a stream that reconnects often adds four per reconnect (about 1.4 KiB,
        /// measured), so a process with thousands of sources that never reads `states` sets 0.
        /// Default: 256.
        public var maximumBufferedStates: Int

        /// The `User-Agent` header. Default: `swift-sse` with the libcurl version.
        public var userAgent: String

        /// Whether each ``ResponseHead`` carries the request head exactly as libcurl sent it
        /// (``ResponseHead/sentRequest``), for diagnostics such as `sse-listen -v`. It costs a
        /// libcurl debug callback per transfer event, so it is off by default. Default: `false`.
        public var recordsSentRequests: Bool

        /// Creates a configuration; see each property for its default.
        public init(
            method: String = "GET",
            headers: [HTTPHeader] = [],
            body: [UInt8]? = nil,
            lastEventID: String = "",
            reconnect: ReconnectPolicy = .default,
            endOfStream: EndOfStreamPolicy = .reconnect,
            terminator: EventPattern? = nil,
            errorEvents: EventPattern? = nil,
            metricsLabel: String = "default",
            replaysNonIdempotentRequests: Bool = false,
            idleTimeout: Duration? = .seconds(300),
            connectTimeout: Duration = .seconds(30),
            tls: TLS = TLS(),
            transport: Transport = Transport(),
            acceptsCompression: Bool = false,
            maximumRedirects: Int = 10,
            maximumEventSize: Int = 16 * 1024 * 1024,
            maximumBufferedBytes: Int = 1 << 20,
            maximumBufferedStates: Int = 256,
            userAgent: String = EventSource.defaultUserAgent,
            recordsSentRequests: Bool = false
        ) {
            self.method = method
            self.headers = headers
            self.body = body
            self.lastEventID = lastEventID
            self.reconnect = reconnect
            self.endOfStream = endOfStream
            self.terminator = terminator
            self.errorEvents = errorEvents
            self.metricsLabel = metricsLabel
            self.replaysNonIdempotentRequests = replaysNonIdempotentRequests
            self.idleTimeout = idleTimeout
            self.connectTimeout = connectTimeout
            self.tls = tls
            self.transport = transport
            self.acceptsCompression = acceptsCompression
            self.maximumRedirects = maximumRedirects
            self.maximumEventSize = maximumEventSize
            self.maximumBufferedBytes = maximumBufferedBytes
            self.maximumBufferedStates = maximumBufferedStates
            self.userAgent = userAgent
            self.recordsSentRequests = recordsSentRequests
        }

        /// The defaults.
        public static let `default` = Configuration()

        /// What this configuration asks for that the system libcurl lacks, if anything.
        var unsupportedFeature: String? {
            if !Transport.isSupported(transport.httpVersion) {
                return transport.httpVersion == .http3 ? "HTTP/3" : "HTTP/2"
            }
            if transport.unixSocketPath != nil, !CurlFeatures.supportsUnixSockets { return "Unix domain sockets" }
            return nil
        }

        /// Whether the request may be sent again on reconnect.
        var mayRepeatRequest: Bool {
            let idempotent = ["GET", "HEAD", "OPTIONS"].contains(method.uppercased())
            return idempotent || replaysNonIdempotentRequests
        }
    }

    /// What a clean end of the response body (the server closed the stream) means.
    public enum EndOfStreamPolicy: Sendable, Hashable {
        /// Reconnect, resuming from the last event ID, as the standard says. For long-lived streams.
        case reconnect
        /// The stream is complete: the event sequence ends normally. For request-scoped streams
        /// such as an LLM completion.
        case finish
    }

    /// TLS settings.
    public struct TLS: Sendable, Hashable {
        /// Whether the server's certificate and host name are verified. Default: `true`. Turning
        /// this off (``insecure``) accepts any certificate: for testing only.
        public var verifiesPeer: Bool

        /// A PEM file of CA certificates to verify the server against instead of the system's.
        /// Default: `nil` (the system's CAs).
        public var caFile: String?

        /// A PEM client certificate for mutual TLS. Default: `nil`.
        public var clientCertificateFile: String?

        /// The PEM private key of ``clientCertificateFile``. Default: `nil`.
        public var clientKeyFile: String?

        /// Creates TLS settings; by default the server is verified against the system's CAs.
        public init(
            verifiesPeer: Bool = true,
            caFile: String? = nil,
            clientCertificateFile: String? = nil,
            clientKeyFile: String? = nil
        ) {
            self.verifiesPeer = verifiesPeer
            self.caFile = caFile
            self.clientCertificateFile = clientCertificateFile
            self.clientKeyFile = clientKeyFile
        }

        /// No verification of the server's certificate or host name. For testing only.
        public static let insecure = TLS(verifiesPeer: false)
    }
}
