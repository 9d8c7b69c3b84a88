import SSEClient
import SSEParser
import SSETestServer
import SSETestSupport
import Synchronization
import Testing

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Request-scoped streams (a model API's answer over POST): how they finish, how they fail, how a
/// dropped one is continued. Against the real TestServer over loopback.
@Suite("Request-scoped streams", .timeLimit(.minutes(1)))
struct RequestScopedStreamTests {
    /// Everything the source reports until it ends, and how it ended.
    struct Run: Sendable {
        var updates: [EventSourceUpdate] = []
        var error: EventSourceError?

        var events: [ServerSentEvent] {
            updates.compactMap { if case .event(let event) = $0 { event } else { nil } }
        }
        var disconnects: [DisconnectReason] {
            updates.compactMap { if case .state(.disconnected(let reason)) = $0 { reason } else { nil } }
        }
    }

    static func run(_ source: EventSource, timeout: Duration = .seconds(20)) async throws -> Run {
        try await withTimeout("the source to end", timeout: timeout) {
            var run = Run()
            do throws(EventSourceError) {
                for try await update in source.updates { run.updates.append(update) }
            } catch {
                run.error = error
            }
            return run
        }
    }

    static func post(_ change: (inout EventSource.Configuration) -> Void = { _ in }) -> EventSource.Configuration {
        .testing {
            $0.method = "POST"
            $0.body = Array(#"{"prompt":"hi"}"#.utf8)
            change(&$0)
        }
    }

    // MARK: Terminators

    @Test(
        "a terminator ends the sequence normally, is not delivered, and closes a connection the server kept open",
        arguments: [
            ("data: a\n\ndata:[DONE]\n\ndata: after\n\n", EventSource.EventPattern.data("[DONE]")),
            ("data: a\n\ndata: [DONE]\n\n", .data("[DONE]")),
            (
                "event: delta\ndata: a\n\nevent: message_stop\ndata: {}\n\nevent: delta\ndata: after\n\n",
                .eventType("message_stop")
            ),
            (
                "event: delta\ndata: a\n\nevent: response.completed\ndata: {}\n\n",
                .eventTypes(["response.completed", "response.failed"])
            ),
            (
                "data: a\n\ndata: {\"id\":7,\"result\":{}}\n\n",
                .matching("the response to request 7") { $0.data.hasPrefix("{\"id\":7") }
            ),
        ])
    func terminators(body: String, terminator: EventSource.EventPattern) async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: Scenario.raw(body).ending(with: .hang))
            let source = EventSource(url: url, configuration: Self.post { $0.terminator = terminator })
            let run = try await Self.run(source)
            #expect(run.error == nil)
            #expect(run.events.map(\.data) == ["a"])
            #expect(run.disconnects == [.completed])
            // The server hangs: only the client's close can have ended the connection.
            _ = try await server.waitForClose(ofConnection: 1)
            #expect(server.requests.count == 1)
        }
    }

    @Test("a GET stream with a terminator reconnects with Last-Event-ID until the terminator comes")
    func getContinuesToTerminator() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 9).droppingAfter(events: 2))
            let source = EventSource(
                url: url, configuration: .testing { $0.terminator = .matching("event 7") { $0.id == "7" } })
            let run = try await Self.run(source)
            #expect(run.error == nil)
            #expect(run.events.map(\.id) == ["1", "2", "3", "4", "5", "6"])
            #expect(run.disconnects.last == .completed)
            #expect(server.requests.map { $0.header("Last-Event-ID") } == [nil, "2", "4", "6"])
        }
    }

    // MARK: Truncation

    @Test("a POST that ends before its terminator fails as truncated: a clean end, a FIN mid-body, a reset")
    func truncatedAtClose() async throws {
        try await TestServer.withRunning { server in
            for ending in [Scenario.Ending.finish, .close, .reset] {
                let url = server.url(for: Scenario.raw("data: a\n\ndata: b\n\n").ending(with: ending))
                let source = EventSource(url: url, configuration: Self.post { $0.terminator = .data("[DONE]") })
                let run = try await Self.run(source)
                #expect(run.events.map(\.data) == ["a", "b"], "\(ending)")
                let error = try #require(run.error, "\(ending)")
                #expect(error.code == .truncated)
                #expect(error.expectedTerminator == #"data "[DONE]""#)
                #expect(error.description.contains(#"ended before its terminator (data "[DONE]")"#))
                // A FIN inside the chunked body is as much a transport failure as a reset.
                #expect(error.lastFailure?.code == (ending == .finish ? nil : .transport), "\(ending)")
            }
            #expect(server.requests.count == 3)
        }
    }

    @Test("truncation at random byte offsets, by FIN and by RST: the events before the cut, in order, then truncated")
    func truncatedAtRandomOffsets() async throws {
        var random = SeededRandom(seed: 14)
        try await TestServer.withRunning { server in
            for ending in [Scenario.Ending.close, .reset] {
                for _ in 0..<4 {
                    let offset = Int.random(in: 1..<400, using: &random)
                    let url = server.url(for: .numbered(count: 40).droppingAfter(bytes: offset, with: ending))
                    let source = EventSource(url: url, configuration: Self.post { $0.terminator = .data("[DONE]") })
                    let run = try await Self.run(source)
                    let ids = run.events.map(\.id)
                    #expect(ids == (0..<ids.count).map { String($0 + 1) }, "offset \(offset), \(ending)")
                    #expect(run.error?.code == .truncated, "offset \(offset), \(ending)")
                }
            }
        }
    }

    @Test("without a terminator a POST's clean end is still a normal end (endOfStream .finish)")
    func noTerminatorCleanEnd() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: Scenario.raw("data: a\n\n"))
            let run = try await Self.run(EventSource(url: url, configuration: Self.post { $0.endOfStream = .finish }))
            #expect(run.error == nil)
            #expect(run.events.map(\.data) == ["a"])
            #expect(run.disconnects == [.endOfStream])
        }
    }

    // MARK: In-band errors

    @Test("an error event after the first event ends the source with the server's error, not delivered, no reconnect")
    func errorAfterFirstEvent() async throws {
        try await TestServer.withRunning { server in
            let body = "data: a\n\nevent: error\ndata: {\"type\":\"overloaded_error\"}\n\ndata: after\n\n"
            let url = server.url(for: Scenario.raw(body).ending(with: .hang))
            let source = EventSource(url: url, configuration: .testing { $0.errorEvents = .eventType("error") })
            let run = try await Self.run(source)
            #expect(run.events.map(\.data) == ["a"])
            let error = try #require(run.error)
            #expect(error.code == .serverError)
            #expect(error.event?.type == "error")
            #expect(error.message == #"{"type":"overloaded_error"}"#)
            #expect(error.description.contains("sent an error event (error)"))
            _ = try await server.waitForClose(ofConnection: 1)
            #expect(server.requests.count == 1)
        }
    }

    @Test("an error event before any other event counts like a 503: a repeatable request is retried")
    func errorBeforeFirstEventIsRetried() async throws {
        try await TestServer.withRunning { server in
            let failing = server.url(for: Scenario.raw("event: error\ndata: overloaded\n\n").ending(with: .hang))
            let healthy = server.url(for: .numbered(count: 2))
            let hooks = EventSource.Hooks(prepareRequest: { request in
                var request = request
                if request.attempt > 0 { request.url = healthy }
                return request
            })
            let source = EventSource(
                url: failing,
                configuration: .testing {
                    $0.errorEvents = .eventType("error")
                    $0.endOfStream = .finish
                }, hooks: hooks)
            let run = try await Self.run(source)
            #expect(run.error == nil)
            #expect(run.events.map(\.data) == ["1", "2"])
            guard case .failure(let error) = run.disconnects.first else {
                Issue.record("\(run.disconnects)")
                return
            }
            #expect(error.code == .serverError)
            #expect(error.message == "overloaded")
        }
    }

    @Test("an error event before any other event ends a POST with the server's error")
    func errorBeforeFirstEventOfPost() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: Scenario.raw("event: error\ndata: overloaded\n\n").ending(with: .hang))
            let source = EventSource(
                url: url,
                configuration: Self.post {
                    $0.errorEvents = .eventType("error")
                    $0.terminator = .eventType("message_stop")
                })
            let run = try await Self.run(source)
            #expect(run.events.isEmpty)
            #expect(run.error?.code == .serverError)
            #expect(server.requests.count == 1)
        }
    }

    // MARK: Resuming

    @Test("a dropped POST is resumed by the hook's GET with Last-Event-ID: every event once, in order")
    func resumeByHook() async throws {
        let seen = Mutex<[EventSource.Resumption]>([])
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 10).droppingAfter(events: 3, with: .reset))
            let hooks = EventSource.Hooks(resumeRequest: { resumption in
                seen.withLock { $0.append(resumption) }
                var request = resumption.request
                (request.method, request.body) = ("GET", nil)
                return request
            })
            let source = EventSource(
                url: url, configuration: Self.post { $0.terminator = .matching("event 10") { $0.id == "10" } },
                hooks: hooks)
            let run = try await Self.run(source)
            #expect(run.error == nil)
            #expect(run.events.map(\.id) == (1...9).map(String.init))
            let requests = server.requests
            #expect(requests.map(\.method) == ["POST", "GET", "GET", "GET"])
            #expect(requests.map { $0.header("Last-Event-ID") } == [nil, "3", "6", "9"])
        }
        let resumptions = seen.withLock { $0 }
        #expect(resumptions.map(\.deliveredEvents) == [3, 6, 9])
        #expect(resumptions.map(\.lastEvent?.id) == ["3", "6", "9"])
        #expect(resumptions.allSatisfy { $0.originalRequest.method == "POST" })
        #expect(resumptions.allSatisfy { $0.reason.error?.code == .transport })
    }

    @Test("resume after drops at random byte offsets: every event once, in order, the text equal to the server's")
    func resumeAtRandomOffsets() async throws {
        var random = SeededRandom(seed: 1414)
        try await TestServer.withRunning { server in
            for round in 0..<4 {
                // At least one whole event (17 bytes for two digits) per connection, so each makes progress.
                let offset = Int.random(in: 17..<120, using: &random)
                let scenario = Scenario.numbered(count: 30).droppingAfter(
                    bytes: offset, with: round.isMultiple(of: 2) ? .reset : .close)
                let hooks = EventSource.Hooks(resumeRequest: { resumption in
                    var request = resumption.request
                    (request.method, request.body) = ("GET", nil)
                    return request
                })
                let source = EventSource(
                    url: server.url(for: scenario.keyed("round-\(round)")),
                    configuration: Self.post { $0.terminator = .matching("event 30") { $0.id == "30" } },
                    hooks: hooks)
                let run = try await Self.run(source)
                #expect(run.error == nil, "offset \(offset)")
                #expect(run.events.map(\.id) == (1...29).map(String.init), "offset \(offset)")
                #expect(
                    run.events.map(\.data).joined()
                        == (1...29).map { Scenario.numberedData($0, payloadSize: nil) }.joined())
            }
        }
    }

    @Test("a resume hook that returns nil ends the stream as truncated, carrying why it dropped")
    func resumeDeclined() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: Scenario.raw("data: a\n\n").ending(with: .reset))
            let hooks = EventSource.Hooks(resumeRequest: { _ in nil })
            let source = EventSource(
                url: url, configuration: Self.post { $0.terminator = .data("[DONE]") }, hooks: hooks)
            let run = try await Self.run(source)
            #expect(run.events.map(\.data) == ["a"])
            #expect(run.error?.code == .truncated)
            #expect(run.error?.lastFailure?.code == .transport)
            #expect(server.requests.count == 1)
        }
    }

    // MARK: Typed decoding

    struct Chunk: Decodable, Equatable {
        var n: Int
    }

    @Test("decoded(as:): each event's data as a Decodable value, the terminator not among them")
    func decodedValues() async throws {
        try await TestServer.withRunning { server in
            let body = "data: {\"n\":1}\n\n: PROCESSING\n\ndata: {\"n\":2}\n\ndata:[DONE]\n\n"
            let source = EventSource(
                url: server.url(for: Scenario.raw(body).ending(with: .hang)),
                configuration: Self.post { $0.terminator = .data("[DONE]") })
            let values = try await withTimeout("decoded values") {
                var values: [Chunk] = []
                for try await chunk in source.events.decoded(as: Chunk.self) { values.append(chunk) }
                return values
            }
            #expect(values == [Chunk(n: 1), Chunk(n: 2)])
        }
    }

    @Test("an undecodable event fails with the event, unless skipping was chosen")
    func undecodable() async throws {
        try await TestServer.withRunning { server in
            let body = "data: {\"n\":1}\n\nid: 2\ndata: not json\n\ndata: {\"n\":3}\n\ndata: [DONE]\n\n"
            let url = server.url(for: Scenario.raw(body))
            let configuration = Self.post { $0.terminator = .data("[DONE]") }

            let failing = EventSource(url: url, configuration: configuration)
            let failure = try await withTimeout("the decoding failure") { () -> ([Chunk], EventSourceError?) in
                var values: [Chunk] = []
                do throws(EventSourceError) {
                    for try await chunk in failing.events.decoded(as: Chunk.self) { values.append(chunk) }
                } catch {
                    return (values, error)
                }
                return (values, nil)
            }
            #expect(failure.0 == [Chunk(n: 1)])
            #expect(failure.1?.code == .undecodableEvent)
            #expect(failure.1?.event?.id == "2")
            #expect(failure.1?.event?.data == "not json")

            let skipping = EventSource(url: url, configuration: configuration)
            let values = try await withTimeout("the decoded values") {
                var values: [Chunk] = []
                for try await chunk in skipping.events.decoded(as: Chunk.self, skippingUndecodable: true) {
                    values.append(chunk)
                }
                return values
            }
            #expect(values == [Chunk(n: 1), Chunk(n: 3)])
        }
    }

    enum Claude: Equatable {
        case text(String)
        case stop
    }

    struct Delta: Decodable {
        struct Text: Decodable { var text: String }
        var delta: Text
    }

    @Test("routing by event type: deltas decoded, pings skipped; ofType keeps only the types asked for")
    func routing() async throws {
        let body = """
            event: message_start
            data: {}

            event: content_block_delta
            data: {"delta":{"text":"Hel"}}

            event: ping
            data: {}

            event: content_block_delta
            data: {"delta":{"text":"lo"}}

            event: message_delta
            data: {}

            event: message_stop
            data: {}


            """
        try await TestServer.withRunning { server in
            let url = server.url(for: Scenario.raw(body).ending(with: .hang))
            let configuration = Self.post { $0.terminator = .eventType("message_stop") }
            let routed = EventSource(url: url, configuration: configuration)
            let values = try await withTimeout("routed values") {
                var values: [Claude] = []
                let stream = routed.events.decoded { event -> Claude? in
                    switch event.type {
                    case "content_block_delta": .text(try event.decodeData(as: Delta.self).delta.text)
                    case "message_delta": .stop
                    default: nil
                    }
                }
                for try await value in stream { values.append(value) }
                return values
            }
            #expect(values == [.text("Hel"), .text("lo"), .stop])

            let filtered = EventSource(url: url, configuration: configuration)
            let types = try await withTimeout("filtered events") {
                var types: [String] = []
                for try await event in filtered.events.ofType("ping", "message_start") { types.append(event.type) }
                return types
            }
            #expect(types == ["message_start", "ping"])
        }
    }
}
