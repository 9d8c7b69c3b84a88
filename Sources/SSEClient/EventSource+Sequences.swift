import SSEParser

extension EventSource {
    /// The events of an ``EventSource``.
    ///
    /// A source is consumed through one iterator over its life, of ``EventSource/events`` or
    /// ``EventSource/updates``: a second one (made while the first runs, or after it) does not
    /// disturb the first, and its first ``AsyncIterator/next()`` throws
    /// ``EventSourceError/Code/alreadyIterated``. ``EventSource/states`` can be watched alongside.
    public struct Events: AsyncSequence, Sendable {
        /// Events, in stream order.
        public typealias Element = ServerSentEvent
        /// The only error thrown.
        public typealias Failure = EventSourceError

        let source: EventSource

        /// Starts the source.
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(consumer: Consumer(source: source))
        }

        /// Hands out the events among the source's updates, a batch at a time.
        public struct AsyncIterator: AsyncIteratorProtocol {
            let consumer: Consumer
            var batch: [EventSourceUpdate] = []
            var batchIndex = 0

            /// How many events this iterator already holds: ``next()`` returns that many without
            /// waiting. A consumer that batches its own work (writes, commits) can finish a batch
            /// when this reaches zero, without adding latency.
            package var bufferedCount: Int { consumer.storage.isClosed ? 0 : batch.count - batchIndex }

            /// The next event; `nil` when the stream is finished.
            public mutating func next() async throws(EventSourceError) -> ServerSentEvent? {
                try await next(isolation: nil)
            }

            /// The next event, without leaving the caller's isolation; `nil` when the stream is finished.
            public mutating func next(
                isolation actor: isolated (any Actor)?
            ) async throws(EventSourceError) -> ServerSentEvent? {
                while true {
                    if let event = nextBuffered() { return event }
                    guard try await refill(isolation: actor).get() else { return nil }
                }
            }

            /// The next event of the batch already taken, if any. Events from the batch are
            /// handed out without an async call: per event, that call (and its executor check)
            /// cost more than the event itself.
            mutating func nextBuffered() -> ServerSentEvent? {
                while batchIndex < batch.count, !consumer.storage.isClosed {
                    defer { batchIndex += 1 }
                    if case .event(let event) = batch[batchIndex] { return event }
                }
                return nil
            }

