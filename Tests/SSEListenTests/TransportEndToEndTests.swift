import Foundation
import SSEClient
import SSETestServer
import SSETestSupport
import Testing

/// The transport options of `sse-listen` (curl's names), as a built binary against the TestServer.
@Suite("sse-listen transport options", .timeLimit(.minutes(1)))
struct TransportEndToEndTests {
    @Test("--unix-socket: the stream through a Unix domain socket")
    func unixSocket() async throws {
        let path = NSTemporaryDirectory() + "sse-cli-\(UInt32.random(in: 0...UInt32.max)).sock"
        try await TestServer.withRunning(unixSocketPath: path) { server in
            let result = try await ListenProcess.run(
                ["--unix-socket", path, "--no-reconnect", server.url(for: .numbered(count: 3))])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.ids == ["1", "2", "3"])
        }
    }

    @Test("--resolve and --connect-to reach the server under another name; Host keeps the URL's")
    func nameOverrides() async throws {
        try await TestServer.withRunning { server in
            let resolved = try await ListenProcess.run([
                "--resolve", "feed.invalid:\(server.port):127.0.0.1", "--no-reconnect",
                "http://feed.invalid:\(server.port)/events?count=2",
            ])
            #expect(resolved.status == 0, "\(resolved.stderr)")
            #expect(resolved.ids == ["1", "2"])
            let redirected = try await ListenProcess.run([
                "--connect-to", "other.invalid:80:127.0.0.1:\(server.port)", "--no-reconnect",
                "http://other.invalid/events?count=1",
            ])
            #expect(redirected.status == 0, "\(redirected.stderr)")
            #expect(redirected.ids == ["1"])
            #expect(server.requests.map { $0.header("Host") } == ["feed.invalid:\(server.port)", "other.invalid"])
        }
    }

    @Test("-6 to a literal [::1]; -4 with a name that only has an IPv6 address fails (exit 2)")
    func ipVersions() async throws {
        try await TestServer.withRunning(host: "::1") { server in
            let six = try await ListenProcess.run(["-6", "--no-reconnect", server.url(for: .numbered(count: 1))])
            #expect(six.status == 0, "\(six.stderr)")
            #expect(six.ids == ["1"])
            let four = try await ListenProcess.run([
                "-4", "--no-reconnect", "--resolve", "v6only.invalid:\(server.port):[::1]",
                "http://v6only.invalid:\(server.port)/events?count=1",
            ])
            #expect(four.status == 2)
        }
    }

    @Test("the environment's http_proxy is used, as curl does; --noproxy and -x with NO_PROXY-style lists bypass it")
    func environmentProxy() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 1))
            // Nothing listens on port 1: a request that goes through the proxy fails.
            let proxied = try await ListenProcess.run(
                ["--no-reconnect", url], environment: ["http_proxy": "http://127.0.0.1:1"])
            #expect(proxied.status == 2)
            #expect(server.requests.isEmpty)
            let bypassed = try await ListenProcess.run(
                ["--no-reconnect", "--noproxy", "127.0.0.1", url], environment: ["http_proxy": "http://127.0.0.1:1"])
            #expect(bypassed.status == 0, "\(bypassed.stderr)")
            #expect(bypassed.ids == ["1"])
            let explicit = try await ListenProcess.run(["--no-reconnect", "-x", "127.0.0.1:1", url])
            #expect(explicit.status == 2)
            #expect(server.requests.count == 1)
        }
    }

    @Test(
        "usage errors (exit 1): two HTTP versions, -4 with -6, a malformed --resolve or --connect-to, a proxy scheme libcurl lacks, -U without a password",
        arguments: [
            ["--http1.1", "--http2"], ["-4", "-6"], ["--resolve", "nohost"], ["--resolve", "h:99999:127.0.0.1"],
            ["--resolve", "h:80:not-an-address"], ["--connect-to", "a:b"], ["-x", "ftp://proxy:21"],
            ["-U", "user-without-password", "-x", "127.0.0.1:3128"],
        ])
    func usageErrors(arguments: [String]) async throws {
        let result = try await ListenProcess.run(arguments + ["http://127.0.0.1:1/events"])
        #expect(result.status == 1, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains("error:"))
    }

    @Test(
        "HTTP/2: https negotiates it by ALPN and -v says so; --http1.1 keeps HTTP/1.1; --http2-prior-knowledge speaks h2c"
    )
    func http2() async throws {
        let certificates = try await TLSTerminator()
        try await TestServer.withRunning(configuration: .init(tls: certificates.serverIdentity())) { server in
            let url = server.url(for: .numbered(count: 2))
            let ca = ["--cacert", certificates.path("ca.pem")]
            let negotiated = try await ListenProcess.run(ca + ["-v", "--no-reconnect", url])
            #expect(negotiated.status == 0, "\(negotiated.stderr)")
            #expect(negotiated.ids == ["1", "2"])
            #expect(negotiated.stderr.contains("HTTP/2 200"), "\(negotiated.stderr)")
            let forced = try await ListenProcess.run(ca + ["-v", "--http1.1", "--no-reconnect", url])
            #expect(forced.ids == ["1", "2"])
            #expect(forced.stderr.contains("HTTP/1.1 200"), "\(forced.stderr)")
            #expect(server.requests.map(\.httpVersion) == ["HTTP/2", "HTTP/1.1"])
        }
        try await TestServer.withRunning { server in
            let h2c = try await ListenProcess.run([
                "-v", "--http2-prior-knowledge", "--no-reconnect", server.url(for: .numbered(count: 1)),
            ])
            #expect(h2c.ids == ["1"])
            #expect(h2c.stderr.contains("HTTP/2 200"), "\(h2c.stderr)")
            #expect(server.requests.map(\.httpVersion) == ["HTTP/2"])
        }
    }

    @Test("--http3 where libcurl lacks it is a usage error naming the libcurl; the options apply to verify too")
    func http3AndVerify() async throws {
        let http3 = try await ListenProcess.run(["--http3", "http://127.0.0.1:1/events"])
        if EventSource.Transport.isSupported(.http3) {
            #expect(http3.status != 1)
        } else {
            #expect(http3.status == 1)
            #expect(http3.stderr.contains("HTTP/3") && http3.stderr.contains("libcurl"))
        }
        let verify = try await ListenProcess.run(["verify", "-4", "-6", "http://127.0.0.1:1/events"])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("-4 and -6"))
    }
}
