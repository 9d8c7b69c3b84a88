import SSEParser

/// Serializes one response's events, sending every `K`-th event's ID early when
/// ``Scenario/earlyIDEvery`` asks: after event `n - 1` comes the block `id: n` with no data, which
/// moves the reader's last event ID without dispatching anything, and event `n` then goes out
/// without an `id:` field, the ID already being in effect. A pure value.
///
/// An event that is not preceded by its number's predecessor on this response (the first one, or
/// one after a gap) keeps its ID, so only a real predecessor carries the early block.
struct EventWriter: Sendable {
    private var serializer = EventStreamSerializer()
    private let earlyIDEvery: Int?

    init(earlyIDEvery: Int?) {
        self.earlyIDEvery = earlyIDEvery
    }

    /// The text of `event`, followed by the early ID of the next one when it is due.
    mutating func write(_ event: ServerSentEvent) -> String {
        var text = serializer.serialize(event)
        if let k = earlyIDEvery, let n = Int(event.id), n < Resumption.largestID, (n + 1) % k == 0 {
            let next = String(n + 1)
            text += "id: \(next)\n\n"
            // Event n + 1 then needs no `id:` line of its own; any other event still gets one.
            serializer = EventStreamSerializer(lastEventID: next)
        }
        return text
    }
}
