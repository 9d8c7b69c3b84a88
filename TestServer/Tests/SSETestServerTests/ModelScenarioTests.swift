import Foundation
import SSEParser
import SSETestServer
import SSETestSupport
import Testing

/// The events of `text`, as a client's parser dispatches them.
func parsedEvents(_ text: String) throws -> [ServerSentEvent] {
    var parser = EventStreamParser()
    return try parser.parse(Array(text.utf8)).compactMap { item in
        if case .event(let event) = item { event } else { nil }
    }
}

/// The comments of `text`, as a client's parser reads them.
func parsedComments(_ text: String) throws -> [String] {
    var parser = EventStreamParser()
    return try parser.parse(Array(text.utf8)).compactMap { item in
        if case .comment(let comment) = item { comment } else { nil }
    }
}

/// One OpenAI chat chunk as it goes on the wire, written out independently of the server's generator.
private func chatChunk(delta: String, finishReason: String = "null") -> String {
    #"data: {"id":"chatcmpl-test","object":"chat.completion.chunk","created":0,"model":"test","#
        + #""choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(finishReason)}]}"# + "\n\n"
}

@Suite("Model streams on the wire: OpenAI chat, Anthropic, Responses, MCP", .timeLimit(.minutes(1)))
struct ModelScenarioTests {
    // MARK: OpenAI chat completions

    @Test("OpenAI chat: a POST gets the chunks and data: [DONE], byte for byte, then the end of the response")
    func openAIChat() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(
                port: server.port,
                .request("POST", "/v1/chat/completions?tokens=2", body: #"{"model":"x","stream":true}"#)
            )
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "text/event-stream")
            #expect(
                response.text
                    == chatChunk(delta: #"{"role":"assistant","content":""}"#)
                    + chatChunk(delta: #"{"content":"tok1 "}"#)
                    + chatChunk(delta: #"{"content":"tok2 "}"#)
                    + chatChunk(delta: "{}", finishReason: #""stop""#)
                    + "data: [DONE]\n\n"
            )
            #expect(!response.text.contains("id:"))
            #expect(response.body.complete)
            #expect(response.ending == .fin)
            #expect(server.requests.first?.method == "POST")
        }
    }

    @Test("OpenAI chat: a GET for demos; data:[DONE] without the space; : PROCESSING between chunks")
    func openAIChatOptions() async throws {
        try await TestServer.withRunning { server in
            let scenario = Scenario.openAIChat(tokens: 3, doneWithoutSpace: true, processingComments: true)
            let response = try await RawHTTPClient.exchange(port: server.port, .get(target(server, scenario)))
            #expect(
                response.text.hasSuffix(
                    chatChunk(delta: "{}", finishReason: #""stop""#) + ": PROCESSING\ndata:[DONE]\n\n"))
            let events = try parsedEvents(response.text)
            #expect(events == scenario.modelEvents())
            #expect(events.last?.data == "[DONE]")
            #expect(try parsedComments(response.text) == Array(repeating: " PROCESSING", count: events.count - 1))
            // Between chunks: never before the first, never after the last.
            #expect(response.text.hasPrefix("data: {"))
            #expect(!response.text.hasSuffix(": PROCESSING\n"))
        }
    }

    @Test("OpenAI chat composes with faults: a drop with RST after K events, tiny writes, a 503 first")
    func openAIChatFaults() async throws {
        try await TestServer.withRunning { server in
            let dropped = try await RawHTTPClient.exchange(
                port: server.port, .get("/v1/chat/completions?tokens=5&dropAfter=2&end=reset"))
            #expect(try parsedEvents(dropped.text) == Array(Scenario.openAIChat(tokens: 5).modelEvents().prefix(2)))
            #expect(dropped.ending == .reset)

            let scenario = Scenario.openAIChat(tokens: 2).tinyWrites(size: 3).framing(.connectionClose)
            let tiny = try await RawHTTPClient.exchange(port: server.port, .get(target(server, scenario)))
            #expect(try parsedEvents(String(decoding: tiny.wireBody, as: UTF8.self)) == scenario.modelEvents())

            let failing = "/v1/chat/completions?tokens=1&status=503&times=1"
            let first = try await RawHTTPClient.exchange(port: server.port, .request("POST", failing, body: "{}"))
            #expect(first.status == 503)
            let second = try await RawHTTPClient.exchange(port: server.port, .request("POST", failing, body: "{}"))
            #expect(try parsedEvents(second.text) == Scenario.openAIChat(tokens: 1).modelEvents())
        }
    }

    // MARK: Anthropic messages

    @Test("Anthropic: typed events exactly as the service sends them")
    func anthropicMessages() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(
                port: server.port, .request("POST", "/v1/messages?tokens=1", body: "{}"))
            #expect(
                response.text
                    == """
                    event: message_start
                    data: {"type":"message_start","message":{"id":"msg_test","type":"message","role":"assistant",\
                    "model":"test","content":[],"stop_reason":null,"stop_sequence":null,\
                    "usage":{"input_tokens":1,"output_tokens":1}}}

                    event: content_block_start
                    data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

                    event: ping
                    data: {"type": "ping"}

                    event: content_block_delta
                    data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"tok1 "}}

                    event: content_block_stop
                    data: {"type":"content_block_stop","index":0}

                    event: message_delta
                    data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},\
                    "usage":{"output_tokens":1}}

                    event: message_stop
                    data: {"type":"message_stop"}


                    """
            )
            #expect(response.body.complete)
        }
    }

