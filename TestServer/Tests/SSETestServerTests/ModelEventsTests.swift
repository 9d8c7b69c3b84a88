import Foundation
import SSEParser
import Testing

@testable import SSETestServer

/// The JSON object of an event's data; fails the test when it is not one.
func jsonObject(_ data: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(data.utf8))
    return try #require(object as? [String: Any], sourceLocation: sourceLocation)
}

/// The value at `path` (object keys, and array indices as `Int`) in an event's JSON data.
func jsonValue(_ data: String, _ path: Any...) throws -> Any? {
    var value: Any? = try jsonObject(data)
    for step in path {
        switch (value, step) {
        case (let object as [String: Any], let key as String): value = object[key]
        case (let array as [Any], let index as Int): value = index < array.count ? array[index] : nil
        default: return nil
        }
    }
    return value
}

@Suite("Model streams: the generators and their parameters, without sockets")
struct ModelEventsTests {
    @Test("the text is a function of the token count")
    func text() {
        #expect(Scenario.modelToken(1) == "tok1 ")
        #expect(Scenario.modelText(tokens: 3) == "tok1 tok2 tok3 ")
        #expect(Scenario.modelText(tokens: 0) == "")
        #expect(Scenario.modelText(tokens: 20).count == "tok1 ".count * 9 + "tok10 ".count * 11)
    }

