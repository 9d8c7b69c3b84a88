import Foundation
import SSETestServer
import Testing

/// `--until`, `--until-event` and `--error-event` against the TestServer's model-API streams,
/// through the real `sse-listen` binary: how the run ends, its exit status, what it printed.
@Suite("sse-listen and model API streams", .timeLimit(.minutes(1)))
struct ModelStreamEndToEndTests {
    static let prompt = #"{"model":"test","stream":true}"#

    @Test("--until '[DONE]': every chunk printed, [DONE] not, exit 0; with or without the space")
    func untilDone() async throws {
        try await TestServer.withRunning { server in
            for withoutSpace in [false, true] {
                let url = server.url(for: .openAIChat(tokens: 5, doneWithoutSpace: withoutSpace))
                let result = try await ListenProcess.run([
                    url, "-d", Self.prompt, "--until", "[DONE]", "--format", "data",
                ])
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.stdoutLines.count == 7)  // the role chunk, 5 tokens, the finish chunk
                #expect(!result.stdout.contains("[DONE]"))
                #expect(result.stderrLines.last == "sse-listen: the stream is complete (its terminator arrived); done")
                #expect(server.requests.last?.method == "POST")
            }
        }
    }

    @Test("--until, a POST cut before [DONE] (FIN or RST): the chunks so far, then exit 3 saying what was expected")
    func truncatedPost() async throws {
        try await TestServer.withRunning { server in
            for ending in [Scenario.Ending.close, .reset, .finish] {
                var scenario = Scenario.openAIChat(tokens: 20)
                scenario.dropAfterBytes = 1500
                scenario.ending = ending
                let result = try await ListenProcess.run([
                    server.url(for: scenario), "-d", Self.prompt, "--until", "[DONE]", "--format", "data",
                ])
                #expect(result.status == 3, "\(ending): \(result.stderr)")
                #expect(!result.stdoutLines.isEmpty)
                let last = try #require(result.stderrLines.last)
                #expect(
                    last.hasPrefix(#"sse-listen: error: stream ended before its terminator (data "[DONE]" expected)"#))
            }
        }
    }

    @Test("--until on a GET with --no-reconnect: ending before the terminator exits 3; without --until it is 0")
    func truncatedGet() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 3))
            let truncated = try await ListenProcess.run([url, "--no-reconnect", "--until", "[DONE]"])
            #expect(truncated.status == 3)
            #expect(truncated.ids == ["1", "2", "3"])
            let plain = try await ListenProcess.run([url, "--no-reconnect"])
            #expect(plain.status == 0)
        }
    }

    @Test("--until-event message_stop ends an Anthropic stream with 0, pings and all printed before it")
    func untilEvent() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .anthropicMessages(tokens: 4))
            let result = try await ListenProcess.run([
                url, "-d", Self.prompt, "--until-event", "message_stop", "--error-event", "error",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let types = result.jsonObjects().map { $0["event"] ?? "?" }
            #expect(types.first == "message_start")
            #expect(types.filter { $0 == "content_block_delta" }.count == 4)
            #expect(!types.contains("message_stop"))
        }
    }

    @Test("--error-event error: Anthropic's overloaded_error after a 200 ends the run with 2, its data on stderr")
    func errorEvent() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .anthropicMessages(tokens: 6, errorAfter: 2))
            let result = try await ListenProcess.run([
                url, "-d", Self.prompt, "--until-event", "message_stop", "--error-event", "error",
            ])
            #expect(result.status == 2)
            let types = result.jsonObjects().map { $0["event"] ?? "?" }
            #expect(types.filter { $0 == "content_block_delta" }.count == 2)
            #expect(!types.contains("error"))
            let last = try #require(result.stderrLines.last)
            #expect(last.hasPrefix("sse-listen: error: the server sent an error (event error): {"))
            #expect(last.contains("overloaded_error"))
        }
    }

    @Test("--help lists the flags and exit status 3")
    func help() async throws {
        let result = try await ListenProcess.run(["--help"])
        #expect(result.status == 0)
        for text in [
            "--until <data>", "--until-event <type>", "--error-event <type>", "  3    the stream ended before",
        ] {
            #expect(result.stdout.contains(text), "\(text)")
        }
    }
}
