extension AsyncSequence where Element: Sequence, Element.Element == UInt8 {
    /// The events of the `text/event-stream` whose bytes arrive as chunks in this sequence.
    ///
    /// The sequence ends when the base sequence ends (an unterminated event at the end is
    /// discarded, as the standard says) and throws what the base throws or an
    /// ``EventStreamError``.
    ///
    /// - Parameters:
    ///   - configuration: Parser limits; ``EventStreamParser/Configuration/default`` unless given.
    ///   - lastEventID: The last event ID already in effect; empty by default.
    public func serverSentEvents(
        configuration: EventStreamParser.Configuration = .default,
        lastEventID: String = ""
    ) -> AsyncServerSentEventSequence<Self> {
        AsyncServerSentEventSequence(
            items: eventStreamItems(configuration: configuration, lastEventID: lastEventID)
        )
    }

    /// Everything (events, comments, `retry` changes) read from the `text/event-stream` whose
    /// bytes arrive as chunks in this sequence.
    ///
    /// - Parameters:
    ///   - configuration: Parser limits; ``EventStreamParser/Configuration/default`` unless given.
    ///   - lastEventID: The last event ID already in effect; empty by default.
    public func eventStreamItems(
        configuration: EventStreamParser.Configuration = .default,
        lastEventID: String = ""
    ) -> AsyncEventStreamItemSequence<Self> {
        AsyncEventStreamItemSequence(
            base: self,
            parser: EventStreamParser(configuration: configuration, lastEventID: lastEventID)
        )
    }
}

extension AsyncSequence where Element == UInt8 {
    /// The events of the `text/event-stream` whose bytes arrive one by one in this sequence.
    ///
    /// Bytes are gathered up to each line ending before parsing, so items arrive as soon as
    /// the byte that completes them does, without a parser call per byte.
    ///
    /// - Parameters:
    ///   - configuration: Parser limits; ``EventStreamParser/Configuration/default`` unless given.
    ///   - lastEventID: The last event ID already in effect; empty by default.
    public func serverSentEvents(
        configuration: EventStreamParser.Configuration = .default,
        lastEventID: String = ""
    ) -> AsyncServerSentEventSequence<AsyncLineChunkSequence<Self>> {
        AsyncLineChunkSequence(base: self).serverSentEvents(configuration: configuration, lastEventID: lastEventID)
    }

    /// Everything (events, comments, `retry` changes) read from the `text/event-stream` whose
    /// bytes arrive one by one in this sequence.
    ///
    /// - Parameters:
    ///   - configuration: Parser limits; ``EventStreamParser/Configuration/default`` unless given.
    ///   - lastEventID: The last event ID already in effect; empty by default.
    public func eventStreamItems(
        configuration: EventStreamParser.Configuration = .default,
        lastEventID: String = ""
    ) -> AsyncEventStreamItemSequence<AsyncLineChunkSequence<Self>> {
        AsyncLineChunkSequence(base: self).eventStreamItems(configuration: configuration, lastEventID: lastEventID)
    }
}

/// An asynchronous sequence of the items parsed from a sequence of byte chunks.
///
/// Create one with `eventStreamItems(configuration:lastEventID:)` on any `AsyncSequence` of
/// bytes or byte chunks.
public struct AsyncEventStreamItemSequence<Base: AsyncSequence>: AsyncSequence
where Base.Element: Sequence, Base.Element.Element == UInt8 {
    /// The parsed items, in stream order.
    public typealias Element = EventStreamItem
    /// Errors from the base sequence or ``EventStreamError``.
    public typealias Failure = any Error

    let base: Base
    let parser: EventStreamParser

    /// Creates an iterator that parses the base sequence from its start.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), parser: parser)
    }

    /// Reads chunks from the base sequence and hands out the items parsed from them one at a time.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        var parser: EventStreamParser
        var pending: [EventStreamItem] = []
        var pendingIndex = 0
        var isFinished = false

        init(base: Base.AsyncIterator, parser: EventStreamParser) {
            self.base = base
            self.parser = parser
        }

        /// The next item, or `nil` once the base sequence has ended or an error was thrown.
        public mutating func next(isolation actor: isolated (any Actor)? = #isolation) async throws -> EventStreamItem?
        {
            while true {
                if pendingIndex < pending.count {
                    defer { pendingIndex += 1 }
                    return pending[pendingIndex]
                }
                pending.removeAll(keepingCapacity: true)
                pendingIndex = 0
                if isFinished { return nil }
                do {
                    guard let chunk = try await base.next(isolation: actor) else {
                        parser.finish()
                        isFinished = true
                        return nil
                    }
                    var items: [EventStreamItem] = []
                    swap(&items, &pending)
                    try parser.parse(chunk) { items.append($0) }
                    swap(&items, &pending)
                } catch {
                    isFinished = true
                    throw error
                }
            }
        }

        /// The next item, or `nil` once the base sequence has ended or an error was thrown.
        public mutating func next() async throws -> EventStreamItem? {
            try await next(isolation: nil)
        }
    }
}

