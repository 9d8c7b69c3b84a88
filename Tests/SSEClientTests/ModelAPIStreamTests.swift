import SSEClient
import SSEParser
import SSETestServer
import SSETestSupport
import Testing

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The library as a model API's client would use it, against the TestServer's imitations of
/// OpenAI chat completions, Anthropic messages, OpenAI Responses and MCP Streamable HTTP.
@Suite("Model API streams", .timeLimit(.minutes(2)))
struct ModelAPIStreamTests {
    struct ChatChunk: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable { var content: String? }
            var delta: Delta
        }
        var choices: [Choice]
    }

    static func post(_ body: String = #"{"model":"test","stream":true}"#) -> EventSource.Configuration {
        .testing {
            $0.method = "POST"
            $0.headers = [HTTPHeader("Content-Type", "application/json")]
            $0.body = Array(body.utf8)
        }
    }

    @Test("OpenAI chat: typed chunks until [DONE] (with or without the space, past PROCESSING comments)")
    func openAIChat() async throws {
        try await TestServer.withRunning { server in
            for withoutSpace in [false, true] {
                let scenario = Scenario.openAIChat(tokens: 20, doneWithoutSpace: withoutSpace, processingComments: true)
                var configuration = Self.post()
                configuration.terminator = .data("[DONE]")
                let source = EventSource(url: server.url(for: scenario), configuration: configuration)
                let text = try await withTimeout("the completion") {
                    var text = ""
                    for try await chunk in source.events.decoded(as: ChatChunk.self) {
                        text += chunk.choices.first?.delta.content ?? ""
                    }
                    return text
                }
                #expect(text == Scenario.modelText(tokens: 20))
            }
        }
    }

    @Test("OpenAI chat cut at a random byte offset: the text so far, then truncated, never a normal end")
    func openAIChatTruncated() async throws {
        var random = SeededRandom(seed: 0x0A1)
        try await TestServer.withRunning { server in
            for _ in 0..<5 {
                var scenario = Scenario.openAIChat(tokens: 20)
                scenario.dropAfterBytes = Int.random(in: 1..<3000, using: &random)
                scenario.ending = Bool.random(using: &random) ? .reset : .close
                var configuration = Self.post()
                configuration.terminator = .data("[DONE]")
                let source = EventSource(url: server.url(for: scenario), configuration: configuration)
                let (text, error) = try await withTimeout("the completion") { () -> (String, EventSourceError?) in
                    var text = ""
                    do throws(EventSourceError) {
                        for try await chunk in source.events.decoded(as: ChatChunk.self) {
                            text += chunk.choices.first?.delta.content ?? ""
                        }
                    } catch {
                        return (text, error)
                    }
                    return (text, nil)
                }
                let cut = "\(scenario.dropAfterBytes!) bytes, \(scenario.ending!)"
                #expect(error?.code == .truncated, "\(cut)")
                #expect(Scenario.modelText(tokens: 20).hasPrefix(text), "\(cut)")
                #expect(text != Scenario.modelText(tokens: 20), "\(cut)")
            }
        }
    }

    enum Claude: Equatable {
        case text(String)
    }

    struct TextDelta: Decodable {
        struct Delta: Decodable { var text: String }
        var delta: Delta
    }

    static func anthropic() -> EventSource.Configuration {
        var configuration = post()
        configuration.terminator = .eventType("message_stop")
        configuration.errorEvents = .eventType("error")
        return configuration
    }

    static func claudeText(_ source: EventSource) async throws -> (String, EventSourceError?) {
        try await withTimeout("the message") { () -> (String, EventSourceError?) in
            var text = ""
            let stream = source.events.decoded { event -> Claude? in
                guard event.type == "content_block_delta" else { return nil }
                return .text(try event.decodeData(as: TextDelta.self).delta.text)
            }
            do throws(EventSourceError) {
                for try await case .text(let delta) in stream { text += delta }
            } catch {
                return (text, error)
            }
            return (text, nil)
        }
    }

    @Test("Anthropic messages: routed by event type until message_stop, pings skipped")
    func anthropicMessages() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .anthropicMessages(tokens: 12)), configuration: Self.anthropic())
            let (text, error) = try await Self.claudeText(source)
            #expect(error == nil)
            #expect(text == Scenario.modelText(tokens: 12))
        }
    }

    @Test("Anthropic overloaded_error after a 200: the text so far, then the server's error, terminal")
    func anthropicErrorMidStream() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .anthropicMessages(tokens: 12, errorAfter: 4)), configuration: Self.anthropic())
            let (text, error) = try await Self.claudeText(source)
            #expect(text == Scenario.modelText(tokens: 4))
            #expect(error?.code == .serverError)
            #expect(error?.message?.contains("overloaded_error") == true)
            #expect(server.requests.count == 1)
        }
    }

    @Test("Anthropic error before any event: like a 503, retried when replay is allowed; a POST ends with it")
    func anthropicErrorFirst() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .anthropicMessages(tokens: 3, errorAfter: 0))
            let plain = EventSource(url: url, configuration: Self.anthropic())
            let (_, error) = try await Self.claudeText(plain)
            #expect(error?.code == .serverError)
            #expect(server.requests.count == 1)

            var replaying = Self.anthropic()
            replaying.replaysNonIdempotentRequests = true
            replaying.reconnect.maximumAttempts = 2
            let retried = EventSource(url: url, configuration: replaying)
            let (_, gaveUp) = try await Self.claudeText(retried)
            // Every answer is the same error: retried until the attempts run out.
            #expect(gaveUp?.code == .gaveUp)
            #expect(gaveUp?.lastFailure?.code == .serverError)
            #expect(server.requests.count == 1 + 3)
        }
    }

    struct Sequenced: Decodable {
        var type: String
        var sequence_number: Int
        var delta: String?
    }

    @Test(
        "OpenAI Responses dropped at random byte offsets, resumed by GET with starting_after: every token once, in order"
    )
    func responsesResume() async throws {
        var random = SeededRandom(seed: 0x4E5)
        try await TestServer.withRunning { server in
            for round in 0..<4 {
                var scenario = Scenario.responses(tokens: 20, responseID: "resp_\(round)")
                // More than the largest event, so every connection makes progress.
                scenario.dropAfterBytes = Int.random(in: 700..<2000, using: &random)
                scenario.ending = round.isMultiple(of: 2) ? .reset : .close
                let url = server.url(for: scenario)
                var configuration = Self.post()
                configuration.terminator = .eventType("response.completed")
                let hooks = EventSource.Hooks(resumeRequest: { resumption in
                    var request = resumption.request
                    (request.method, request.body) = ("GET", nil)
                    if let last = try resumption.lastEvent?.decodeData(as: Sequenced.self) {
                        request.url = url + "&starting_after=\(last.sequence_number)"
                    }
                    return request
                })
                let source = EventSource(url: url, configuration: configuration, hooks: hooks)
                let events = try await withTimeout("the response") {
                    var events: [Sequenced] = []
                    for try await event in source.events.decoded(as: Sequenced.self) { events.append(event) }
                    return events
                }
                let cut = "\(scenario.dropAfterBytes!) bytes"
                #expect(events.map(\.sequence_number) == Array(0..<events.count), "\(cut)")
                let text = events.filter { $0.type == "response.output_text.delta" }.compactMap(\.delta).joined()
                #expect(text == Scenario.modelText(tokens: 20), "\(cut)")
                #expect(server.requests.count > 1, "\(cut): never dropped")
            }
        }
    }

    struct RPC: Decodable {
        struct Params: Decodable { var message: String? }
        struct Result: Decodable {
            struct Content: Decodable { var text: String }
            var content: [Content]
        }
        var id: Int?
        var params: Params?
        var result: Result?
    }

    @Test("MCP: the POST's stream closes early or is reset at random offsets; GETs with Last-Event-ID resume it")
    func mcpResume() async throws {
        var random = SeededRandom(seed: 0x3C9)
        try await TestServer.withRunning { server in
            for round in 0..<4 {
                var scenario = Scenario.mcpToolCall(tokens: 10, closeAfter: 3)
                if round > 0 {
                    scenario.dropAfterBytes = Int.random(in: 300..<900, using: &random)
                    scenario.ending = .reset
                }
                var configuration = Self.post(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}"#)
                configuration.headers.append(HTTPHeader("Accept", "application/json, text/event-stream"))
                let hooks = EventSource.Hooks(resumeRequest: { resumption in
                    var request = resumption.request
                    (request.method, request.body) = ("GET", nil)
                    return request
                })
                let source = EventSource(
                    url: server.url(for: scenario.keyed("mcp-\(round)")), configuration: configuration, hooks: hooks)
                let (progress, result) = try await withTimeout("the tool result") { () -> ([String], String?) in
                    var progress: [String] = []
                    for try await event in source.events where !event.data.isEmpty {
                        let message = try event.decodeData(as: RPC.self)
                        if message.id == 1, let result = message.result {
                            return (progress, result.content.first?.text)
                        }
                        if let text = message.params?.message { progress.append(text) }
                    }
                    return (progress, nil)
                }
                #expect(progress.joined() == Scenario.modelText(tokens: 10), "round \(round)")
                #expect(result == Scenario.modelText(tokens: 10), "round \(round)")
                let resumes = server.requests.filter { $0.method == "GET" && $0.header("Last-Event-ID") != nil }
                #expect(resumes.count >= round + 1, "round \(round): never resumed")
            }
        }
    }
}