            /// Takes the next batch, waiting for one; `false` when the stream is finished. A
            /// `Result` for the reason ``Consumer/take(into:eventsOnly:isolation:)`` gives.
            mutating func refill(isolation actor: isolated (any Actor)?) async -> Result<Bool, EventSourceError> {
                batch.removeAll(keepingCapacity: true)
                batchIndex = 0
                return await consumer.take(into: &batch, eventsOnly: true, isolation: actor)
            }
        }
    }

    /// Everything an ``EventSource`` reports, in order. Consumed through one iterator, as ``Events``.
    public struct Updates: AsyncSequence, Sendable {
        /// Updates, in order.
        public typealias Element = EventSourceUpdate
        /// The only error thrown.
        public typealias Failure = EventSourceError

        let source: EventSource

        /// Starts the source.
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(consumer: Consumer(source: source))
        }

        /// Takes updates from the source's buffer, a batch at a time.
        public struct AsyncIterator: AsyncIteratorProtocol {
            let consumer: Consumer
            var batch: [EventSourceUpdate] = []
            var batchIndex = 0

            /// How many updates this iterator already holds: ``next()`` returns that many without
            /// waiting.
            package var bufferedCount: Int { consumer.storage.isClosed ? 0 : batch.count - batchIndex }

            /// The next update; `nil` when the stream is finished.
            public mutating func next() async throws(EventSourceError) -> EventSourceUpdate? {
                try await next(isolation: nil)
            }

            /// The next update, without leaving the caller's isolation; `nil` when the stream is finished.
            public mutating func next(
                isolation actor: isolated (any Actor)?
            ) async throws(EventSourceError) -> EventSourceUpdate? {
                while true {
                    if batchIndex < batch.count && !consumer.storage.isClosed {
                        defer { batchIndex += 1 }
                        return batch[batchIndex]
                    }
                    batch.removeAll(keepingCapacity: true)
                    batchIndex = 0
                    guard try await consumer.take(into: &batch, eventsOnly: false, isolation: actor).get() else {
                        return nil
                    }
                }
            }
        }
    }

    /// The consuming side of a source: the one owner of its parser. Made by the iterator, it
    /// takes what the I/O thread queued, parses it, settles each connection when it reaches
    /// the connection's end, and closes the source when the iterator goes away (which is how
    /// breaking out of a `for try await` loop stops the connection).
    ///
    /// Parsing here rather than on the I/O thread means a consumer that stops reading also
    /// delays its own reconnect (it has not yet seen the end of the connection), which is
    /// consistent backpressure: the transfer is paused meanwhile, and a paused transfer's idle
    /// timer does not run.
    final class Consumer {
        let storage: EventSourceStorage
        /// Whether this is the source's one iterator; a second one only throws.
        private let isAccepted: Bool
        private var parser: EventStreamParser
        /// The current connection's latest `retry:`.
        private var serverRetry: Duration?
        /// Whether the current connection delivered a new event: one past the ID it resumed
        /// from (any event, in a stream without IDs). Progress, for the backoff.
        private var deliveredEvent = false
        /// The last event ID when the current connection started.
        private var resumedFrom: String
        /// How the current connection is to end, decided by what it sent (its terminator, an
        /// error event, an event too large): its remaining bytes are skipped.
        private var stopping: ConnectionEnding?
        /// The events that end a stream or carry an error, if any are declared.
        private let terminator: EventPattern?
        private let errorEvents: EventPattern?
        /// Events delivered before the current batch, across connections.
        private var deliveredBefore = 0
        /// Whether the resume hook needs the last event.
        private let tracksLastEvent: Bool
        /// The current connection's last event, when tracked.
        private var lastEvent: ServerSentEvent?
        /// The buffers emptied by the last batch, on their way back to the machine; kept, so that
        /// handing them back allocates nothing.
        private var spares: [[UInt8]] = []

        /// Bytes parsed per turn: bounds a batch and the time between the consumer's checks.
        private static let parseBudget = 64 * 1024

        init(source: EventSource) {
            storage = source.storage
            parser = EventStreamParser(
                configuration: .init(maximumEventSize: source.configuration.maximumEventSize),
                lastEventID: source.configuration.lastEventID
            )
            resumedFrom = source.configuration.lastEventID
            terminator = source.configuration.terminator
            errorEvents = source.configuration.errorEvents
            tracksLastEvent = source.storage.hooks.resumeRequest != nil
            isAccepted = source.storage.iteratorMade()
        }

        deinit {
            if isAccepted { storage.close() }
        }

        /// Moves the next updates into `batch`, waiting for some if there are none. Returns
        /// `false` when the source has ended, or the error that ended it.
        ///
        /// A `Result` rather than `throws(EventSourceError)`: with Swift 6.3.1, a typed-throwing
        /// async function with an `isolated` parameter and an `inout` one, called from the
        /// iterator's typed-throwing `next(isolation:)`, corrupted the caller's memory (seen as
        /// `sse-listen` exiting at random with garbage statuses, about one run in three).
        func take(
            into batch: inout [EventSourceUpdate],
            eventsOnly: Bool,
            isolation: isolated (any Actor)?
        ) async -> Result<Bool, EventSourceError> {
            guard isAccepted else { return .failure(.alreadyIterated(url: storage.url)) }
            while true {
                switch await storage.take(budget: Self.parseBudget, isolation: isolation) {
                case .ended(let error?):
                    return .failure(error)
                case .ended(nil):
                    return .success(false)
                case .wait:
                    continue
                case .entries(var entries, _):
                    process(&entries, into: &batch, eventsOnly: eventsOnly)
                    if !batch.isEmpty { return .success(true) }
                }
            }
        }

        private func process(
            _ entries: inout [EventSourceStorage.Machine.Entry],
            into batch: inout [EventSourceUpdate],
            eventsOnly: Bool
        ) {
            var events = 0
            var comments = 0
            var noEntries: [Machine.Entry] = []
            for index in entries.indices {
                switch entries[index] {
                case .bytes(let bytes):
                    parse(bytes, into: &batch, eventsOnly: eventsOnly, events: &events, comments: &comments)
                case .update(let update):
                    if !eventsOnly { batch.append(update) }
                case .ended(var ending, let openDuration):
                    // An `id` in a block the connection cut off never takes effect; the parser
                    // keeps the last one that did.
                    parser.finish()
                    if let stopping { ending = stopping }
                    storage.consumed(
                        events: events, comments: comments, lastEventID: parser.lastEventID, spareBuffers: &spares,
                        emptiedEntries: &noEntries)
                    deliveredBefore += events
                    (events, comments) = (0, 0)
                    let states = storage.settled(
                        .init(
                            ending: ending,
                            openDuration: openDuration,
                            deliveredEvent: deliveredEvent,
                            serverRetry: serverRetry,
                            lastEvent: lastEvent
                        )
                    )
                    (stopping, serverRetry, deliveredEvent, lastEvent) = (nil, nil, false, nil)
                    resumedFrom = parser.lastEventID
                    if !eventsOnly {
                        for state in states { batch.append(.state(state)) }
                    }
                }
                // Emptied buffers go back for the next chunks. Dropped from `entries` first, so
                // the buffer is unique and keeps its storage.
                if case .bytes(var bytes) = entries[index], bytes.capacity <= Machine.chunkCapacity * 2 {
                    entries[index] = .update(.retry(.zero))
                    bytes.removeAll(keepingCapacity: true)
                    spares.append(bytes)
                }
            }
            // The array goes back too, for the next take to fill.
            entries.removeAll(keepingCapacity: true)
            storage.consumed(
                events: events, comments: comments, lastEventID: parser.lastEventID, spareBuffers: &spares,
                emptiedEntries: &entries)
            deliveredBefore += events
        }

        private typealias Machine = EventSourceStorage.Machine

        /// Thrown out of the parser's callback to stop at an event that ends the connection.
        private struct StopParsing: Error {}

        /// Parses one chunk. After an event that ends the connection (its terminator, an error
        /// event, an event too large), stops the connection and skips the rest of its bytes.
        private func parse(
            _ bytes: [UInt8],
            into batch: inout [EventSourceUpdate],
            eventsOnly: Bool,
            events: inout Int,
            comments: inout Int
        ) {
            guard stopping == nil else { return }
            let batchStart = batch.count
            defer {
                if tracksLastEvent {
                    for update in batch[batchStart...].reversed() {
                        if case .event(let event) = update {
                            lastEvent = event
                            break
                        }
                    }
                }
            }
            do {
                try bytes.withUnsafeBytes { buffer in
                    try parser.parse(buffer) { item in
                        switch item {
                        case .event(let event):
                            if terminator != nil || errorEvents != nil, let ending = ending(at: event, events: events) {
                                stopping = ending
                                storage.consumerStopped(ending)
                                throw StopParsing()
                            }
                            events += 1
                            if !deliveredEvent { deliveredEvent = event.id.isEmpty || event.id != resumedFrom }
                            batch.append(.event(event))
                        case .comment(let text):
                            comments += 1
                            if !eventsOnly { batch.append(.comment(text)) }
                        case .retry(let delay):
                            serverRetry = delay
                            if !eventsOnly { batch.append(.retry(delay)) }
                        }
                    }
                }
            } catch is StopParsing {
                return
            } catch {
                let ending = ConnectionEnding.fatal(
                    .eventTooLarge(limit: parser.configuration.maximumEventSize, url: storage.url))
                stopping = ending
                storage.consumerStopped(ending)
            }
        }

        /// How `event` ends the connection, if it is the terminator or an error event; `events`
        /// counts those delivered from the current batch so far.
        private func ending(at event: ServerSentEvent, events: Int) -> ConnectionEnding? {
            if let terminator, terminator.matches(event) { return .completed }
            guard let errorEvents, errorEvents.matches(event) else { return nil }
            let error = EventSourceError.serverError(event, url: storage.url)
            // Before any other event, nothing was consumed that a retry would repeat: like a 503.
            return deliveredBefore + events == 0 ? .failure(error, retryAfter: nil) : .fatal(error)
        }
    }
}
