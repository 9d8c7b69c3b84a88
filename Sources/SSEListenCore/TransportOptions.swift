import ArgumentParser
import SSEClient

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The options that say how requests travel, with curl's names: the HTTP version, a proxy, a
/// Unix socket, name overrides, the IP version. Shared by listening and `verify`.
public struct TransportOptions: ParsableArguments {
    /// `--http1.1`.
    @Flag(name: .customLong("http1.1"), help: "Use HTTP/1.1 only.")
    public var http1_1 = false

    /// `--http2`.
    @Flag(name: .customLong("http2"), help: "Use HTTP/2 (on https by ALPN; the default there already).")
    public var http2 = false

    /// `--http2-prior-knowledge`.
    @Flag(
        name: .customLong("http2-prior-knowledge"),
        help: "Use HTTP/2 from the first byte, without an upgrade (h2c on http).")
    public var http2PriorKnowledge = false

    /// `--http3`.
    @Flag(
        name: .customLong("http3"),
        help: "Use HTTP/3 (QUIC); a usage error where the system libcurl lacks it.")
    public var http3 = false

    /// `-x`, `--proxy`.
    @Option(
        name: [.customShort("x"), .customLong("proxy")],
        help: ArgumentHelp(
            "Go through this proxy: http://HOST:PORT (CONNECT), https://HOST:PORT, socks5h://HOST:PORT (names "
                + "resolved by the proxy) or socks5://HOST:PORT. Default: the environment's https_proxy, "
                + "http_proxy, ALL_PROXY and NO_PROXY, as curl reads them.",
            valueName: "url"
        )
    )
    public var proxy: String?

    /// `--noproxy`.
    @Option(
        name: .customLong("noproxy"),
        help: ArgumentHelp(
            "Hosts that bypass the proxy, comma-separated (a domain covers its subdomains; * bypasses it for all).",
            valueName: "list"
        )
    )
    public var noProxy: String?

    /// `-U`, `--proxy-user`.
    @Option(
        name: [.customShort("U"), .customLong("proxy-user")],
        help: ArgumentHelp("Credentials for the proxy (never sent to the server).", valueName: "user:password")
    )
    public var proxyUser: String?

    /// `--proxy-cacert`.
    @Option(
        name: .customLong("proxy-cacert"),
        help: ArgumentHelp("Verify an https:// proxy with the CA certificates in this PEM file.", valueName: "file")
    )
    public var proxyCAFile: String?

    /// `--proxy-insecure`.
    @Flag(
        name: .customLong("proxy-insecure"),
        help: "Do not verify an https:// proxy's certificate (for testing only)."
    )
    public var proxyInsecure = false

    /// `--unix-socket`.
    @Option(
        name: .customLong("unix-socket"),
        help: ArgumentHelp(
            "Connect through this Unix domain socket; the URL still gives the path and Host (http://localhost/…).",
            valueName: "path"
        )
    )
    public var unixSocket: String?

    /// `--resolve`.
    @Option(
        name: .customLong("resolve"),
        help: ArgumentHelp(
            "Resolve HOST:PORT to these addresses instead of asking DNS (repeatable).",
            valueName: "host:port:addr[,addr]")
    )
    public var resolve: [String] = []

    /// `--connect-to`.
    @Option(
        name: .customLong("connect-to"),
        help: ArgumentHelp(
            "Connect to HOST2:PORT2 for requests to HOST:PORT; the URL, Host and TLS names stay (repeatable; an "
                + "empty part matches any, or keeps the original).",
            valueName: "host:port:host2:port2"
        )
    )
    public var connectTo: [String] = []

    /// `-4`.
    @Flag(name: .customShort("4"), help: "Connect over IPv4 only.")
    public var ipv4 = false

    /// `-6`.
    @Flag(name: .customShort("6"), help: "Connect over IPv6 only.")
    public var ipv6 = false

    /// Creates empty options; the parser fills them in.
    public init() {}

    /// Checks that at most one HTTP version and one IP version is asked for, and the syntax of
    /// every value.
    public func validate() throws {
        _ = try transport()
    }

