import SSEParser

extension Scenario {
    /// The streaming APIs of today's model services that ``Content/model(_:)`` imitates.
    ///
    /// Each answers with a deterministic stream: its text is ``Scenario/modelText(tokens:)``, token
    /// `k` being ``Scenario/modelToken(_:)``, so a test can compute everything a client should see
    /// (``Scenario/modelEvents(mcpRequestID:)`` lists the events). The raw value is the query's
    /// `content=` value; the paths in ``impliedPaths`` select the API too.
    public enum ModelAPI: String, Sendable, Hashable, CaseIterable {
        /// OpenAI chat completions (query `content=openai-chat`, path `/v1/chat/completions`):
        /// untyped `data: {json}` chunks (`chat.completion.chunk`, the first with the assistant role, the
        /// last with `finish_reason` `stop`), then `data: [DONE]`. No `id:` fields, as OpenAI sends none.
        case openAIChat = "openai-chat"
        /// Anthropic messages (query `content=anthropic`, path `/v1/messages`): typed events
        /// `message_start`, `content_block_start`, a `content_block_delta` per token with a `ping` now and
        /// then, `content_block_stop`, `message_delta`, `message_stop`; an in-band `error` event with
        /// ``ModelStream/errorAfter``.
        case anthropicMessages = "anthropic"
        /// OpenAI Responses (query `content=responses`, paths `/v1/responses` and
        /// `/v1/responses/{id}`): typed `response.*` events whose JSON carries a 0-based
        /// `sequence_number`, ending with `response.completed`. A request with `starting_after=N` gets
        /// the events after `N` (see `TestServer/README.md` for how a resumption finds its response).
        case responses
        /// An MCP Streamable HTTP tool call (query `content=mcp`, path `/mcp`): a POST of a JSON-RPC
        /// request is answered with events carrying `id: <request id>-<n>`: a priming event with empty
        /// data, a `notifications/progress` per token, then the JSON-RPC response. A GET with
        /// `Last-Event-ID` resumes after that event; see ``ModelStream/closeAfter``.
        case mcpToolCall = "mcp"

        /// The paths that select this API whatever the query's `content=` says, as `/echo` selects
        /// the echo event.
        public var impliedPaths: [String] {
            switch self {
            case .openAIChat: ["/v1/chat/completions"]
            case .anthropicMessages: ["/v1/messages"]
            case .responses: ["/v1/responses", "/v1/responses/{id}"]
            case .mcpToolCall: ["/mcp"]
            }
        }
    }

    /// The options of a model stream (``Content/model(_:)``): how long it is and the faults only a
    /// model API has. Each is one query parameter; the other faults of ``Scenario`` compose with them.
    public struct ModelStream: Sendable, Hashable {
        /// How many tokens the answer has (query `tokens=N`); 20 by default. Zero gives an empty text.
        public var tokens: Int

        /// Whether OpenAI chat's last event is written `data:[DONE]`, without the space, as some
        /// compatible servers do (query `doneNoSpace=1`). `false` by default.
        public var doneWithoutSpace: Bool

        /// Whether a `: PROCESSING` comment line goes out between two events, as OpenRouter-style
        /// proxies send while the model works (query `processingComments=1`). `false` by default.
        public var processingComments: Bool

        /// Anthropic only: after this many `content_block_delta` events, the stream carries
        /// `event: error` with an `overloaded_error` and ends normally, the status staying `200`
        /// (query `errorAfter=K`). `0` sends the error before any other event; `K >= tokens` sends it
        /// after the last delta, in place of `content_block_stop`. `nil` (the default) sends none.
        public var errorAfter: Int?

        /// MCP only: the POST's stream ends properly after this many events, the priming event
        /// included, before the JSON-RPC response (query `closeAfter=K`), so the client has to resume
        /// with a GET carrying `Last-Event-ID`. A resuming GET is not cut. `nil` (the default) sends all.
        public var closeAfter: Int?

        /// Responses only: the response's `id` (query `response=ID`); `resp_test` by default.
        ///
        /// The server remembers the scenario of the last Responses stream it served under each ID, so
        /// `GET /v1/responses/{id}?stream=true&starting_after=N` continues it, as OpenAI's API does; two
        /// different Responses streams resumed on one server need different IDs.
        public var responseID: String

        /// The default ``responseID``.
        public static let defaultResponseID = "resp_test"