    @Test("OpenAI chat: a role chunk, a chunk per token, a stop chunk, then [DONE]; no ids")
    func openAIChat() throws {
        let events = Scenario.openAIChat(tokens: 3).modelEvents()
        #expect(events.count == 3 + 3)
        #expect(
            events[0].data
                == #"{"id":"chatcmpl-test","object":"chat.completion.chunk","created":0,"model":"test","#
                + #""choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#
        )
        #expect(
            events[4].data
                == #"{"id":"chatcmpl-test","object":"chat.completion.chunk","created":0,"model":"test","#
                + #""choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#
        )
        #expect(events.last == ServerSentEvent(data: "[DONE]"))
        #expect(events.allSatisfy { $0.id == "" && $0.type == "message" })
        let contents = try events.dropLast().map { try jsonValue($0.data, "choices", 0, "delta", "content") as? String }
        #expect(contents.compactMap { $0 }.joined() == Scenario.modelText(tokens: 3))

        let spaced = ModelEvents.openAIChat(.init(tokens: 0)).last?.wire
        let unspaced = ModelEvents.openAIChat(.init(tokens: 0, doneWithoutSpace: true)).last?.wire
        #expect(spaced == "data: [DONE]\n\n")
        #expect(unspaced == "data:[DONE]\n\n")
    }

    @Test("Anthropic: typed events, a ping after the block starts and after every fifth delta")
    func anthropicMessages() throws {
        let events = Scenario.anthropicMessages(tokens: 6).modelEvents()
        #expect(
            events.map(\.type) == [
                "message_start", "content_block_start", "ping",
                "content_block_delta", "content_block_delta", "content_block_delta", "content_block_delta",
                "content_block_delta", "ping", "content_block_delta",
                "content_block_stop", "message_delta", "message_stop",
            ])
        for event in events {
            let type = try jsonValue(event.data, "type") as? String
            #expect(type == event.type)
        }
        #expect(events[2].data == #"{"type": "ping"}"#)
        #expect(events.last?.data == #"{"type":"message_stop"}"#)
        let deltas = events.filter { $0.type == "content_block_delta" }
        #expect(
            try deltas.map { try jsonValue($0.data, "delta", "text") as? String ?? "" }.joined()
                == "tok1 tok2 tok3 tok4 tok5 tok6 ")
        #expect(try jsonValue(events[11].data, "usage", "output_tokens") as? Int == 6)
    }

    @Test(
        "Anthropic errorAfter=K: the error follows the K-th delta and ends the stream",
        arguments: [(0, 0), (1, 1), (5, 5), (6, 6), (9, 6)]
    )
    func anthropicError(errorAfter: Int, deltas: Int) throws {
        let events = Scenario.anthropicMessages(tokens: 6, errorAfter: errorAfter).modelEvents()
        #expect(events.last?.type == "error")
        #expect(events.last?.data == #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
        #expect(events.filter { $0.type == "error" }.count == 1)
        #expect(events.filter { $0.type == "content_block_delta" }.count == deltas)
        #expect(errorAfter > 0 || events.count == 1)
        #expect(!events.contains { $0.type == "message_stop" })
    }

    @Test("Responses: typed events, sequence_number 0, 1, 2, … in every one, ending with response.completed")
    func responses() throws {
        let events = Scenario.responses(tokens: 3, responseID: "resp_1").modelEvents()
        #expect(events.count == 3 + 8)
        #expect(
            events.map(\.type) == [
                "response.created", "response.in_progress", "response.output_item.added",
                "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
                "response.output_text.delta", "response.output_text.done", "response.content_part.done",
                "response.output_item.done", "response.completed",
            ])
        for (index, event) in events.enumerated() {
            let object = try jsonObject(event.data)
            #expect(object["type"] as? String == event.type)
            #expect(object["sequence_number"] as? Int == index)
        }
        #expect(
            events[4].data
                == #"{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_test","output_index":0,"#
                + #""content_index":0,"delta":"tok1 "}"#
        )
        #expect(try jsonValue(events[0].data, "response", "id") as? String == "resp_1")
        #expect(try jsonValue(events[0].data, "response", "status") as? String == "in_progress")
        #expect(try jsonValue(events[10].data, "response", "status") as? String == "completed")
        let finalText = try jsonValue(events[10].data, "response", "output", 0, "content", 0, "text") as? String
        #expect(finalText == Scenario.modelText(tokens: 3))
        #expect(try jsonValue(events[7].data, "text") as? String == Scenario.modelText(tokens: 3))
    }

    @Test("MCP: ids <request>-<n>, a priming event, progress per token, then the JSON-RPC response")
    func mcpToolCall() throws {
        let events = Scenario.mcpToolCall(tokens: 2).modelEvents()
        #expect(events.map(\.id) == ["1-0", "1-1", "1-2", "1-3"])
        #expect(events[0].data == "")
        #expect(
            events[1].data
                == #"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1,"#
                + #""total":2,"message":"tok1 "}}"#
        )
        #expect(
            events[3].data
                == #"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"tok1 tok2 "}]}}"#
        )
        let named = Scenario.mcpToolCall(tokens: 1).modelEvents(mcpRequestID: #""call-1""#)
        #expect(named.map(\.id) == [#""call-1"-0"#, #""call-1"-1"#, #""call-1"-2"#])
        #expect(try jsonValue(named[2].data, "id") as? String == "call-1")
        #expect(ModelEvents.mcpToolCall(.init(tokens: 0), requestID: "1").first?.wire == "id: 1-0\ndata:\n\n")
    }

    @Test("event IDs and bodies of MCP are read back; anything else is refused")
    func mcpParsing() {
        #expect(MCPEventID("7-3") == MCPEventID(requestID: .number(7), index: 3))
        #expect(MCPEventID(#""a-b"-0"#) == MCPEventID(requestID: .string("a-b"), index: 0))
        #expect(MCPEventID("-2-1") == MCPEventID(requestID: .number(-2), index: 1))
        for bad in ["7", "7-", "x-1", "1,2-3", "1--1", "null-1", "1.5-2", ""] {
            #expect(MCPEventID(bad) == nil, "\(bad)")
        }
        #expect(
            MCPMessage(body: Array(#"{"jsonrpc":"2.0","id":3,"method":"tools/call"}"#.utf8)) == .request(id: .number(3))
        )
        #expect(MCPMessage(body: Array(#"{"jsonrpc":"2.0","id":"q","method":"x"}"#.utf8)) == .request(id: .string("q")))
        #expect(MCPMessage(body: Array(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8)) == .other)
        #expect(MCPMessage(body: Array(#"{"jsonrpc":"2.0","id":3,"result":{}}"#.utf8)) == .other)
        #expect(MCPMessage(body: Array("nope".utf8)) == .invalid)
        #expect(MCPMessage(body: []) == .invalid)
        #expect(JSONRPCID.string("a\"b\n").json == #""a\"b\n""#)
        #expect(JSONText.quoted("\u{1}\\") == #""\u0001\\""#)
    }

    static let examples: [Scenario] = [
        .openAIChat(),
        .openAIChat(tokens: 3, doneWithoutSpace: true, processingComments: true).droppingAfter(events: 2, with: .reset),
        .anthropicMessages(tokens: 0, errorAfter: 0),
        .responses(tokens: 5, responseID: "resp a/b").failing(with: 503, times: 1),
        .mcpToolCall(tokens: 4, closeAfter: 2).tinyWrites(size: 1),
    ]

    @Test("model scenarios round-trip through their query", arguments: examples)
    func roundTrip(_ scenario: Scenario) throws {
        #expect(try Scenario(query: scenario.query) == scenario)
    }

    @Test("query names are the documented ones")
    func queryNames() throws {
        let options = Scenario.ModelStream(
            tokens: 3, doneWithoutSpace: true, processingComments: true, errorAfter: 1, closeAfter: 2, responseID: "r")
        #expect(
            Scenario.model(.openAIChat, options).query
                == "content=openai-chat&tokens=3&doneNoSpace=1&processingComments=1&errorAfter=1&closeAfter=2&response=r"
        )
        #expect(Scenario.responses().query == "content=responses")
        #expect(Scenario.mcpToolCall().query == "content=mcp")
        #expect(Scenario.anthropicMessages().query == "content=anthropic")
        #expect(try Scenario(query: "content=echo").content == .echo)
        #expect(try Scenario(query: "content=numbered&count=2") == .numbered(count: 2))
    }

    @Test(
        "bad model parameters are rejected with a message naming them",
        arguments: [
            ("content=gpt", "content"), ("tokens=-1", "tokens"), ("errorAfter=x", "errorAfter"),
            ("closeAfter=-2", "closeAfter"), ("response=", "response"), ("doneNoSpace=maybe", "doneNoSpace"),
            ("processingComments=2", "processingComments"),
        ]
    )
    func badValues(query: String, parameter: String) {
        #expect {
            try Scenario(query: query)
        } throws: { error in
            guard let error = error as? TestServerError else { return false }
            return error.code == .invalidScenario && error.description.contains(parameter)
        }
    }
}