    /// The library's transport settings for these options.
    ///
    /// - Throws: `ValidationError` saying which option is wrong and why.
    public func transport() throws -> EventSource.Transport {
        var transport = EventSource.Transport()
        let versions: [(Bool, EventSource.Transport.HTTPVersion, String)] = [
            (http1_1, .http1_1, "--http1.1"), (http2, .http2, "--http2"),
            (http2PriorKnowledge, .http2PriorKnowledge, "--http2-prior-knowledge"), (http3, .http3, "--http3"),
        ]
        let chosen = versions.filter(\.0)
        if chosen.count > 1 {
            throw ValidationError("\(chosen.map(\.2).joined(separator: " and ")) cannot be used together")
        }
        if let (_, version, name) = chosen.first {
            guard EventSource.Transport.isSupported(version) else {
                throw ValidationError(
                    "\(name): the system libcurl (\(EventSource.libcurlVersion)) was built without "
                        + (version == .http3 ? "HTTP/3" : "HTTP/2"))
            }
            transport.httpVersion = version
        }
        if ipv4 && ipv6 { throw ValidationError("-4 and -6 cannot be used together") }
        transport.addressFamily = ipv4 ? .ipv4 : ipv6 ? .ipv6 : .any

        var credentials: EventSource.Proxy.Credentials?
        if let proxyUser {
            guard let colon = proxyUser.firstIndex(of: ":") else {
                throw ValidationError("-U/--proxy-user needs USER:PASSWORD (no password prompt)")
            }
            credentials = .init(
                user: String(proxyUser[..<colon]), password: String(proxyUser[proxyUser.index(after: colon)...]))
        }
        let bypass = (noProxy ?? "").split(separator: ",").map { $0.trimmingASCIIWhitespace() }.filter { !$0.isEmpty }
        if let proxy {
            transport.proxy = .url(try Self.proxyURL(proxy), credentials: credentials, bypass: bypass)
        } else {
            transport.proxy = .environment
            transport.proxy.credentials = credentials
            transport.proxy.bypass = bypass
        }
        // Checked as --cacert is, where the request options are read (ListenPlan).
        transport.proxy.caFile = proxyCAFile
        transport.proxy.verifiesPeer = !proxyInsecure

        if let unixSocket {
            guard !unixSocket.isEmpty else { throw ValidationError("--unix-socket needs a path") }
            // sockaddr_un holds 108 bytes with the terminating NUL.
            guard unixSocket.utf8.count <= 107 else {
                throw ValidationError("--unix-socket path is longer than a socket address holds (107 bytes)")
            }
            transport.unixSocketPath = unixSocket
        }
        transport.resolve = try resolve.map(Self.resolution)
        transport.connectTo = try connectTo.map(Self.redirection)
        return transport
    }

    /// `http://host:port` from `host:port`; the schemes libcurl's proxies take.
    static func proxyURL(_ text: String) throws -> String {
        let schemes = ["http", "https", "socks5", "socks5h", "socks4", "socks4a"]
        guard let separator = text.firstRange(of: "://") else {
            guard !text.isEmpty else { throw ValidationError("-x/--proxy needs a URL") }
            return "http://" + text
        }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard schemes.contains(scheme) else {
            throw ValidationError(
                "-x/--proxy '\(EventSource.Proxy.url(text).description)': the scheme must be one of "
                    + schemes.joined(separator: ", "))
        }
        guard text.count > separator.upperBound.utf16Offset(in: text) else {
            throw ValidationError("-x/--proxy '\(text)' has no host")
        }
        return text
    }

    /// `HOST:PORT:ADDR[,ADDR]`.
    static func resolution(_ text: String) throws -> EventSource.Transport.Resolution {
        let parts = splitHostParts(text, count: 3)
        guard parts.count == 3, !parts[0].isEmpty, let port = Int(parts[1]), (1...65_535).contains(port) else {
            throw ValidationError("--resolve '\(text)' is not HOST:PORT:ADDRESS[,ADDRESS] with a port in 1-65535")
        }
        let addresses = parts[2].split(separator: ",").map(String.init)
        guard !addresses.isEmpty else {
            throw ValidationError("--resolve '\(text)' names no address")
        }
        if let bad = addresses.first(where: { !isIPAddress($0) }) {
            throw ValidationError("--resolve '\(text)': '\(bad)' is not an IPv4 or IPv6 address")
        }
        return .init(host: parts[0], port: port, addresses: addresses)
    }

    /// `HOST:PORT:HOST2:PORT2`, any part empty.
    static func redirection(_ text: String) throws -> EventSource.Transport.Redirection {
        let parts = splitHostParts(text, count: 4)
        func port(_ part: String) throws -> Int? {
            if part.isEmpty { return nil }
            guard let port = Int(part), (1...65_535).contains(port) else {
                throw ValidationError("--connect-to '\(text)': '\(part)' is not a port in 1-65535")
            }
            return port
        }
        guard parts.count == 4 else {
            throw ValidationError("--connect-to '\(text)' is not HOST:PORT:HOST2:PORT2 (parts may be empty)")
        }
        return .init(host: parts[0], port: try port(parts[1]), toHost: parts[2], toPort: try port(parts[3]))
    }

    /// `text` split at colons into at most `count` parts, the last taking the rest; a part in
    /// brackets (`[::1]`) keeps its colons (and its brackets, as libcurl wants them).
    static func splitHostParts(_ text: String, count: Int) -> [String] {
        var parts: [String] = []
        var current = ""
        var inBrackets = false
        for character in text {
            if parts.count == count - 1 {
                current.append(character)
                continue
            }
            switch character {
            case "[": inBrackets = true
            case "]": inBrackets = false
            case ":" where !inBrackets:
                parts.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        parts.append(current)
        return parts
    }

    /// Whether `text` is an IPv4 or IPv6 literal (an IPv6 one may be in brackets).
    static func isIPAddress(_ text: String) -> Bool {
        var bytes = [UInt8](repeating: 0, count: 16)
        var literal = text
        if literal.hasPrefix("["), literal.hasSuffix("]") { literal = String(literal.dropFirst().dropLast()) }
        return inet_pton(AF_INET, literal, &bytes) == 1 || inet_pton(AF_INET6, literal, &bytes) == 1
    }
}
