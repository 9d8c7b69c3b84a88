/// The model APIs' part of routing: which events one request gets, pure like the rest of ``Router``.
extension Router {
    /// What a model endpoint answers to one request.
    enum ModelAnswer: Equatable, Sendable {
        /// Answer with this response and close (a bad `starting_after`, an MCP notification, …).
        case respond(StatusResponse)
        /// Stream these events: the whole stream, or the part a resumption or a cut leaves.
        case events([ModelEvent])
    }

    /// The events `request` gets from `api`'s endpoint with `options`.
    ///
    /// - OpenAI chat and Anthropic: the whole stream, for any method.
    /// - Responses: the events whose `sequence_number` is above the query's `starting_after`, if any.
    /// - MCP: a POST of a JSON-RPC request gets its stream, cut after ``Scenario/ModelStream/closeAfter``
    ///   events; a GET gets the events after its `Last-Event-ID`, as the spec's resumability has it.
    func modelAnswer(
        _ api: Scenario.ModelAPI,
        _ options: Scenario.ModelStream,
        for request: RecordedRequest
    ) -> ModelAnswer {
        switch api {
        case .openAIChat, .anthropicMessages:
            return .events(ModelEvents.events(api, options, mcpRequestID: ""))
        case .responses:
            let events = ModelEvents.responses(options)
            guard let value = request.queryValue("starting_after") else { return .events(events) }
            guard let startingAfter = Int(value), startingAfter >= 0 else {
                return .respond(status(400, body: "400 Bad Request: starting_after must be an integer at least 0\n"))
            }
            // Sequence numbers are the events' indices.
            return .events(Array(events.dropFirst(min(startingAfter, events.count - 1) + 1)))
        case .mcpToolCall:
            return mcpAnswer(options, for: request)
        }
    }

    private func mcpAnswer(_ options: Scenario.ModelStream, for request: RecordedRequest) -> ModelAnswer {
        switch request.method {
        case "POST":
            switch MCPMessage(body: request.body) {
            case .request(let id):
                let events = ModelEvents.mcpToolCall(options, requestID: id.json)
                return .events(options.closeAfter.map { Array(events.prefix($0)) } ?? events)
            case .other:
                // "the server MUST return HTTP status code 202 Accepted with no body."
                return .respond(status(202, body: ""))
            case .invalid:
                return .respond(
                    status(
                        400,
                        body: #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
                        contentType: "application/json"
                    ))
            }
        case "GET":
            // Without Last-Event-ID a GET asks for a stream of server-initiated messages, which
            // this server does not offer: the spec's answer is 405.
            guard let lastEventID = request.header("Last-Event-ID") else {
                return .respond(status(405, extraHeaders: [.init("Allow", "POST")]))
            }
            guard let resumed = MCPEventID(lastEventID) else {
                return .respond(
                    status(400, body: "400 Bad Request: Last-Event-ID '\(lastEventID)' is not an ID this server sent\n")
                )
            }
            let events = ModelEvents.mcpToolCall(options, requestID: resumed.requestID.json)
            return .events(Array(events.dropFirst(min(resumed.index, events.count - 1) + 1)))
        default:
            return .respond(status(405, extraHeaders: [.init("Allow", "GET, POST")]))
        }
    }

    /// The events as script pieces, with a `: PROCESSING` comment between two events when asked.
    static func pieces(of events: [ModelEvent], processingComments: Bool) -> [StreamScript.Piece] {
        var pieces: [StreamScript.Piece] = []
        for (index, event) in events.enumerated() {
            if processingComments && index > 0 {
                pieces.append(StreamScript.Piece(text: Array(ModelEvents.processingComment.utf8), isEvent: false))
            }
            pieces.append(StreamScript.Piece(text: Array(event.wire.utf8), isEvent: true))
        }
        return pieces
    }

    /// The model API a request path selects (see ``Scenario/ModelAPI/impliedPaths``), with the
    /// response ID of a `/v1/responses/{id}` path; `nil` for any other path.
    static func modelAPI(impliedBy path: String) -> (api: Scenario.ModelAPI, responseID: String?)? {
        switch path {
        case "/v1/chat/completions": return (.openAIChat, nil)
        case "/v1/messages": return (.anthropicMessages, nil)
        case "/v1/responses": return (.responses, nil)
        case "/mcp": return (.mcpToolCall, nil)
        default:
            guard let id = responseID(inPath: path) else { return nil }
            return (.responses, id)
        }
    }

    /// The `{id}` of a `/v1/responses/{id}` path; `nil` for any other path.
    static func responseID(inPath path: String) -> String? {
        let prefix = "/v1/responses/"
        guard path.hasPrefix(prefix) else { return nil }
        let id = path.dropFirst(prefix.count)
        return id.isEmpty || id.contains("/") ? nil : percentDecode(id)
    }

    /// What the server remembers after streaming `scenario` to `request`, so that
    /// `GET /v1/responses/{id}` can continue it: the response ID and the scenario, with the
    /// request's counter key so the continuation shares its counters; `nil` when it is not a
    /// Responses stream.
    static func rememberedResponse(
        _ scenario: Scenario,
        for request: RecordedRequest
    ) -> (id: String, scenario: Scenario)? {
        guard case .model(.responses) = scenario.content else { return nil }
        var remembered = scenario
        remembered.key = counterKey(of: scenario, for: request)
        return (scenario.modelStream.responseID, remembered)
    }
}