        /// Creates options; every one has the default its property documents.
        public init(
            tokens: Int = 20,
            doneWithoutSpace: Bool = false,
            processingComments: Bool = false,
            errorAfter: Int? = nil,
            closeAfter: Int? = nil,
            responseID: String = ModelStream.defaultResponseID
        ) {
            self.tokens = tokens
            self.doneWithoutSpace = doneWithoutSpace
            self.processingComments = processingComments
            self.errorAfter = errorAfter
            self.closeAfter = closeAfter
            self.responseID = responseID
        }
    }
}

// MARK: - Presets

extension Scenario {
    /// An OpenAI chat completions stream of `tokens` tokens, then `data: [DONE]`.
    ///
    /// - Parameters:
    ///   - tokens: The number of content chunks; 20 by default.
    ///   - doneWithoutSpace: Whether to send `data:[DONE]`; `false` (the default) sends `data: [DONE]`.
    ///   - processingComments: Whether to send `: PROCESSING` between events; `false` by default.
    public static func openAIChat(
        tokens: Int = 20,
        doneWithoutSpace: Bool = false,
        processingComments: Bool = false
    ) -> Scenario {
        model(
            .openAIChat,
            ModelStream(tokens: tokens, doneWithoutSpace: doneWithoutSpace, processingComments: processingComments)
        )
    }

    /// An Anthropic messages stream of `tokens` text deltas.
    ///
    /// - Parameters:
    ///   - tokens: The number of `content_block_delta` events; 20 by default.
    ///   - errorAfter: Send `event: error` after this many deltas and end; `nil` (the default) never.
    public static func anthropicMessages(tokens: Int = 20, errorAfter: Int? = nil) -> Scenario {
        model(.anthropicMessages, ModelStream(tokens: tokens, errorAfter: errorAfter))
    }

    /// An OpenAI Responses stream of `tokens` `response.output_text.delta` events.
    ///
    /// - Parameters:
    ///   - tokens: The number of text deltas; 20 by default.
    ///   - responseID: The response's `id`; ``ModelStream/defaultResponseID`` by default.
    public static func responses(tokens: Int = 20, responseID: String = ModelStream.defaultResponseID) -> Scenario {
        model(.responses, ModelStream(tokens: tokens, responseID: responseID))
    }

    /// An MCP tool call answered over Streamable HTTP with `tokens` progress notifications.
    ///
    /// - Parameters:
    ///   - tokens: The number of `notifications/progress` events; 20 by default.
    ///   - closeAfter: End the POST's stream after this many events; `nil` (the default) sends all.
    public static func mcpToolCall(tokens: Int = 20, closeAfter: Int? = nil) -> Scenario {
        model(.mcpToolCall, ModelStream(tokens: tokens, closeAfter: closeAfter))
    }

    /// A stream shaped like `api`'s with `options`.
    public static func model(_ api: ModelAPI, _ options: ModelStream = ModelStream()) -> Scenario {
        var scenario = Scenario(content: .model(api))
        scenario.modelStream = options
        return scenario
    }
}

// MARK: - What a client should see

extension Scenario {
    /// Token `k` (1-based) of every model stream: `"tok<k> "`, such as `"tok1 "`.
    public static func modelToken(_ k: Int) -> String {
        "tok\(k) "
    }

    /// The whole text of a model stream of `tokens` tokens: ``modelToken(_:)`` for `1...tokens`,
    /// concatenated, such as `"tok1 tok2 tok3 "`; empty for zero tokens.
    public static func modelText(tokens: Int) -> String {
        tokens > 0 ? (1...tokens).map(modelToken).joined() : ""
    }

    /// The events of this scenario's whole model stream, in order, as a client's parser reads them
    /// (comments are not events); empty when ``content`` is not ``Content/model(_:)``.
    ///
    /// "Whole" means the logical stream: for MCP the POST's events and those its resumption sends,
    /// for Responses every sequence number; limits such as ``dropAfterEvents`` cut connections, not
    /// this list. Anthropic's list ends with its error event when ``ModelStream/errorAfter`` is set.
    ///
    /// - Parameter mcpRequestID: MCP only: the JSON text of the JSON-RPC request's `id`, such as `1`
    ///   or `"call-1"` (with the quotes); `1` by default.
    public func modelEvents(mcpRequestID: String = "1") -> [ServerSentEvent] {
        guard case .model(let api) = content else { return [] }
        return ModelEvents.events(api, modelStream, mcpRequestID: mcpRequestID).map(\.event)
    }
}
