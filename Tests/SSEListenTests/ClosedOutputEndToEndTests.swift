import Foundation
import SSETestServer
import Testing

/// The reader of standard output going away ends the run quietly with 0 even when the stream
/// stays open and says nothing more, so a pipeline such as `| head -n 1` finishes.
@Suite("sse-listen with a closed standard output", .timeLimit(.minutes(1)))
struct ClosedOutputEndToEndTests {
    @Test("0: the reader takes one line and leaves; the stream then stays quiet")
    func readerLeavesWhileQuiet() async throws {
        try await TestServer.withRunning { server in
            var scenario = Scenario.numbered(count: 1)
            // One event, then the connection stays open and silent for good: only noticing the
            // reader's hang-up can end the run (the idle timeout is 300 s).
            scenario.ending = .hang
            let result = try await ListenProcess.run(
                [server.url(for: scenario), "--format", "data"],
                shell: #""$@" | (read -r line && printf 'read: %s\n' "$line"); exit ${PIPESTATUS[0]}"#,
                timeout: .seconds(30)
            )
            #expect(result.status == 0)
            #expect(result.stdout == "read: 1\n")
            #expect(!result.stderr.contains("error"), "\(result.stderr)")
            #expect(result.stderr.contains("connected: 200 OK"))
            #expect(server.requests.count == 1)
        }
    }

    @Test("0: a reader that leaves before the first event")
    func readerLeavesBeforeAnyEvent() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run(
                [server.url(for: .hangAfterHeaders), "--idle-timeout", "0"],
                // `true` reads nothing and exits at once; the stream never sends a byte.
                shell: #""$@" | true; exit ${PIPESTATUS[0]}"#,
                timeout: .seconds(30)
            )
            #expect(result.status == 0)
            #expect(result.stdout.isEmpty)
            #expect(!result.stderr.contains("error"), "\(result.stderr)")
        }
    }
}
