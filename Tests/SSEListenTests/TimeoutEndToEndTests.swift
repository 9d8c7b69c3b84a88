import Foundation
import SSETestServer
import Testing

/// `--timeout` exits 0 only when the stream was open at some point: a server that was down,
/// refused or failing the whole time is exit 2 with the last failure, so a script can tell.
@Suite("sse-listen --timeout without a stream", .timeLimit(.minutes(1)))
struct TimeoutEndToEndTests {
    @Test("2: a refused port throughout, with the connection failure")
    func refused() async throws {
        // Port 1 on loopback: nothing listens there, so every attempt is refused at once.
        let url = "http://127.0.0.1:1/events"
        let result = try await ListenProcess.run([url, "--timeout", "1"] + fastRetries)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        let last = try #require(result.stderrLines.last)
        #expect(last.hasPrefix("sse-listen: error: no stream from \(url) within the --timeout of 1 s; last failure: "))
        #expect(last.contains("cannot connect: "), "\(last)")
        #expect(result.stderr.contains("reconnecting in"), "it kept trying until the timeout")
    }

    @Test("2: 503 throughout, with the status (also with --quiet)")
    func unavailable() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .status(503))
            let result = try await ListenProcess.run([url, "--timeout", "1", "--quiet"] + fastRetries)
            #expect(result.status == 2)
            #expect(result.stdout.isEmpty)
            #expect(
                result.stderrLines == [
                    "sse-listen: error: no stream from \(url) within the --timeout of 1 s; "
                        + "last failure: the server answered 503 Service Unavailable"
                ])
            #expect(server.requests.count >= 2, "it kept trying until the timeout")
        }
    }

    @Test("2: a server that never answers, still connecting")
    func neverAnswers() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .hangBeforeHeaders)
            let result = try await ListenProcess.run([url, "--timeout", "0.5"])
            #expect(result.status == 2)
            #expect(result.stdout.isEmpty)
            #expect(
                result.stderrLines.last
                    == "sse-listen: error: no stream from \(url) within the --timeout of 500 ms (still connecting)")
            #expect(server.requests.count == 1)
        }
    }
}