@Suite("Model streams: routing and planning, without sockets")
struct ModelRouterTests {
    private func request(
        _ target: String,
        method: String = "GET",
        headers: [String: String] = [:],
        body: String = ""
    ) -> RecordedRequest {
        let (path, query) = HTTPResponseParts.split(target)
        return RecordedRequest(
            method: method,
            path: path,
            query: query,
            headers: headers.map { RecordedRequest.Header(name: $0.key, value: $0.value) },
            body: Array(body.utf8),
            connection: 1,
            receivedAt: .now
        )
    }

    private let router = Router(configuration: .init())

    @Test("the services' paths select their API; the query's options still apply")
    func impliedPaths() {
        let cases: [(String, Scenario)] = [
            ("/v1/chat/completions?tokens=2", .openAIChat(tokens: 2)),
            ("/v1/messages", .anthropicMessages()),
            ("/v1/responses?content=mcp", .responses()),
            ("/v1/responses/resp_9?stream=true&starting_after=3", .responses(responseID: "resp_9")),
            ("/mcp?closeAfter=1", .mcpToolCall(closeAfter: 1)),
            ("/events?content=anthropic&errorAfter=2", .anthropicMessages(errorAfter: 2)),
        ]
        for (target, scenario) in cases {
            #expect(router.route(request(target, method: "POST"), registered: nil) == .scenario(scenario, live: false))
        }
        for (api, paths) in Scenario.ModelAPI.allCases.map({ ($0, $0.impliedPaths) }) {
            for path in paths {
                #expect(Router.modelAPI(impliedBy: path.replacingOccurrences(of: "{id}", with: "x"))?.api == api)
            }
        }
        #expect(Router.modelAPI(impliedBy: "/v1/responses/") == nil)
        #expect(Router.modelAPI(impliedBy: "/v1/responses/a/b") == nil)
    }

