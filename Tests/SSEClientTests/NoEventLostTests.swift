import SSEClient
import SSEParser
import SSETestServer
import Synchronization
import Testing

@Suite("No event lost or duplicated", .timeLimit(.minutes(1)))
struct NoEventLostTests {
    /// Every connection is cut after a different, random number of bytes, so cuts fall mid-line,
    /// between a CR and its LF, and inside multi-byte characters; the server replays from
    /// `Last-Event-ID`, so the consumer must see every event exactly once, in order.
    @Test(
        "random drops at any byte offset, with every line ending, FIN and RST",
        arguments: [Scenario.LineEnding.lf, .crlf, .cr]
    )
    func randomDrops(lineEnding: Scenario.LineEnding) async throws {
        try await TestServer.withRunning { server in
            let total = 150
            let random = Mutex(SeededRandom(seed: 0xD20F + UInt64(lineEnding.rawValue.utf8.count)))
            let cuts = Mutex<[Int]>([])
            let base = Scenario.numbered(count: total, payloadSize: 12).unicodePayload().lineEnding(lineEnding)
            let hooks = EventSource.Hooks(
                prepareRequest: { request in
                    var request = request
                    let (bytes, reset) = random.withLock { random in
                        (Int.random(in: 1...160, using: &random), Bool.random(using: &random))
                    }
                    cuts.withLock { $0.append(bytes) }
                    let scenario = base.droppingAfter(bytes: bytes, with: reset ? .reset : .close)
                    request.url = server.url(for: scenario)
                    return request
                }
            )
            let source = EventSource(
                url: server.url(for: base), configuration: .testing(), hooks: hooks,
                environment: RecordedSleeps().environment)
            let events = try await collectEvents(source, count: total, timeout: .seconds(30))
            let expected = (1...total).map { base.numberedEvent($0) }
            #expect(events == expected)
            #expect(cuts.withLock { $0.count } > 20, "the stream should have been cut many times")
        }
    }

    /// The consumer owns the parser, and a connection's end is queued behind its bytes: the
    /// next request waits until the consumer has parsed them all, so its `Last-Event-ID` and
    /// `retry:` reflect every byte received, read or not when the connection ended.
    @Test("a reconnect resumes after the last event received, also when the consumer had not read it yet")
    func resumeFromUnreadEvents() async throws {
        try await TestServer.withRunning { server in
            let scenario = Scenario.numbered(count: 6, interval: .milliseconds(30))
                .droppingAfter(events: 4, with: .close).retrying(after: .milliseconds(7))
            let delays = RecordedSleeps()
            let source = EventSource(
                url: server.url(for: scenario),
                configuration: .testing { $0.reconnect.initialDelay = .seconds(5) },
                environment: delays.environment
            )
            var iterator = source.events.makeAsyncIterator()
            #expect(try await iterator.next()?.id == "1")
            // Events 2 to 4 and the drop arrive while the consumer reads nothing.
            _ = try await server.waitForClose(ofConnection: 1)
            var ids: [String] = []
            while ids.count < 5, let event = try await iterator.next() { ids.append(event.id) }
            #expect(ids == ["2", "3", "4", "5", "6"])
            let requests = server.requests
            #expect(requests.count == 2)
            #expect(requests.last?.header("Last-Event-ID") == "4")
            // The server's `retry: 7`, also unread when the connection ended, set the delay.
            #expect(delays.all.first == .milliseconds(7))
            source.close()
        }
    }

    @Test("a stream written one byte at a time with drops loses nothing")
    func tinyWritesWithDrops() async throws {
        try await TestServer.withRunning { server in
            let scenario = Scenario.numbered(count: 30).unicodePayload().lineEnding(.crlf)
                .droppingAfter(bytes: 97, with: .reset).tinyWrites(size: 1)
            let source = EventSource(url: server.url(for: scenario), configuration: .testing())
            let events = try await collectEvents(source, count: 30, timeout: .seconds(30))
            #expect(events == (1...30).map { scenario.numberedEvent($0) })
        }
    }
}
