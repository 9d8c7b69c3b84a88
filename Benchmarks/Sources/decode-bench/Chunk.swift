/// One OpenAI chat-completion chunk, the type every case decodes each event's data into.
///
/// `Hashable` and `Sendable` because swift-openapi-runtime's `ServerSentEventWithJSONData`
/// requires them of its payload; the coding keys are spelled out, so no key strategy (and no
/// cost of one) is involved.
struct Chunk: Decodable, Hashable, Sendable {
    var id: String
    var object: String
    var created: Int
    var model: String
    var choices: [Choice]

    struct Choice: Decodable, Hashable, Sendable {
        var index: Int
        var delta: Delta
        var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case index
            case delta
            case finishReason = "finish_reason"
        }
    }

    struct Delta: Decodable, Hashable, Sendable {
        var role: String?
        var content: String?
    }
}
