extension EventSource {
    /// How requests reach the server: the HTTP version, a proxy, a Unix domain socket, and name
    /// overrides. The defaults suit a stream on the open internet:
    ///
    /// ```swift
    /// var configuration = EventSource.Configuration()
    /// configuration.transport.httpVersion = .http2PriorKnowledge            // h2c
    /// configuration.transport.proxy = .url("socks5h://127.0.0.1:1080")
    /// configuration.transport.unixSocketPath = "/var/run/app.sock"         // http://localhost/events
    /// configuration.transport.resolve = [.init(host: "feed.example", port: 443, addresses: ["127.0.0.1"])]
    /// ```
    public struct Transport: Sendable, Hashable {
        /// Which HTTP version to speak.
        ///
        /// Over HTTP/2, sources to one origin share a connection, one stream each (libcurl's
        /// multiplexing, up to the server's limit of concurrent streams, then another connection).
        /// A source paused for a slow consumer holds back only its own stream; the others on the
        /// connection keep flowing.
        public enum HTTPVersion: String, Sendable, Hashable, CaseIterable {
            /// HTTP/2 where the server agrees during the TLS handshake (ALPN) on `https`,
            /// HTTP/1.1 on `http`: libcurl's default.
            case automatic
            /// HTTP/1.1 only.
            case http1_1
            /// HTTP/2 on `https` (ALPN), and on `http` through an upgrade the server may refuse.
            case http2
            /// HTTP/2 from the first byte, without an upgrade: `h2c` on `http`, for servers known
            /// to speak it.
            ///
            /// With libcurl before 8.0.0 (Debian 12 has 7.88.1) each source gets a connection of
            /// its own: those versions fail a transfer that reuses a prior-knowledge connection
            /// (curl issue 10634).
            case http2PriorKnowledge
            /// HTTP/3 over QUIC. Only where the system libcurl has it (``isSupported(_:)``);
            /// elsewhere a source fails at once with ``EventSourceError/Code/unsupported``.
            case http3
        }

        /// Which IP version to connect over.
        public enum AddressFamily: String, Sendable, Hashable, CaseIterable {
            /// Whichever the name resolves to (IPv6 and IPv4 raced, as libcurl does).
            case any
            /// IPv4 only (`-4`).
            case ipv4
            /// IPv6 only (`-6`).
            case ipv6
        }

        /// A host and port resolved to given addresses instead of DNS (curl's `--resolve`).
        public struct Resolution: Sendable, Hashable {
            /// The host name as in the URL.
            public var host: String
            /// The port as in the URL (or its scheme's default).
            public var port: Int
            /// The addresses to connect to, IPv4 or IPv6 literals, tried in order.
            public var addresses: [String]

            /// Creates an override of `host`:`port`.
            public init(host: String, port: Int, addresses: [String]) {
                self.host = host
                self.port = port
                self.addresses = addresses
            }
        }

        /// Connections for one host and port made to another (curl's `--connect-to`); the URL,
        /// the `Host` header and TLS's name checks keep the original.
        public struct Redirection: Sendable, Hashable {
            /// The host of the URL; empty matches any.
            public var host: String
            /// The port of the URL; `nil` matches any.
            public var port: Int?
            /// The host to connect to instead; empty keeps the URL's.
            public var toHost: String
            /// The port to connect to instead; `nil` keeps the URL's.
            public var toPort: Int?

            /// Creates a redirection of `host`:`port` to `toHost`:`toPort`.
            public init(host: String, port: Int?, toHost: String, toPort: Int?) {
                self.host = host
                self.port = port
                self.toHost = toHost
                self.toPort = toPort
            }
        }

        /// The HTTP version. Default: ``HTTPVersion/automatic``.
        public var httpVersion: HTTPVersion
        /// The proxy. Default: ``Proxy/environment``, as curl does (see ``Proxy``).
        public var proxy: Proxy
        /// Connect through this Unix domain socket instead of TCP; the URL still gives the request
        /// line and the `Host` header (`http://localhost/events`). Default: `nil`.
        public var unixSocketPath: String?
        /// Host names resolved to given addresses. Default: none.
        public var resolve: [Resolution]
        /// Connections made to another host or port. Default: none.
        public var connectTo: [Redirection]
        /// The IP version. Default: ``AddressFamily/any``.
        public var addressFamily: AddressFamily

