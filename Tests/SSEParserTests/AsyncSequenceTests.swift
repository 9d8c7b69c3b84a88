import SSEParser
import Testing

/// An async sequence over chunks given up front.
struct Chunks<Element: Sendable>: AsyncSequence, Sendable {
    let elements: [Element]
    var failure: EventStreamError? = nil

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: ArraySlice<Element>
        let failure: EventStreamError?

        mutating func next() async throws -> Element? {
            if let element = remaining.popFirst() { return element }
            if let failure { throw failure }
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(remaining: elements[...], failure: failure)
    }
}

@Suite("Async sequence adapters")
struct AsyncSequenceTests {
    static let stream = "\u{FEFF}: hi\r\nretry: 10\nid: 1\ndata: a\n\ndata: b\r\rdata: cut off"

    @Test("byte chunks become events", .timeLimit(.minutes(1)))
    func chunksToEvents() async throws {
        let bytes = Array(Self.stream.utf8)
        let chunks = Chunks(
            elements: stride(from: 0, to: bytes.count, by: 5).map { Array(bytes[$0..<min($0 + 5, bytes.count)]) })
        var events: [ServerSentEvent] = []
        for try await event in chunks.serverSentEvents() {
            events.append(event)
        }
        #expect(events == [ServerSentEvent(id: "1", data: "a"), ServerSentEvent(id: "1", data: "b")])
    }

    @Test("single bytes become items, comments and retry included", .timeLimit(.minutes(1)))
    func bytesToItems() async throws {
        var items: [EventStreamItem] = []
        for try await item in Chunks(elements: Array(Self.stream.utf8)).eventStreamItems() {
            items.append(item)
        }
        #expect(items == [.comment(" hi"), .retry(.milliseconds(10)), message("a", id: "1"), message("b", id: "1")])
    }

    @Test("an initial last event ID and limits are passed to the parser", .timeLimit(.minutes(1)))
    func configurationIsUsed() async throws {
        var events: [ServerSentEvent] = []
        let source = Chunks(elements: Array("data: x\n\n".utf8))
        for try await event in source.serverSentEvents(lastEventID: "9") {
            events.append(event)
        }
        #expect(events == [ServerSentEvent(id: "9", data: "x")])

        let large = Chunks(elements: [Array("data: 0123456789\n\n".utf8)])
        await #expect(throws: EventStreamError.eventTooLarge(limit: 8)) {
            for try await _ in large.serverSentEvents(configuration: .init(maximumEventSize: 8)) {}
        }
    }

    @Test("an error from the base sequence is thrown after the items before it", .timeLimit(.minutes(1)))
    func baseErrorPropagates() async throws {
        let source = Chunks(elements: [Array("data: a\n\n".utf8)], failure: .eventTooLarge(limit: 1))
        var iterator = source.serverSentEvents().makeAsyncIterator()
        #expect(try await iterator.next() == ServerSentEvent(data: "a"))
        await #expect(throws: EventStreamError.eventTooLarge(limit: 1)) { _ = try await iterator.next() }
        #expect(try await iterator.next() == nil)
    }
}
