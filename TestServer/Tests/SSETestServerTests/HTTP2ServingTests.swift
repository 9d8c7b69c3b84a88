import Foundation
import NIOCore
import SSETestSupport
import Testing

@testable import SSETestServer

/// The server over HTTP/2, checked with a client none of us wrote: the system's `curl` (which
/// `.ci/install-deps` installs), in plain text with prior knowledge (h2c) and over TLS by ALPN.
@Suite("HTTP/2 serving", .timeLimit(.minutes(1)))
struct HTTP2ServingTests {
    /// Runs curl with `arguments`; returns its exit status, standard output and standard error.
    private func curl(_ arguments: [String]) async throws -> (status: Int32, output: String, errors: String) {
        let result = try await ChildProcess.run("/usr/bin/env", ["curl", "-sS"] + arguments, timeout: .seconds(20))
        return (result.status, result.stdoutText, result.stderrText)
    }

    @Test("h2c and HTTP/1.1 on one port: each request records its protocol, HTTP/2 ones their stream")
    func priorKnowledge() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 3))
            let h2 = try await curl(["-i", "--http2-prior-knowledge", url])
            #expect(h2.status == 0, "\(h2.errors)")
            #expect(h2.output.hasPrefix("HTTP/2 200 \r\n"))  // curl prints HTTP/2's empty reason as a space
            // The bytes after the head are exactly the event stream: no chunks, and none of the
            // fields HTTP/2 forbids.
            #expect(h2.output.hasSuffix("\r\n\r\n" + numberedText(1...3)))
            #expect(!h2.output.lowercased().contains("transfer-encoding"))
            #expect(!h2.output.lowercased().contains("connection:"))

            let h1 = try await curl(["-i", "--http1.1", url])
            #expect(h1.status == 0)
            #expect(h1.output.hasPrefix("HTTP/1.1 200 OK\r\n"))

            let requests = server.requests
            #expect(requests.map(\.httpVersion) == ["HTTP/2", "HTTP/1.1"])
            #expect(requests.map(\.http2StreamID) == [1, nil])
            #expect(requests.map(\.connection) == [1, 2])
            #expect(requests[0].header("Host") == "127.0.0.1:\(server.port)")
            #expect(requests[0].description.hasPrefix("#1 stream 1 GET /events"))
        }
    }

    @Test("status responses and request bodies travel over HTTP/2 as over HTTP/1.1")
    func statusAndBody() async throws {
        try await TestServer.withRunning { server in
            let unavailable = try await curl([
                "-i", "--http2-prior-knowledge", server.url(for: .status(503, retryAfter: "0")),
            ])
            #expect(unavailable.output.hasPrefix("HTTP/2 503 \r\n"))
            #expect(unavailable.output.lowercased().contains("retry-after: 0\r\n"))
            #expect(unavailable.output.hasSuffix("503 Service Unavailable\n"))

            let echo = try await curl(["--http2-prior-knowledge", "-d", "hello", server.url(path: "/echo")])
            #expect(echo.output.contains(#""body":"hello""#))
            #expect(echo.output.contains(#""method":"POST""#))
        }
    }

    @Test(
        "faults over HTTP/2: RST_STREAM for end=reset, GOAWAY then FIN for end=goaway, a TCP reset for end=reset-connection",
        arguments: [
            // curl's exit codes: 92 a stream error (here CANCEL), 18 a partial transfer, 56 and 55
            // a failure to receive or send (on a reset connection).
            (Scenario.Ending.reset, [Int32(92)], "CANCEL"),
            (.goAway, [18], "not closed cleanly"),
            (.resetConnection, [55, 56], "Connection reset by peer"),
            (.finish, [0], ""),
        ]
    )
    func faults(_ ending: Scenario.Ending, statuses: [Int32], message: String) async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 5).droppingAfter(events: 2, with: ending))
            let result = try await curl(["--http2-prior-knowledge", url])
            // The server sends both events before the fault (a raw HTTP/2 client shows them on the
            // wire), but what a client has not yet taken of a reset stream may be discarded (curl
            // does), and so is what the kernel holds for a reset connection.
            if ending == .reset || ending == .resetConnection {
                #expect(numberedText(1...2).hasPrefix(result.output))
            } else {
                #expect(result.output == numberedText(1...2))
            }
            // curl names the way the stream ended.
            #expect(statuses.contains(result.status), "\(result.status): \(result.errors)")
            #expect(message.isEmpty ? result.errors.isEmpty : result.errors.contains(message), "\(result.errors)")
        }
    }

    @Test("TLS: ALPN agrees on h2, or on http/1.1 when the server offers only that; a bad key fails the start")
    func tls() async throws {
        let certificates = try await TLSTerminator()
        for (protocols, version) in [(["h2", "http/1.1"], "HTTP/2"), (["http/1.1"], "HTTP/1.1")] {
            try await TestServer.withRunning(
                configuration: .init(tls: certificates.serverIdentity(offering: protocols))
            ) {
                server in
                #expect(server.baseURL == "https://127.0.0.1:\(server.port)")
                let url = server.url(for: .numbered(count: 2))
                let result = try await curl(["-i", "--cacert", certificates.path("ca.pem"), url])
                #expect(result.status == 0, "\(result.errors)")
                #expect(result.output.hasPrefix(version + " 200"))
                #expect(result.output.hasSuffix(numberedText(1...2)))
                #expect(server.requests.map(\.httpVersion) == [version])
            }
        }
        let mismatched = TestServer.TLS(
            certificateChainFile: certificates.path("server.pem"), privateKeyFile: certificates.path("ca.pem"))
        await #expect(throws: TestServerError.self) {
            try await TestServer.withRunning(configuration: .init(tls: mismatched)) { _ in }
        }
    }

    @Test("the head and the body of a scenario's bytes, split for HTTP/2")
    func split() throws {
        let bytes = ByteBuffer(string: "HTTP/1.1 204 No Content\r\nX-A: 1\r\nX-B:  two words \r\n\r\nbody")
        let (head, body) = try #require(HTTP1BytesToResponseParts.split(bytes))
        #expect(head.status.code == 204)
        #expect(head.headers["X-A"] == ["1"])
        #expect(head.headers["X-B"] == ["two words"])
        #expect(String(buffer: body) == "body")
        #expect(HTTP1BytesToResponseParts.split(ByteBuffer(string: "HTTP/1.1 200 OK\r\nX-A: 1\r\n")) == nil)
    }
}
