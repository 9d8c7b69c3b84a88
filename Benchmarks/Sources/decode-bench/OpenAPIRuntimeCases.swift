import OpenAPIRuntime

// The peer's cases, apart because OpenAPIRuntime and SSEParser both have a `ServerSentEvent`.
extension Case {
    /// swift-openapi-runtime's typed decoding, ended by its predicate at `[DONE]`.
    static func peer(_ inputs: Inputs) async throws -> Tally {
        let done = ArraySlice(ChatCompletionCorpus.terminator.utf8)
        var tally = Tally()
        let events = inputs.chunks.asDecodedServerSentEventsWithJSONData(
            of: Chunk.self,
            decoder: inputs.decoder,
            while: { $0 != done }
        )
        for try await event in events {
            if let chunk = event.data { tally.add(chunk) }
        }
        return tally
    }

    /// swift-openapi-runtime's parser alone, ended by its predicate at `[DONE]`.
    static func peerParse(_ inputs: Inputs) async throws -> Tally {
        let done = ArraySlice(ChatCompletionCorpus.terminator.utf8)
        var tally = Tally()
        for try await event in inputs.chunks.asDecodedServerSentEvents(while: { $0 != done }) {
            if let data = event.data { tally.count(data) }
        }
        return tally
    }
}