    @Test("starting_after is not part of the counter key, so a resumption shares the counters")
    func counterKey() {
        let scenario = Scenario.responses()
        #expect(Router.counterKey(of: scenario, for: request("/r?tokens=2&starting_after=5")) == "/r?tokens=2")
        #expect(Router.counterKey(of: scenario, for: request("/r?starting_after=5&tokens=2")) == "/r?tokens=2")
        #expect(Router.counterKey(of: scenario, for: request("/r?starting_after=5")) == "/r")
        #expect(Router.counterKey(of: scenario, for: request("/r?starting_afterx=5")) == "/r?starting_afterx=5")
        #expect(Router.counterKey(of: scenario.keyed("k"), for: request("/r?starting_after=5")) == "k")
        let remembered = Router.rememberedResponse(scenario, for: request("/v1/responses?tokens=2"))
        #expect(remembered?.id == "resp_test")
        #expect(remembered?.scenario.key == "/v1/responses?tokens=2")
        #expect(Router.rememberedResponse(.openAIChat(), for: request("/x")) == nil)
    }

    @Test("Responses: starting_after=N leaves the events after sequence number N")
    func startingAfter() {
        let all = ModelEvents.responses(.init(tokens: 2))
        #expect(router.modelAnswer(.responses, .init(tokens: 2), for: request("/r")) == .events(all))
        #expect(
            router.modelAnswer(.responses, .init(tokens: 2), for: request("/r?starting_after=3"))
                == .events(Array(all[4...])))
        #expect(
            router.modelAnswer(.responses, .init(tokens: 2), for: request("/r?starting_after=\(Int.max)"))
                == .events([]))
        guard case .respond(let bad) = router.modelAnswer(.responses, .init(), for: request("/r?starting_after=-1"))
        else {
            Issue.record("a bad starting_after is refused")
            return
        }
        #expect(bad.status == 400)
    }

    @Test("MCP: a POST streams (cut by closeAfter), a GET resumes by Last-Event-ID, the rest is refused")
    func mcp() {
        let options = Scenario.ModelStream(tokens: 3, closeAfter: 2)
        let all = ModelEvents.mcpToolCall(options, requestID: "5")
        let call = #"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"t"}}"#
        #expect(
            router.modelAnswer(.mcpToolCall, options, for: request("/mcp", method: "POST", body: call))
                == .events(Array(all[..<2])))
        let resumed = request("/mcp", headers: ["Last-Event-ID": "5-1"])
        #expect(router.modelAnswer(.mcpToolCall, options, for: resumed) == .events(Array(all[2...])))
        let finished = request("/mcp", headers: ["Last-Event-ID": "5-4"])
        #expect(router.modelAnswer(.mcpToolCall, options, for: finished) == .events([]))

        let refusals: [(RecordedRequest, Int)] = [
            (request("/mcp"), 405),
            (request("/mcp", method: "DELETE"), 405),
            (request("/mcp", headers: ["Last-Event-ID": "nope"]), 400),
            (request("/mcp", method: "POST", body: "{"), 400),
            (request("/mcp", method: "POST", body: #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#), 202),
        ]
        for (request, code) in refusals {
            guard case .respond(let response) = router.modelAnswer(.mcpToolCall, options, for: request) else {
                Issue.record("\(request) is refused")
                continue
            }
            #expect(response.status == code, "\(request)")
            if code == 202 { #expect(response.body.isEmpty) }
        }
    }

    @Test("a comment between two events goes out at once; each event waits for its turn")
    func processingCommentsTimeline() {
        let events = [ModelEvent(data: "a"), ModelEvent(data: "b")]
        let pieces = Router.pieces(of: events, processingComments: true)
        #expect(pieces.map(\.isEvent) == [true, false, true])
        var script = StreamScript(
            prefix: [], events: .rendered(pieces), interval: .milliseconds(10), heartbeat: nil)
        #expect(script.next() == .text(Array("data: a\n\n".utf8), isEvent: true))
        #expect(script.next() == .text(Array(": PROCESSING\n".utf8), isEvent: false))
        #expect(script.next() == .wait(.milliseconds(10)))
        #expect(script.next() == .text(Array("data: b\n\n".utf8), isEvent: true))
        #expect(script.next() == .end)
        #expect(Router.pieces(of: events, processingComments: false).map(\.isEvent) == [true, true])
    }
}