    @Test("Anthropic errorAfter=K: an error event after K deltas ends the stream; the status stays 200")
    func anthropicError() async throws {
        try await TestServer.withRunning { server in
            let errorEvent = """
                event: error
                data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}


                """
            let late = try await RawHTTPClient.exchange(port: server.port, .get("/v1/messages?tokens=4&errorAfter=2"))
            #expect(late.status == 200)
            #expect(late.text.hasSuffix(#"{"type":"text_delta","text":"tok2 "}}"# + "\n\n" + errorEvent))
            let events = try parsedEvents(late.text)
            #expect(events == Scenario.anthropicMessages(tokens: 4, errorAfter: 2).modelEvents())
            #expect(
                events.map(\.type) == [
                    "message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
                    "error",
                ])
            #expect(late.body.complete)
            #expect(late.ending == .fin)

            let early = try await RawHTTPClient.exchange(port: server.port, .get("/v1/messages?errorAfter=0"))
            #expect(early.status == 200)
            #expect(early.text == errorEvent)
        }
    }

    // MARK: OpenAI Responses

    /// The sequence number of the last event of `events`.
    private func lastSequenceNumber(_ events: [ServerSentEvent]) throws -> Int {
        let last = try #require(events.last)
        return try #require(try jsonValue(last.data, "sequence_number") as? Int)
    }

    @Test("Responses: dropped every K events, a GET with starting_after=N to the same URL continues exactly")
    func responsesResumeSameURL() async throws {
        try await TestServer.withRunning { server in
            // Cut after 5 events with the default ending (FIN); the end of the content still finishes.
            var scenario = Scenario.responses(tokens: 4)
            scenario.dropAfterEvents = 5
            let url = target(server, scenario, path: "/v1/responses")
            var received: [ServerSentEvent] = []
            var response = try await RawHTTPClient.exchange(port: server.port, .request("POST", url, body: "{}"))
            var connections = 1
            // Until response.completed, as a client would.
            while try parsedEvents(response.text).last?.type != "response.completed" {
                #expect(response.ending == .fin)
                #expect(!response.body.complete)
                let events = try parsedEvents(response.text)
                #expect(events.count == 5)
                received += events
                let next = "\(url)&starting_after=\(try lastSequenceNumber(received))"
                response = try await RawHTTPClient.exchange(port: server.port, .get(next))
                connections += 1
                try #require(connections <= 3, "the stream completes within its 12 events")
            }
            #expect(response.body.complete)
            received += try parsedEvents(response.text)
            #expect(received == scenario.modelEvents())
            #expect(connections == 3)
            let deltas = try received.filter { $0.type == "response.output_text.delta" }.map {
                try jsonValue($0.data, "delta") as? String ?? ""
            }
            #expect(deltas.joined() == Scenario.modelText(tokens: 4))
            let requests = server.requests
            #expect(requests.map(\.method) == ["POST", "GET", "GET"])
            #expect(requests[2].queryValue("starting_after") == "9")
        }
    }

    @Test("Responses: GET /v1/responses/{id}?stream=true&starting_after=N continues the remembered response")
    func responsesResumeByID() async throws {
        try await TestServer.withRunning { server in
            let full = Scenario.responses(tokens: 3, responseID: "resp_r1").modelEvents()
            let first = try await RawHTTPClient.exchange(
                port: server.port,
                .request("POST", "/v1/responses?tokens=3&response=resp_r1&dropAfter=4&end=reset", body: "{}")
            )
            #expect(first.ending == .reset)
            let head = try parsedEvents(first.text)
            #expect(head == Array(full[..<4]))
            #expect(try jsonValue(head[0].data, "response", "id") as? String == "resp_r1")

            // The GET names only the response: its length and its faults are the POST's.
            let second = try await RawHTTPClient.exchange(
                port: server.port, .get("/v1/responses/resp_r1?stream=true&starting_after=3"))
            #expect(second.ending == .reset)
            #expect(try parsedEvents(second.text) == Array(full[4..<8]))
            let third = try await RawHTTPClient.exchange(
                port: server.port, .get("/v1/responses/resp_r1?stream=true&starting_after=7"))
            #expect(try parsedEvents(third.text) == Array(full[8...]))
            // end=reset ends every response of the scenario, the one that runs out too.
            #expect(third.ending == .reset)
        }
    }

    @Test("Responses: a resumption shares the counters, so a server that failed once has recovered")
    func responsesResumeSharesCounters() async throws {
        try await TestServer.withRunning { server in
            let url = "/v1/responses?tokens=2&dropAfter=3&status=503&times=1"
            let failed = try await RawHTTPClient.exchange(port: server.port, .request("POST", url, body: "{}"))
            #expect(failed.status == 503)
            let first = try await RawHTTPClient.exchange(port: server.port, .request("POST", url, body: "{}"))
            #expect(try parsedEvents(first.text).count == 3)
            let resumed = try await RawHTTPClient.exchange(port: server.port, .get("\(url)&starting_after=2"))
            #expect(resumed.status == 200)
            let byID = try await RawHTTPClient.exchange(
                port: server.port, .get("/v1/responses/resp_test?starting_after=5"))
            #expect(byID.status == 200)
            #expect(
                try parsedEvents(resumed.text + byID.text) == Array(Scenario.responses(tokens: 2).modelEvents()[3..<9]))
        }
    }

    // MARK: MCP Streamable HTTP

    private let toolCall =
        #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"generate","arguments":{}}}"#

    @Test("MCP: the POST's stream closes cleanly after K events; a GET with Last-Event-ID resumes to the response")
    func mcpResume() async throws {
        try await TestServer.withRunning { server in
            let url = "/mcp?tokens=3&closeAfter=2"
            let post = try await RawHTTPClient.exchange(
                port: server.port,
                .request(
                    "POST", url,
                    headers: ["Content-Type: application/json", "Accept: application/json, text/event-stream"],
                    body: toolCall)
            )
            #expect(post.status == 200)
            #expect(post.header("Content-Type") == "text/event-stream")
            #expect(post.text.hasPrefix("id: 7-0\ndata:\n\nid: 7-1\ndata: {"))
            let head = try parsedEvents(post.text)
            #expect(head.map(\.id) == ["7-0", "7-1"])
            #expect(head[0].data == "")
            #expect(post.body.complete)
            #expect(post.ending == .fin)

            let get = try await RawHTTPClient.exchange(port: server.port, .get(url, headers: ["Last-Event-ID: 7-1"]))
            let rest = try parsedEvents(get.text)
            #expect(rest.map(\.id) == ["7-2", "7-3", "7-4"])
            #expect(get.body.complete)
            #expect(head + rest == Scenario.mcpToolCall(tokens: 3).modelEvents(mcpRequestID: "7"))
            let result = try #require(rest.last).data
            #expect(try jsonValue(result, "id") as? Int == 7)
            #expect(try jsonValue(result, "result", "content", 0, "text") as? String == Scenario.modelText(tokens: 3))
            let progress = try rest.dropLast().map { try jsonValue($0.data, "params", "progress") as? Int }
            #expect(progress == [2, 3])
        }
    }

    @Test("MCP composes with dropAfter and end=reset: each connection is cut, each GET resumes after it")
    func mcpDropsAndResets() async throws {
        try await TestServer.withRunning { server in
            let url = "/mcp?tokens=3&dropAfter=2&end=reset"
            var received: [ServerSentEvent] = []
            var connections = 0
            // Until the JSON-RPC response has arrived, as a client would.
            while received.last.map({ !$0.data.contains(#""result""#) }) ?? true {
                try #require(connections < 3, "the stream completes within its 5 events")
                let request: String =
                    if let lastID = received.last?.id {
                        .get(url, headers: ["Last-Event-ID: \(lastID)"])
                    } else {
                        .request("POST", url, body: toolCall)
                    }
                let response = try await RawHTTPClient.exchange(port: server.port, request)
                #expect(response.ending == .reset)
                received += try parsedEvents(response.text)
                connections += 1
            }
            #expect(received == Scenario.mcpToolCall(tokens: 3).modelEvents(mcpRequestID: "7"))
            #expect(connections == 3)
            #expect(server.requests.compactMap { $0.header("Last-Event-ID") } == ["7-1", "7-3"])
        }
    }

    @Test("MCP: a string id names the stream; a GET without Last-Event-ID, a notification, and bad JSON are refused")
    func mcpOtherRequests() async throws {
        try await TestServer.withRunning { server in
            let named = try await RawHTTPClient.exchange(
                port: server.port,
                .request("POST", "/mcp?tokens=1", body: #"{"jsonrpc":"2.0","id":"call-1","method":"tools/call"}"#)
            )
            #expect(
                try parsedEvents(named.text) == Scenario.mcpToolCall(tokens: 1).modelEvents(mcpRequestID: #""call-1""#))
            #expect(try parsedEvents(named.text).first?.id == #""call-1"-0"#)

            let standalone = try await RawHTTPClient.exchange(port: server.port, .get("/mcp"))
            #expect(standalone.status == 405)
            #expect(standalone.header("Allow") == "POST")
            let notification = try await RawHTTPClient.exchange(
                port: server.port,
                .request("POST", "/mcp", body: #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            )
            #expect(notification.status == 202)
            #expect(notification.wireBody.isEmpty)
            let invalid = try await RawHTTPClient.exchange(port: server.port, .request("POST", "/mcp", body: "{"))
            #expect(invalid.status == 400)
            #expect(invalid.header("Content-Type") == "application/json")
            #expect(try jsonValue(String(decoding: invalid.wireBody, as: UTF8.self), "error", "code") as? Int == -32700)
        }
    }
}
