import SSEClient
import SSEParser
import SSETestServer
import Testing

/// A source is consumed through one iterator: a second one fails at once instead of stealing
/// the first one's wake-ups (which left one of them waiting forever).
@Suite("One iterator per source", .timeLimit(.minutes(1)))
struct EventSourceIterationTests {
    @Test("iterating events and updates at the same time: the second fails at once, the first gets every event")
    func eventsAndUpdatesTogether() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 5, interval: .milliseconds(20))),
                configuration: .testing { $0.endOfStream = .finish }
            )
            var events = source.events.makeAsyncIterator()
            #expect(try await events.next()?.id == "1")
            var updates = source.updates.makeAsyncIterator()
            await #expect(throws: EventSourceError.self) { _ = try await updates.next() }
            do throws(EventSourceError) {
                _ = try await updates.next()
                Issue.record("the second iterator should keep failing")
            } catch {
                #expect(error.code == .alreadyIterated)
                #expect(error.description.contains("one iterator"))
            }
            var ids = ["1"]
            while let event = try await events.next() { ids.append(event.id) }
            #expect(ids == ["1", "2", "3", "4", "5"])
        }
    }

    @Test("a second iteration after the first one ended fails too, rather than reconnecting")
    func iterateTwice() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 2)), configuration: .testing { $0.endOfStream = .finish })
            var count = 0
            for try await _ in source.events { count += 1 }
            #expect(count == 2)
            var again = source.events.makeAsyncIterator()
            await #expect(throws: EventSourceError.self) { _ = try await again.next() }
            #expect(server.requests.count == 1)
        }
    }
}
