import SSEClient
import SSEParser
import SSETestServer
import Testing

@Suite("EventSource basics", .timeLimit(.minutes(1)))
struct EventSourceBasicsTests {
    @Test("events of a stream arrive in order with their ids")
    func receivesEvents() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(url: server.url(for: .numbered(count: 5)), configuration: .testing())
            let events = try await collectEvents(source, count: 5)
            #expect(events.map(\.id) == ["1", "2", "3", "4", "5"])
            #expect(events.map(\.data) == ["1", "2", "3", "4", "5"])
            #expect(events.allSatisfy { $0.type == "message" })
        }
    }
}

/// Every update a consumer takes is copied in and out of its batch, and most are events: an
/// update must stay the size of an event, whatever a state or an error carries.
@Suite("update layout")
struct UpdateLayoutTests {
    @Test("an update is no larger than an event and its case tag")
    func updateIsEventSized() {
        #expect(MemoryLayout<EventSourceUpdate>.size <= MemoryLayout<ServerSentEvent>.size + 1)
        #expect(MemoryLayout<EventSourceError>.size <= 40)
    }
}
