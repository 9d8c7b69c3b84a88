import Foundation
import SSETestServer
import Testing

/// `--field` and `--join` through the built binary against the TestServer: the exact bytes on
/// standard output, however the run ends.
@Suite("sse-listen --field and --join", .timeLimit(.minutes(1)))
struct FieldEndToEndTests {
    /// A chat completion streamed the way such APIs stream it: a first chunk with only the role,
    /// content deltas (escapes, non-ASCII, a surrogate pair), a last chunk with no content, `[DONE]`.
    static let chat: String = {
        let prefix = #"{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":"#
        let deltas = [
            #"{"role":"assistant","content":""}"#, #"{"content":"Hello"}"#, #"{"content":", w\u00f6rld"}"#,
            #"{"content":"! \ud83c\udf89"}"#, #"{"content":" \"quoted\""}"#, #"{}"#,
        ]
        return deltas.map { "data: \(prefix)\($0)}]}\n\n" }.joined() + "data: [DONE]\n\n"
    }()

    /// Polls standard output until it ends with `suffix`.
    static func waitForStdout(_ process: ListenProcess, endingWith suffix: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !process.stdoutSoFar.hasSuffix(suffix) {
            guard ContinuousClock.now < deadline else {
                throw HarnessError("stdout never ended with \(suffix.debugDescription): \(process.stdoutSoFar)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("a chat completion: POST a body, print the content deltas joined, one line feed at the end, -v counts")
    func chatCompletion() async throws {
        try await TestServer.withRunning { server in
            let directory = try TemporaryDirectory()
            let body = directory.file("body.json")
            try Data(#"{"model":"m","stream":true}"#.utf8).write(to: URL(fileURLWithPath: body))
            let url = server.route("/v1/chat/completions", .raw(Self.chat))
            let result = try await ListenProcess.run([
                "-X", "POST", "-d", "@\(body)", "--field", "choices.0.delta.content", "--join", "-v", url,
            ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "Hello, wörld! 🎉 \"quoted\"\n")
            #expect(
                result.stderrLines.contains(
                    "sse-listen: --field choices.0.delta.content: 2 of 7 events had no value there "
                        + "(data not JSON, or no such path) and printed nothing"),
                "\(result.stderrLines)")
            #expect(server.requests.first?.method == "POST")
            #expect(server.requests.first?.bodyText == #"{"model":"m","stream":true}"#)
        }
    }

    @Test("--field without --join: one value per line, non-strings as compact JSON; jsonl keeps id and type")
    func valuePerLine() async throws {
        try await TestServer.withRunning { server in
            let events =
                "id: 1\nevent: tick\ndata: {\"v\": \"text\"}\n\n" + "id: 2\ndata: {\"v\": [1, {\"a\": null}]}\n\n"
                + "id: 3\ndata: plain\n\n" + "id: 4\ndata: {\"v\": 2.50}\n\n"
            let url = server.route("/values", .raw(events))
            let data = try await ListenProcess.run([url, "--no-reconnect", "--field", "v"])
            #expect(data.status == 0)
            #expect(data.stdout == "text\n[1,{\"a\":null}]\n2.50\n")

            let jsonl = try await ListenProcess.run([url, "--no-reconnect", "--field", "v", "--format", "jsonl"])
            #expect(jsonl.status == 0)
            #expect(
                jsonl.stdout
                    == #"{"id":"1","event":"tick","data":"text"}"# + "\n"
                    + #"{"id":"2","event":"message","data":"[1,{\"a\":null}]"}"# + "\n"
                    + #"{"id":"4","event":"message","data":"2.50"}"# + "\n")
        }
    }

    @Test("the echo event: a field of the request the server saw")
    func echo() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run([
                server.url(for: .echo, path: "/echo"), "-d", #"{"prompt":"hi"}"#, "--field", "body",
            ])
            #expect(result.status == 0)
            #expect(result.stdout == #"{"prompt":"hi"}"# + "\n")
        }
    }

    @Test("--join --max-events: the line feed still ends the output")
    func joinedMaxEvents() async throws {
        try await TestServer.withRunning { server in
            let url = server.route("/chat", .raw(Self.chat))
            let result = try await ListenProcess.run([
                url, "--field", "choices.0.delta.content", "-j", "--max-events", "3", "-q",
            ])
            #expect(result.status == 0)
            #expect(result.stdout == "Hello, wörld\n", "the role chunk's empty content counts: 3 values")
        }
    }

    @Test(
        "--join on an open stream: each token written as it arrives; SIGINT or --timeout still ends the line",
        arguments: ["SIGINT", "--timeout"])
    func joinedInterrupted(ending: String) async throws {
        try await TestServer.withRunning { server in
            var scenario = Scenario.raw(
                "data: {\"t\":\"one \"}\n\ndata: {\"t\":\"two\"}\n\ndata: {\"nothing\":1}\n\n")
            scenario.ending = .hang
            let url = server.route("/open", scenario)
            let process = try ListenProcess(
                [url, "--field", "t", "--join", "-q"] + (ending == "--timeout" ? ["--timeout", "2"] : []))
            if ending == "SIGINT" {
                // Written as they arrived, before the interrupt: no line feed yet.
                try await Self.waitForStdout(process, endingWith: "one two")
                process.send(SIGINT)
            }
            // With --timeout the run may already be over (a loaded machine starts it late), so
            // only its final output is asserted.
            let result = try await process.finish()
            #expect(result.status == (ending == "SIGINT" ? 130 : 0))
            #expect(result.stdout == "one two\n")
        }
    }

    @Test("usage errors exit 1 before connecting: --field with raw, --join with jsonl, an empty component")
    func usageErrors() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 1))
            for (arguments, message) in [
                (["--field", "a", "--format", "raw"], "--field prints one value per event; use it with --format "),
                (["--join", "--format", "jsonl"], "-j/--join joins the data of events; use it with --format data "),
                (["--field", "a..b"], "--field 'a..b' has an empty component: "),
            ] {
                let result = try await ListenProcess.run([url] + arguments)
                #expect(result.status == 1, "\(arguments)")
                #expect(result.stdout.isEmpty)
                #expect(
                    result.stderrLines.first?.hasPrefix("sse-listen: error: " + message) == true, "\(result.stderr)")
            }
            #expect(server.requests.isEmpty)
        }
    }
}
