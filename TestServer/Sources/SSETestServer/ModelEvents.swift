import Foundation
import SSEParser

/// One event of a model stream: what a client's parser reads, and the text the server writes for it.
///
/// Written by hand rather than by `EventStreamSerializer`, because the wire is part of what these
/// scenarios imitate: `data:[DONE]` without the space, and the field order the services use
/// (`event:` or `id:` before `data:`).
struct ModelEvent: Equatable, Sendable {
    /// The event as a client's parser dispatches it.
    var event: ServerSentEvent
    /// The event's text on the wire, ending with the blank line that dispatches it.
    var wire: String

    /// An event with `data` (one line) and, when given, an `event:` and an `id:` field.
    ///
    /// - Parameter spaceAfterColon: Whether `data:` is followed by a space; `false` only for
    ///   `data:[DONE]`. Empty data is written `data:` either way.
    init(type: String? = nil, id: String? = nil, data: String, spaceAfterColon: Bool = true) {
        event = ServerSentEvent(id: id ?? "", type: type ?? ServerSentEvent.defaultType, data: data)
        var wire = ""
        if let type { wire += "event: \(type)\n" }
        if let id { wire += "id: \(id)\n" }
        wire += data.isEmpty || !spaceAfterColon ? "data:\(data)\n\n" : "data: \(data)\n\n"
        self.wire = wire
    }
}

/// The pure generators of the model streams: for each API, the whole logical stream as events.
/// Which part of it one response carries (a resumption, a cut) is the router's business.
///
/// The JSON is written as text, in the services' key order and without spaces (except Anthropic's
/// `{"type": "ping"}`, which has one), so tests can compare bytes.
enum ModelEvents {
    /// The model name every stream reports.
    static let model = "test"

    /// Anthropic sends a `ping` after `content_block_start` and, here, after every fifth delta.
    static let pingEvery = 5

    /// The comment sent between events with ``Scenario/ModelStream/processingComments``.
    static let processingComment = ": PROCESSING\n"

    /// The whole stream of `api` with `options`; `mcpRequestID` is the JSON text of the JSON-RPC id.
    static func events(
        _ api: Scenario.ModelAPI,
        _ options: Scenario.ModelStream,
        mcpRequestID: String
    ) -> [ModelEvent] {
        switch api {
        case .openAIChat: openAIChat(options)
        case .anthropicMessages: anthropicMessages(options)
        case .responses: responses(options)
        case .mcpToolCall: mcpToolCall(options, requestID: mcpRequestID)
        }
    }

    // MARK: OpenAI chat completions