        /// Creates transport settings; see each property for its default.
        public init(
            httpVersion: HTTPVersion = .automatic,
            proxy: Proxy = .environment,
            unixSocketPath: String? = nil,
            resolve: [Resolution] = [],
            connectTo: [Redirection] = [],
            addressFamily: AddressFamily = .any
        ) {
            self.httpVersion = httpVersion
            self.proxy = proxy
            self.unixSocketPath = unixSocketPath
            self.resolve = resolve
            self.connectTo = connectTo
            self.addressFamily = addressFamily
        }

        /// Whether the system libcurl can speak `version` (HTTP/2 and HTTP/3 are build options).
        public static func isSupported(_ version: HTTPVersion) -> Bool {
            CurlFeatures.supports(version)
        }
    }

    /// Where requests go through: no proxy, the proxy the environment names, or a given one.
    ///
    /// The default is ``environment``, which is what curl does and what people behind a
    /// corporate proxy expect: `https_proxy`/`HTTPS_PROXY` for `https` URLs, `http_proxy` for
    /// `http` (not `HTTP_PROXY`, which a CGI-style server could set from a request header),
    /// `ALL_PROXY` for both, and `NO_PROXY` for the hosts that bypass them. A program that must
    /// never use a proxy sets ``none``.
    ///
    /// `https` URLs always go through a `CONNECT` tunnel, so the proxy sees neither the request
    /// nor the stream; proxy credentials are sent to the proxy only (`Proxy-Authorization` on the
    /// `CONNECT`, or the SOCKS handshake), never to the server, and never logged.
    public struct Proxy: Sendable, Hashable, CustomStringConvertible {
        /// A user name and password for the proxy.
        public struct Credentials: Sendable, Hashable {
            /// The user name.
            public var user: String
            /// The password.
            public var password: String

            /// Creates credentials.
            public init(user: String, password: String) {
                self.user = user
                self.password = password
            }
        }

        enum Kind: Sendable, Hashable {
            case none
            case environment
            case url(String)
        }

        let kind: Kind
        /// The credentials for the proxy (the given one, or the environment's); `nil` for none
        /// (or those in its URL). Default: `nil`.
        public var credentials: Credentials?
        /// Hosts (and domains, with their subdomains) that bypass the proxy, as in `NO_PROXY`
        /// (which this replaces); `*` bypasses it for every host. Default: none.
        public var bypass: [String]
        /// For an `https://` proxy: a PEM file of the CAs that verify its certificate (curl's
        /// `--proxy-cacert`), as ``TLS/caFile`` does for the server. Default: `nil`, the system's.
        public var caFile: String?
        /// For an `https://` proxy: whether its certificate and name are verified. Default:
        /// `true`; `false` (curl's `--proxy-insecure`) is for testing only.
        public var verifiesPeer = true

        init(kind: Kind, credentials: Credentials? = nil, bypass: [String] = []) {
            self.kind = kind
            self.credentials = credentials
            self.bypass = bypass
        }

        /// No proxy, whatever the environment says.
        public static let none = Proxy(kind: .none)

        /// The proxy the environment names, as curl reads it.
        public static let environment = Proxy(kind: .environment)

        /// An explicit proxy: `http://host:port` (HTTP `CONNECT`), `https://host:port` (TLS to
        /// the proxy too), `socks5h://host:port` (SOCKS5, names resolved by the proxy) or
        /// `socks5://host:port` (names resolved here).
        ///
        /// - Parameters:
        ///   - url: The proxy's URL.
        ///   - credentials: Its user name and password, if it wants them.
        ///   - bypass: Hosts that do not go through it (see ``bypass``).
        public static func url(_ url: String, credentials: Credentials? = nil, bypass: [String] = []) -> Proxy {
            Proxy(kind: .url(url), credentials: credentials, bypass: bypass)
        }

        /// `none`, `environment`, or the proxy's URL without user information.
        public var description: String {
            switch kind {
            case .none: "none"
            case .environment: "environment"
            case .url(let url): URLText.withoutUserInformation(url)
            }
        }
    }
}
