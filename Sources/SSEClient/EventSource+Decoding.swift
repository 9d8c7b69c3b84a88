import SSEParser

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension ServerSentEvent {
    /// The event's data decoded as JSON into `type`.
    ///
    /// - Throws: What the decoder throws (a `DecodingError`).
    public func decodeData<Value: Decodable>(
        as type: Value.Type = Value.self,
        using decoder: JSONDecoder = JSONDecoder()
    ) throws -> Value {
        try decoder.decode(type, from: Data(data.utf8))
    }
}

extension EventSource.Events {
    /// Each event's data decoded as JSON into `type`.
    ///
    /// ```swift
    /// struct Chunk: Decodable { struct Choice: Decodable { struct Delta: Decodable { var content: String? }; var delta: Delta }; var choices: [Choice] }
    /// configuration.terminator = .data("[DONE]")
    /// for try await chunk in EventSource(url: url, configuration: configuration).events.decoded(as: Chunk.self) {
    ///     print(chunk.choices.first?.delta.content ?? "", terminator: "")
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - type: What each event's data holds.
    ///   - decoder: The decoder; a default `JSONDecoder` unless given.
    ///   - skippingUndecodable: Whether an event that does not decode is skipped. When `false`
    ///     (the default), it ends the sequence with ``EventSourceError/Code/undecodableEvent``,
    ///     which carries the event.
    public func decoded<Value: Decodable & SendableMetatype>(
        as type: Value.Type,
        using decoder: JSONDecoder = JSONDecoder(),
        skippingUndecodable: Bool = false
    ) -> EventSource.DecodedEvents<Value> {
        EventSource.DecodedEvents(events: self, skipsUndecodable: skippingUndecodable) { event in
            try event.decodeData(as: Value.self, using: decoder)
        }
    }

    /// Each event turned into a value by `transform`, which routes by event type and returns
    /// `nil` for events to skip:
    ///
    /// ```swift
    /// enum Claude { case text(String), stop(String?) }
    /// let stream = source.events.decoded { event -> Claude? in
    ///     switch event.type {
    ///     case "content_block_delta": .text(try event.decodeData(as: BlockDelta.self).delta.text)
    ///     case "message_delta": .stop(try event.decodeData(as: MessageDelta.self).delta.stopReason)
    ///     default: nil  // ping, message_start, …
    ///     }
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - skippingUndecodable: Whether an event for which `transform` throws is skipped. When
    ///     `false` (the default), it ends the sequence with
    ///     ``EventSourceError/Code/undecodableEvent``, which carries the event.
    ///   - transform: The value for an event, or `nil` to skip it. It runs on the consuming task.
    public func decoded<Value>(
        skippingUndecodable: Bool = false,
        _ transform: @escaping @Sendable (ServerSentEvent) throws -> Value?
    ) -> EventSource.DecodedEvents<Value> {
        EventSource.DecodedEvents(events: self, skipsUndecodable: skippingUndecodable, transform: transform)
    }

    /// Only the events of these types (a ``EventSource/DecodedEvents`` that keeps the events
    /// as they are).
    public func ofType(_ types: String...) -> EventSource.DecodedEvents<ServerSentEvent> {
        let types = Set(types)
        return EventSource.DecodedEvents(events: self, skipsUndecodable: false) { event in
            types.contains(event.type) ? event : nil
        }
    }
}

extension EventSource {
    /// The events of a source turned into values: decoded from their data, routed by type, or
    /// filtered. Made by ``Events/decoded(as:using:skippingUndecodable:)``,
    /// ``Events/decoded(skippingUndecodable:_:)`` and ``Events/ofType(_:)``; consumed through
    /// one iterator, as ``Events``.
    public struct DecodedEvents<Value>: AsyncSequence, Sendable {
        /// The values, in stream order.
        public typealias Element = Value
        /// The only error thrown.
        public typealias Failure = EventSourceError

        let events: Events
        let skipsUndecodable: Bool
        let transform: @Sendable (ServerSentEvent) throws -> Value?

        /// Starts the source.
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(base: events.makeAsyncIterator(), skipsUndecodable: skipsUndecodable, transform: transform)
        }

        /// Turns the source's events into values, a batch at a time.
        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: Events.AsyncIterator
            let skipsUndecodable: Bool
            let transform: @Sendable (ServerSentEvent) throws -> Value?

            /// The next value; `nil` when the stream is finished.
            public mutating func next() async throws(EventSourceError) -> Value? {
                try await next(isolation: nil)
            }

            /// The next value, without leaving the caller's isolation; `nil` when the stream is finished.
            public mutating func next(isolation actor: isolated (any Actor)?) async throws(EventSourceError) -> Value? {
                while true {
                    while let event = base.nextBuffered() {
                        do {
                            if let value = try transform(event) { return value }
                        } catch {
                            if skipsUndecodable { continue }
                            base.consumer.storage.close()
                            throw .undecodableEvent(event, message: "\(error)", url: base.consumer.storage.url)
                        }
                    }
                    guard try await base.refill(isolation: actor).get() else { return nil }
                }
            }
        }
    }
}
