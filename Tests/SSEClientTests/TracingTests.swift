import InMemoryTracing
import SSEClient
import SSEParser
import SSETestServer
import SSETestSupport
import Testing
import Tracing

@testable import SSEClient

/// A span per connection attempt (swift-distributed-tracing), against a scripted TestServer run,
/// with an `InMemoryTracer` injected for the test.
@Suite("Tracing (swift-distributed-tracing)", .timeLimit(.minutes(1)))
struct TracingTests {
    @Test("each attempt is a client span, a child of the context the source was made in, injected into its request")
    func spanPerAttempt() async throws {
        let tracer = InMemoryTracer()
        try await TestServer.withRunning { server in
            let parent = tracer.startSpan("app")
            let source = InstrumentationContext.$current.withValue(parent.context) {
                EventSource(
                    url: server.url(for: .numbered(count: 4).droppingAfter(events: 2, with: .finish)),
                    configuration: .testing { $0.terminator = .matching("event 4") { $0.id == "4" } },
                    environment: EventSource.Environment(tracer: tracer))
            }
            let events = try await withTimeout("the stream") {
                var ids: [String] = []
                for try await event in source.events { ids.append(event.id) }
                return ids
            }
            #expect(events == ["1", "2", "3"])
            parent.end()

            let spans = tracer.finishedSpans.filter { $0.operationName == "GET" }
            try #require(spans.count == 2)
            let app = try #require(tracer.finishedSpans.first { $0.operationName == "app" })
            for (index, span) in spans.enumerated() {
                #expect(span.kind == .client)
                #expect(span.spanContext.traceID == app.spanContext.traceID)
                #expect(span.spanContext.parentSpanID == app.spanContext.spanID)
                #expect(span.attributes["http.request.method"]?.toSpanAttribute() == "GET")
                #expect(
                    span.attributes["url.full"]?.toSpanAttribute()
                        == "\(server.baseURL)/events?count=&dropAfter=&end=".toSpanAttribute())
                #expect(span.attributes["server.address"]?.toSpanAttribute() == "127.0.0.1")
                #expect(span.attributes["http.response.status_code"]?.toSpanAttribute() == 200)
                #expect(span.attributes["network.protocol.version"]?.toSpanAttribute() == "1.1")
                #expect(span.attributes["sse.last_event_id.sent"]?.toSpanAttribute() == .bool(index > 0))
            }
            #expect(spans[0].attributes["sse.connection.ending"]?.toSpanAttribute() == "endOfStream")
            // The server sees each attempt's own span context in its request.
            let requests = server.requests
            #expect(requests.count == 2)
            #expect(requests.map { $0.header(InMemoryTracer.spanIDKey) } == spans.map(\.spanContext.spanID))
            #expect(requests.allSatisfy { $0.header(InMemoryTracer.traceIDKey) == app.spanContext.traceID })
        }
    }

    @Test("a failed attempt's span has the error status")
    func failedAttempt() async throws {
        let tracer = InMemoryTracer()
        let source = EventSource(
            url: "http://127.0.0.1:1/events", configuration: .testing { $0.reconnect = .disabled },
            environment: EventSource.Environment(tracer: tracer))
        await #expect(throws: EventSourceError.self) {
            try await withTimeout("the failure") { for try await _ in source.events {} }
        }
        let span = try #require(tracer.finishedSpans.first)
        #expect(span.status?.code == .error)
        #expect(span.errors.count == 1)
    }

    @Test("url.full keeps no credentials and no query values")
    func redaction() {
        #expect(
            AttemptTracing.redacted("https://user:secret@example.com:8443/feed?token=abc&x=1#top")
                == "https://example.com:8443/feed?token=&x=")
        #expect(AttemptTracing.redacted("http://[::1]:80/s") == "http://[::1]:80/s")
        #expect(AttemptTracing.hostAndPort("http://[::1]:8080/s")! == ("::1", 8080))
        #expect(AttemptTracing.hostAndPort("https://u@example.com/s")! == ("example.com", nil))
    }
}