extension AsyncEventStreamItemSequence: Sendable where Base: Sendable {}

/// An asynchronous sequence of the events parsed from a sequence of byte chunks; comments and
/// `retry` fields are left out.
///
/// Create one with `serverSentEvents(configuration:lastEventID:)` on any `AsyncSequence` of
/// bytes or byte chunks.
public struct AsyncServerSentEventSequence<Base: AsyncSequence>: AsyncSequence
where Base.Element: Sequence, Base.Element.Element == UInt8 {
    /// The dispatched events, in stream order.
    public typealias Element = ServerSentEvent
    /// Errors from the base sequence or ``EventStreamError``.
    public typealias Failure = any Error

    let items: AsyncEventStreamItemSequence<Base>

    /// Creates an iterator that parses the base sequence from its start.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(items: items.makeAsyncIterator())
    }

    /// Hands out the events among the parsed items.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var items: AsyncEventStreamItemSequence<Base>.AsyncIterator

        /// The next event, or `nil` once the base sequence has ended or an error was thrown.
        public mutating func next(isolation actor: isolated (any Actor)? = #isolation) async throws -> ServerSentEvent?
        {
            while let item = try await items.next(isolation: actor) {
                if case .event(let event) = item { return event }
            }
            return nil
        }

        /// The next event, or `nil` once the base sequence has ended or an error was thrown.
        public mutating func next() async throws -> ServerSentEvent? {
            try await next(isolation: nil)
        }
    }
}

extension AsyncServerSentEventSequence: Sendable where Base: Sendable {}

/// Gathers a sequence of single bytes into chunks that end at a line ending (CR or LF) or
/// after 4 KiB, so a byte-at-a-time source is parsed a line at a time.
///
/// Public because it is part of the concrete type that `serverSentEvents()` and
/// `eventStreamItems()` on a byte sequence return (an opaque `some AsyncSequence` would hide the
/// conditional `Sendable` conformance and the typed element); make it yourself only to chunk
/// bytes for another consumer.
public struct AsyncLineChunkSequence<Base: AsyncSequence>: AsyncSequence where Base.Element == UInt8 {
    /// A run of bytes ending with CR or LF, or the bytes before the end of the base sequence.
    public typealias Element = [UInt8]
    /// Errors from the base sequence.
    public typealias Failure = any Error

    let base: Base

    /// The longest chunk handed out, in bytes.
    static var maximumChunkSize: Int { 4096 }

    /// Creates an iterator over the chunks of the base sequence.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator())
    }

    /// Reads bytes from the base sequence up to the next line ending.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator

        /// The next chunk, or `nil` when the base sequence has ended.
        public mutating func next(isolation actor: isolated (any Actor)? = #isolation) async throws -> [UInt8]? {
            var chunk: [UInt8] = []
            while let byte = try await base.next(isolation: actor) {
                chunk.append(byte)
                if byte == 0x0A || byte == 0x0D || chunk.count == AsyncLineChunkSequence.maximumChunkSize {
                    return chunk
                }
            }
            return chunk.isEmpty ? nil : chunk
        }

        /// The next chunk, or `nil` when the base sequence has ended.
        public mutating func next() async throws -> [UInt8]? {
            try await next(isolation: nil)
        }
    }
}

extension AsyncLineChunkSequence: Sendable where Base: Sendable {}
