import Foundation
import SSETestServer
import SSETestSupport
import Testing

/// Through real proxies (Debian's tinyproxy and microsocks, started by the tests on free loopback
/// ports): the stream arrives, credentials reach the proxy alone, `NO_PROXY` is honoured.
@Suite("sse-listen through proxies", .timeLimit(.minutes(1)))
struct ProxyEndToEndTests {
    static let credentials = (user: "swift", password: "s3cret-proxy")
    static var proxyUser: String { "\(credentials.user):\(credentials.password)" }

    /// The headers a request to the origin must never carry when a proxy is in between.
    static func proxyHeaders(_ request: RecordedRequest) -> [String] {
        request.headers.map(\.name).filter { ["proxy-authorization", "proxy-connection"].contains($0.lowercased()) }
    }

    @Test(
        "https through tinyproxy's CONNECT with -U: the stream arrives, over HTTP/2 inside the tunnel; the origin sees no proxy header at all"
    )
    func httpsThroughConnect() async throws {
        let tls = try await TLSTerminator()
        try await TestServer.withRunning(configuration: .init(tls: tls.serverIdentity())) { server in
            try await LocalProxy.withTinyproxy(credentials: Self.credentials) { proxyPort in
                let url = server.url(for: .numbered(count: 2))
                let result = try await ListenProcess.run([
                    "-x", "http://127.0.0.1:\(proxyPort)", "-U", Self.proxyUser, "--cacert", tls.path("ca.pem"),
                    "--no-reconnect", url,
                ])
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.ids == ["1", "2"])
                let request = try #require(server.requests.first)
                #expect(Self.proxyHeaders(request).isEmpty)
                // A tunnel: the proxy did not touch the request (it adds Via to those it forwards),
                // and ALPN inside it agreed on HTTP/2.
                #expect(request.header("Via") == nil)
                #expect(request.httpVersion == "HTTP/2")
                #expect(!result.stderr.contains(Self.credentials.password))

                // Without credentials the proxy refuses the tunnel: fatal (exit 2), saying so.
                let refused = try await ListenProcess.run([
                    "-x", "http://127.0.0.1:\(proxyPort)", "--cacert", tls.path("ca.pem"), url,
                ])
                #expect(refused.status == 2)
                #expect(refused.stderr.contains("407") && refused.stderr.contains("-U USER:PASSWORD"))
                #expect(server.requests.count == 1)
            }
        }
    }

    @Test(
        "an https:// proxy (TLS in front of tinyproxy): --proxy-cacert verifies it, without it the proxy's CA is unknown; --proxy-insecure skips the check"
    )
    func httpsProxy() async throws {
        let tls = try await TLSTerminator()
        try await TestServer.withRunning { server in
            try await LocalProxy.withTinyproxy(credentials: Self.credentials) { proxyPort in
                try await tls.withListener(upstreamPort: proxyPort) { tlsProxyPort in
                    let proxy = ["-x", "https://127.0.0.1:\(tlsProxyPort)", "-U", Self.proxyUser, "--no-reconnect"]
                    let url = server.url(for: .numbered(count: 2))
                    let verified = try await ListenProcess.run(
                        proxy + ["--proxy-cacert", tls.path("ca.pem"), url])
                    #expect(verified.status == 0, "\(verified.stderr)")
                    #expect(verified.ids == ["1", "2"])
                    // Forwarded by tinyproxy (Via), the credentials kept to the proxy.
                    let request = try #require(server.requests.first)
                    #expect(request.header("Via") != nil)
                    #expect(Self.proxyHeaders(request).isEmpty)

                    let unverified = try await ListenProcess.run(proxy + [url])
                    #expect(unverified.status == 2, "\(unverified.stderr)")
                    #expect(unverified.stderr.contains("--proxy-cacert FILE"), "\(unverified.stderr)")
                    #expect(server.requests.count == 1)

                    let insecure = try await ListenProcess.run(proxy + ["--proxy-insecure", url])
                    #expect(insecure.status == 0, "\(insecure.stderr)")
                    #expect(insecure.ids == ["1", "2"])

                    let notPEM = try await ListenProcess.run(proxy + ["--proxy-cacert", "/dev/null", url])
                    #expect(notPEM.status == 1)
                    #expect(notPEM.stderr.contains("--proxy-cacert file '/dev/null'"))
                }
            }
        }
    }

    @Test(
        "plain http through tinyproxy with -U: forwarded (Via), and the credentials stop at the proxy; -v redacts them")
    func httpThroughProxy() async throws {
        try await TestServer.withRunning { server in
            try await LocalProxy.withTinyproxy(credentials: Self.credentials) { proxyPort in
                let result = try await ListenProcess.run([
                    "-v", "-x", "127.0.0.1:\(proxyPort)", "-U", Self.proxyUser, "--no-reconnect",
                    server.url(for: .numbered(count: 2)),
                ])
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.ids == ["1", "2"])
                let request = try #require(server.requests.first)
                #expect(request.header("Via")?.contains("tinyproxy") == true)
                #expect(Self.proxyHeaders(request).isEmpty)
                // -v shows what went to the proxy, its Proxy-Authorization redacted.
                #expect(result.stderr.contains("Proxy-Authorization: Basic [redacted]"))
                let encoded = Data(Self.proxyUser.utf8).base64EncodedString()
                #expect(!result.stderr.contains(Self.credentials.password) && !result.stderr.contains(encoded))
            }
        }
    }

    @Test("SOCKS5 through microsocks: socks5h with credentials (the proxy resolves the name), socks5 without")
    func socks() async throws {
        try await TestServer.withRunning { server in
            try await LocalProxy.withMicrosocks(credentials: Self.credentials) { proxyPort in
                let withCredentials = try await ListenProcess.run([
                    "-x", "socks5h://127.0.0.1:\(proxyPort)", "-U", Self.proxyUser, "--no-reconnect",
                    "http://localhost:\(server.port)/events?count=2",
                ])
                #expect(withCredentials.status == 0, "\(withCredentials.stderr)")
                #expect(withCredentials.ids == ["1", "2"])
                let without = try await ListenProcess.run([
                    "-x", "socks5h://127.0.0.1:\(proxyPort)", "--no-reconnect", server.url(for: .numbered(count: 1)),
                ])
                #expect(without.status == 2)
                #expect(server.requests.count == 1)
            }
            try await LocalProxy.withMicrosocks { proxyPort in
                let open = try await ListenProcess.run([
                    "-x", "socks5://127.0.0.1:\(proxyPort)", "--no-reconnect", server.url(for: .numbered(count: 1)),
                ])
                #expect(open.status == 0, "\(open.stderr)")
                #expect(open.ids == ["1"])
            }
        }
    }

    @Test("the environment's http_proxy is used as curl does, and NO_PROXY sends a host around it")
    func environment() async throws {
        try await TestServer.withRunning { server in
            try await LocalProxy.withTinyproxy { proxyPort in
                let proxy = "http://127.0.0.1:\(proxyPort)"
                let url = server.url(for: .numbered(count: 1))
                let proxied = try await ListenProcess.run(["--no-reconnect", url], environment: ["http_proxy": proxy])
                #expect(proxied.status == 0, "\(proxied.stderr)")
                let direct = try await ListenProcess.run(
                    ["--no-reconnect", url], environment: ["http_proxy": proxy, "NO_PROXY": "127.0.0.1"])
                #expect(direct.status == 0, "\(direct.stderr)")
                let requests = server.requests
                #expect(requests.count == 2)
                #expect(requests.first?.header("Via")?.contains("tinyproxy") == true)
                #expect(requests.last?.header("Via") == nil)
            }
        }
    }
}
