import SSEParser

extension TestServer {
    /// Server-wide settings: the defaults that a ``Scenario`` does not set, and what applies to every request.
    public struct Configuration: Sendable, Hashable {
        /// The time between events of the numbered stream when the ``Scenario/interval`` is `nil`.
        /// Zero by default, so tests run fast; ``demo`` ticks once a second.
        public var tickInterval: Duration

        /// The time between `:` heartbeat comments when the ``Scenario/heartbeat`` is `nil`;
        /// `nil` (the default) sends none.
        public var heartbeatInterval: Duration?

        /// When set, every request but `OPTIONS` needs `Authorization: Bearer <token>`, or gets
        /// `401 Unauthorized`. `nil` by default.
        public var authToken: String?

        /// When set, every response carries `Access-Control-Allow-Origin` with this value and
        /// `OPTIONS` preflight requests are answered. `nil` by default.
        public var corsOrigin: String?

        /// How many published messages the broadcast hub keeps to replay. 100 by default.
        public var historyCapacity: Int

        /// Faults injected into every `/subscribe` connection; `nil` (the default) injects none.
        public var chaos: Chaos?

        /// When set, the broadcast hub publishes a message by itself every interval, its data the
        /// message's ID (`1`, `2`, …), so `/subscribe` streams with nobody publishing, for a verifier or
        /// a demo (the executable's `--publish MS`). `nil` (the default) publishes nothing; zero is
        /// taken as `nil`.
        public var publishInterval: Duration?

        /// Messages the broadcast hub starts with, as if already published (in order, with numeric
        /// IDs), so a server restarted on the same port can carry on where the last one stopped
        /// (see ``TestServer/hubHistory()``). Empty by default.
        public var initialHubHistory: [ServerSentEvent]

        /// When set, the server speaks TLS (its URLs are `https://…`); `nil` (the default) speaks
        /// plain text. Either way it serves HTTP/1.1 and HTTP/2 on one port.
        public var tls: TLS?

        /// Whether every request is kept for ``TestServer/requests``. `true` by default, as tests
        /// need; the executable turns it off, so a server under hours of load does not grow
        /// (``TestServer/waitForRequests(count:timeout:)`` still counts them).
        public var keepsRequests: Bool

        /// Creates a configuration; every setting has the default its property documents.
        public init(
            tickInterval: Duration = .zero,
            heartbeatInterval: Duration? = nil,
            authToken: String? = nil,
            corsOrigin: String? = nil,
            historyCapacity: Int = 100,
            chaos: Chaos? = nil,
            initialHubHistory: [ServerSentEvent] = [],
            publishInterval: Duration? = nil,
            tls: TLS? = nil,
            keepsRequests: Bool = true
        ) {
            self.tickInterval = tickInterval
            self.heartbeatInterval = heartbeatInterval
            self.authToken = authToken
            self.corsOrigin = corsOrigin
            self.historyCapacity = historyCapacity
            self.chaos = chaos
            self.initialHubHistory = initialHubHistory
            self.publishInterval = publishInterval
            self.tls = tls
            self.keepsRequests = keepsRequests
        }

        /// The settings for people watching a demo: one event a second, no heartbeat.
        public static let demo = Configuration(tickInterval: .seconds(1))
    }

    /// The server's TLS identity, and the protocols it offers during the handshake (ALPN).
    ///
    /// A client that agrees on `h2` speaks HTTP/2; one that agrees on `http/1.1`, or offers
    /// nothing, HTTP/1.1 (or HTTP/2 with prior knowledge, which the server tells from the first
    /// bytes either way).
    public struct TLS: Sendable, Hashable {
        /// A PEM file with the server's certificate, then any intermediates.
        public var certificateChainFile: String
        /// A PEM file with the certificate's private key.
        public var privateKeyFile: String
        /// The ALPN protocols offered, in order of preference. `["h2", "http/1.1"]` by default;
        /// `["http/1.1"]` makes a server that a client cannot reach over HTTP/2 by negotiation.
        public var applicationProtocols: [String]

        /// Creates a TLS identity; the protocols have the default their property documents.
        public init(
            certificateChainFile: String, privateKeyFile: String, applicationProtocols: [String] = ["h2", "http/1.1"]
        ) {
            self.certificateChainFile = certificateChainFile
            self.privateKeyFile = privateKeyFile
            self.applicationProtocols = applicationProtocols
        }
    }
}
