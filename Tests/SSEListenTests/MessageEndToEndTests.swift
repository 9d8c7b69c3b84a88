import Foundation
import SSETestServer
import SSETestSupport
import Testing

/// Messages that name the command's own flags, blame the right part of an argument, and carry
/// the `sse-listen:` prefix on every line.
@Suite("sse-listen messages", .timeLimit(.minutes(1)))
struct MessageEndToEndTests {
    @Test("TLS: an unknown CA names --cacert FILE and -k; a host-name mismatch does not suggest a CA")
    func tlsHints() async throws {
        let terminator = try await TLSTerminator()
        try await TestServer.withRunning { server in
            try await terminator.withListener(upstreamPort: server.port) { port in
                let url = "https://127.0.0.1:\(port)/events?count=1"
                let unknownCA = try await ListenProcess.run([url])
                #expect(unknownCA.status == 2)
                let line = try #require(unknownCA.stderrLines.last)
                #expect(line.hasPrefix("sse-listen: error: TLS certificate of \(url) could not be verified: "))
                #expect(
                    line.hasSuffix(
                        "(pass the issuing CA with --cacert FILE, or use -k to skip verification (for testing only))"),
                    "\(line)")
                #expect(!line.contains("CA file") && !line.contains("insecure mode"), "the library's API names")
            }
            try await terminator.withListener(certificate: "wronghost", upstreamPort: server.port) { port in
                let url = "https://127.0.0.1:\(port)/events?count=1"
                let wrongHost = try await ListenProcess.run([url, "--cacert", terminator.path("ca.pem")])
                #expect(wrongHost.status == 2)
                let line = try #require(wrongHost.stderrLines.last)
                #expect(line.hasPrefix("sse-listen: error: TLS certificate of \(url) could not be verified: "))
                #expect(
                    line.hasSuffix(
                        "(the certificate is for another host name: connect with a name it was issued for, "
                            + "or use -k to skip verification (for testing only))"),
                    "\(line)")
                #expect(!line.contains("--cacert"))
            }
        }
    }

    @Test(
        "-H: the message blames the part that is wrong",
        arguments: [
            (
                "X-A: a\r\nInjected: 1",
                #"-H/--header value of 'X-A' contains CR, LF or NUL, which would split the request: 'X-A: a\r\nInjected: 1'"#
            ),
            (
                "X-A: a\nb",
                #"-H/--header value of 'X-A' contains CR, LF or NUL, which would split the request: 'X-A: a\nb'"#
            ),
            (
                "Bad Name: v",
                "-H/--header needs 'Name: value' with a valid field name (letters, digits, !#$%&'*+-.^_`|~), "
                    + "got name 'Bad Name' in 'Bad Name: v'"
            ),
            ("no colon", "-H/--header needs 'Name: value', got 'no colon'"),
        ]
    )
    func headerMessages(header: String, message: String) async throws {
        let result = try await ListenProcess.run(["http://127.0.0.1:1/", "-H", header])
        #expect(result.status == 1)
        #expect(result.stderrLines.first == "sse-listen: error: \(message)")
        #expect(result.stderrLines.count == 2, "one line each: CR and LF are shown escaped")
    }

    @Test("-v: every line on standard error carries the sse-listen: prefix")
    func verbosePrefix() async throws {
        try await TestServer.withRunning { server in
            let url = server.route("/v", .raw("retry: 2500\n: ping\nid: 1\ndata: x\n\n"))
            let result = try await ListenProcess.run([url, "-v", "--no-reconnect"])
            #expect(result.status == 0)
            let lines = result.stderrLines
            #expect(lines.count >= 8, "\(lines)")
            #expect(lines.allSatisfy { $0.hasPrefix("sse-listen: ") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("sse-listen: > GET ") })
            #expect(lines.contains("sse-listen: < HTTP/1.1 200 OK"))
            #expect(lines.contains("sse-listen: comment: ping"))
        }
    }
}
