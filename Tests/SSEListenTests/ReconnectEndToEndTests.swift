import SSETestServer
import Testing

/// How long `sse-listen` waits before reconnecting, as it reports it: the base again after a
/// connection that delivered new events, and never sooner than the server's `retry:`.
@Suite("sse-listen reconnect delays", .timeLimit(.minutes(2)))
struct ReconnectEndToEndTests {
    /// The delays in "reconnecting in N ms (attempt A)" status lines, with their attempt numbers.
    private func announcedDelays(_ stderr: [String]) -> [(milliseconds: Int, attempt: Int)] {
        stderr.compactMap { line in
            guard let range = line.firstRange(of: "reconnecting in ") else { return nil }
            let rest = line[range.upperBound...]
            let parts = rest.split(separator: " ")
            guard parts.count >= 4 else { return nil }
            let value = Double(parts[0]) ?? 0
            let milliseconds = parts[1] == "s" ? Int(value * 1000) : Int(value)
            let attempt = Int(parts[3].trimmingCharacters(in: .punctuationCharacters)) ?? -1
            return (milliseconds, attempt)
        }
    }

    @Test("a poll-style server (one event per connection, then close, retry: 300) is met after its retry: every time")
    func pollStyleServer() async throws {
        try await TestServer.withRunning { server in
            let scenario = Scenario.numbered(count: 100).droppingAfter(events: 1).retrying(after: .milliseconds(300))
            let result = try await ListenProcess.run([server.url(for: scenario), "--max-events", "5"])
            #expect(result.status == 0)
            #expect(result.ids == ["1", "2", "3", "4", "5"])
            let delays = announcedDelays(result.stderrLines)
            #expect(delays.count == 4, "\(result.stderrLines)")
            for delay in delays {
                // Progress each time: attempt 1, the server's base, spread above it, never below.
                #expect(delay.attempt == 1)
                #expect(delay.milliseconds >= 300 && delay.milliseconds <= 450, "\(delay)")
            }
            // Each reconnect resumed after the event before it.
            #expect(server.requests.dropFirst().map { $0.header("Last-Event-ID") } == ["1", "2", "3", "4"])
        }
    }

    @Test("connections that deliver nothing still back off: the delay doubles per attempt")
    func failuresBackOff() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run([
                server.url(for: .status(503)), "--retry-initial", "100", "--max-retries", "3",
            ])
            #expect(result.status == 2)
            let delays = announcedDelays(result.stderrLines)
            #expect(delays.map(\.attempt) == [1, 2, 3], "\(result.stderrLines)")
            // Our own base: jitter takes up to half off, so attempt n waits 100 × 2^(n−1) × [0.5, 1].
            for delay in delays {
                let full = 100 << (delay.attempt - 1)
                #expect(delay.milliseconds >= full / 2 && delay.milliseconds <= full, "\(delay)")
            }
        }
    }
}