    static func openAIChat(_ options: Scenario.ModelStream) -> [ModelEvent] {
        func chunk(delta: String, finishReason: String?) -> ModelEvent {
            let finish = finishReason.map(JSONText.quoted) ?? "null"
            return ModelEvent(
                data: #"{"id":"chatcmpl-test","object":"chat.completion.chunk","created":0,"model":"\#(model)","#
                    + #""choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(finish)}]}"#
            )
        }
        var events = [chunk(delta: #"{"role":"assistant","content":""}"#, finishReason: nil)]
        for k in tokenRange(options) {
            events.append(chunk(delta: #"{"content":\#(JSONText.quoted(Scenario.modelToken(k)))}"#, finishReason: nil))
        }
        events.append(chunk(delta: "{}", finishReason: "stop"))
        events.append(ModelEvent(data: "[DONE]", spaceAfterColon: !options.doneWithoutSpace))
        return events
    }

    // MARK: Anthropic messages

    static func anthropicMessages(_ options: Scenario.ModelStream) -> [ModelEvent] {
        let error = ModelEvent(
            type: "error",
            data: #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
        )
        if options.errorAfter == 0 { return [error] }
        let ping = ModelEvent(type: "ping", data: #"{"type": "ping"}"#)
        var events = [
            ModelEvent(
                type: "message_start",
                data: #"{"type":"message_start","message":{"id":"msg_test","type":"message","role":"assistant","#
                    + #""model":"\#(model)","content":[],"stop_reason":null,"stop_sequence":null,"#
                    + #""usage":{"input_tokens":1,"output_tokens":1}}}"#
            ),
            ModelEvent(
                type: "content_block_start",
                data: #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#
            ),
            ping,
        ]
        for k in tokenRange(options) {
            events.append(
                ModelEvent(
                    type: "content_block_delta",
                    data: #"{"type":"content_block_delta","index":0,"#
                        + #""delta":{"type":"text_delta","text":\#(JSONText.quoted(Scenario.modelToken(k)))}}"#
                ))
            if k == options.errorAfter { return events + [error] }
            if k % pingEvery == 0 { events.append(ping) }
        }
        // An error after more deltas than there are comes after the last one.
        if options.errorAfter != nil { return events + [error] }
        return events + [
            ModelEvent(type: "content_block_stop", data: #"{"type":"content_block_stop","index":0}"#),
            ModelEvent(
                type: "message_delta",
                data: #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"#
                    + #""usage":{"output_tokens":\#(options.tokens)}}"#
            ),
            ModelEvent(type: "message_stop", data: #"{"type":"message_stop"}"#),
        ]
    }

    // MARK: OpenAI Responses

    /// The item ID of the one output message.
    static let responseItemID = "msg_test"

    static func responses(_ options: Scenario.ModelStream) -> [ModelEvent] {
        let text = JSONText.quoted(Scenario.modelText(tokens: options.tokens))
        let id = JSONText.quoted(options.responseID)
        let part = #"{"type":"output_text","annotations":[],"text":\#(text)}"#
        let item =
            #"{"id":"\#(responseItemID)","type":"message","status":"completed","content":[\#(part)],"#
            + #""role":"assistant"}"#
        func response(status: String, output: String, usage: String = "") -> String {
            #"{"id":\#(id),"object":"response","created_at":0,"status":"\#(status)","model":"\#(model)","#
                + #""output":[\#(output)]\#(usage)}"#
        }
        let inProgress = response(status: "in_progress", output: "")
        let itemFields = #""item_id":"\#(responseItemID)","output_index":0,"content_index":0"#
        // Each body is the JSON after `"sequence_number":N,`.
        var bodies: [(type: String, fields: String)] = [
            ("response.created", #""response":\#(inProgress)"#),
            ("response.in_progress", #""response":\#(inProgress)"#),
            (
                "response.output_item.added",
                #""output_index":0,"item":{"id":"\#(responseItemID)","type":"message","status":"in_progress","#
                    + #""content":[],"role":"assistant"}"#
            ),
            (
                "response.content_part.added",
                #"\#(itemFields),"part":{"type":"output_text","annotations":[],"text":""}"#
            ),
        ]
        for k in tokenRange(options) {
            bodies.append(
                ("response.output_text.delta", #"\#(itemFields),"delta":\#(JSONText.quoted(Scenario.modelToken(k)))"#))
        }
        let usage =
            #","usage":{"input_tokens":1,"output_tokens":\#(options.tokens),"total_tokens":\#(options.tokens + 1)}"#
        bodies += [
            ("response.output_text.done", #"\#(itemFields),"text":\#(text)"#),
            ("response.content_part.done", #"\#(itemFields),"part":\#(part)"#),
            ("response.output_item.done", #""output_index":0,"item":\#(item)"#),
            ("response.completed", #""response":\#(response(status: "completed", output: item, usage: usage))"#),
        ]
        return bodies.enumerated().map { sequenceNumber, body in
            ModelEvent(
                type: body.type,
                data: #"{"type":"\#(body.type)","sequence_number":\#(sequenceNumber),\#(body.fields)}"#
            )
        }
    }

    // MARK: MCP Streamable HTTP

    /// The SSE ID of event `n` of the stream answering the JSON-RPC request `requestID` (its JSON
    /// text): `<requestID>-<n>`, such as `1-0`.
    ///
    /// The stream is named by the request's id so that a resuming GET, which has no body, can
    /// rebuild the stream from its `Last-Event-ID` alone (see ``MCPEventID``).
    static func mcpEventID(requestID: String, _ n: Int) -> String {
        "\(requestID)-\(n)"
    }

    static func mcpToolCall(_ options: Scenario.ModelStream, requestID: String) -> [ModelEvent] {
        // The spec's priming event: an ID and empty data, so the client has something to resume from.
        var events = [ModelEvent(id: mcpEventID(requestID: requestID, 0), data: "")]
        for k in tokenRange(options) {
            // The progress token is the request's id: a resumption cannot see the request's
            // `_meta.progressToken`, and every notification must carry the same one.
            events.append(
                ModelEvent(
                    id: mcpEventID(requestID: requestID, k),
                    data:
                        #"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":\#(requestID),"#
                        + #""progress":\#(k),"total":\#(options.tokens),"#
                        + #""message":\#(JSONText.quoted(Scenario.modelToken(k)))}}"#
                ))
        }
        let text = JSONText.quoted(Scenario.modelText(tokens: options.tokens))
        events.append(
            ModelEvent(
                id: mcpEventID(requestID: requestID, options.tokens + 1),
                data: #"{"jsonrpc":"2.0","id":\#(requestID),"result":{"content":[{"type":"text","text":\#(text)}]}}"#
            ))
        return events
    }

    /// `1...tokens`, empty for zero (where a closed range would trap).
    private static func tokenRange(_ options: Scenario.ModelStream) -> Range<Int> {
        1..<(max(options.tokens, 0) + 1)
    }
}

/// A JSON-RPC request `id`, which MCP allows to be a string or an integer (never null).
enum JSONRPCID: Equatable, Sendable, Decodable {
    case number(Int)
    case string(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            self = .number(number)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    /// Reads the JSON text of an id, such as `7` or `"call-1"`; `nil` when it is not one.
    init?(json: String) {
        // Wrapped in an array: a top-level fragment is not valid JSON for every decoder.
        guard let ids = try? JSONDecoder().decode([JSONRPCID].self, from: Data("[\(json)]".utf8)), ids.count == 1
        else { return nil }
        self = ids[0]
    }

    /// The id as canonical JSON text: digits, or a quoted string.
    var json: String {
        switch self {
        case .number(let number): String(number)
        case .string(let string): JSONText.quoted(string)
        }
    }
}

/// What an MCP POST body is, as far as the server cares.
enum MCPMessage: Equatable, Sendable {
    /// A request (it has a `method` and an `id`): answered with a stream.
    case request(id: JSONRPCID)
    /// A notification or a response: answered `202 Accepted` with no body.
    case other
    /// Not a JSON-RPC message: answered `400` with a parse error.
    case invalid

    private struct Fields: Decodable {
        var id: JSONRPCID?
        var method: String?
    }

    init(body: [UInt8]) {
        guard let fields = try? JSONDecoder().decode(Fields.self, from: Data(body)) else {
            self = .invalid
            return
        }
        if let id = fields.id, fields.method != nil {
            self = .request(id: id)
        } else {
            self = .other
        }
    }
}

/// An MCP event ID, `<request id JSON>-<n>`, as ``ModelEvents/mcpEventID(requestID:_:)`` writes it.
struct MCPEventID: Equatable, Sendable {
    /// The JSON-RPC request whose stream the event belongs to.
    var requestID: JSONRPCID
    /// The event's index in that stream; 0 is the priming event.
    var index: Int

    init(requestID: JSONRPCID, index: Int) {
        self.requestID = requestID
        self.index = index
    }

    /// Reads a `Last-Event-ID`; `nil` when it is not an ID this server wrote.
    init?(_ text: String) {
        // The last dash: a string id may contain dashes, the index never does.
        guard let dash = text.lastIndex(of: "-"),
            let index = Int(text[text.index(after: dash)...]), index >= 0,
            let requestID = JSONRPCID(json: String(text[..<dash]))
        else { return nil }
        self.init(requestID: requestID, index: index)
    }
}

/// JSON text written by hand.
enum JSONText {
    /// `text` as a JSON string literal, quotes included: `"`, `\` and control characters escaped.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
