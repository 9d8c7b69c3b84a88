import Logging
import SSEClient
import SSEParser
import SSETestServer
import SSETestSupport
import Synchronization
import Testing

@testable import SSEClient

#if canImport(Glibc)
    import Glibc
#endif

/// Client-side TCP connections to `port` that are still established, from /proc/net/tcp: how a
/// test sees whether the client really let go of a connection, independently of other tests.
func establishedConnections(toPort port: Int) -> Int {
    // The remote address column holds the port as 4 upper-case hex digits after a colon; test
    // for it before splitting, as the table can hold thousands of lines from other tests.
    let hex = String(port, radix: 16, uppercase: true)
    let needle = ":" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + " "
    var count = 0
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        guard let handle = fopen(file, "r") else { continue }
        defer { fclose(handle) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        while getline(&line, &capacity, handle) > 0 {
            guard strstr(line!, needle) != nil else { continue }
            let fields = String(cString: line!).split(separator: " ")
            // sl local_address rem_address st ...; addresses are HEX_IP:HEX_PORT; 01 = ESTABLISHED.
            guard fields.count > 3, fields[3] == "01",
                let remotePort = fields[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) })
            else { continue }
            if remotePort == port { count += 1 }
        }
        free(line)
    }
    return count
}

/// A source on `driver`, so that a test sees that driver's thread and transfers alone.
func makeSource(
    _ url: String,
    _ configuration: EventSource.Configuration = .testing(),
    hooks: EventSource.Hooks = .init(),
    driver: CurlDriver
) -> EventSource {
    EventSource(
        url: url,
        configuration: configuration,
        hooks: hooks,
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
        driver: driver
    )
}

@Suite("EventSource lifecycle", .timeLimit(.minutes(1)))
struct EventSourceLifecycleTests {
    // How fast close() and cancellation let go of a connection is a figure for a benchmark; these
    // tests hold that they do it at all, on a connection that is silent for longer than the bound
    // (no byte, and no idle timeout, would end it otherwise).

    @Test("close() aborts a silent transfer, ends the sequence, and nothing reconnects")
    func closeAborts() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: Scenario.numbered(count: 1).ending(with: .hang)),
                configuration: .testing { $0.idleTimeout = .seconds(300) }
            )
            var iterator = source.events.makeAsyncIterator()
            #expect(try await iterator.next()?.id == "1")
            source.close()
            _ = try await server.waitForClose(ofConnection: 1, timeout: .seconds(30))
            let afterClose = try await iterator.next()
            #expect(afterClose == nil, "after close: \(String(describing: afterClose))")
            let states = try await finalStates(of: source)
            #expect(states.last == .finished(nil))
            #expect(connectionAttempts(states) == 1, "nothing reconnects after close(): \(states)")
            #expect(try await requestsBeforeMarker(on: server).count == 1)
        }
    }

    @Test("cancelling the consuming task aborts a silent transfer, and nothing reconnects")
    func cancellationAborts() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .hangAfterHeaders),
                configuration: .testing { $0.idleTimeout = .seconds(300) }
            )
            let consumer = Task {
                for try await _ in source.events {}
            }
            let requests = try await server.waitForRequests(count: 1)
            let connection = try #require(requests.last?.connection)
            consumer.cancel()
            _ = try await server.waitForClose(ofConnection: connection, timeout: .seconds(30))
            _ = try await withTimeout("the consumer to end") { try await consumer.value }
            let states = try await finalStates(of: source)
            #expect(connectionAttempts(states) == 1, "nothing reconnects after cancellation: \(states)")
            #expect(try await requestsBeforeMarker(on: server).count == 1)
        }
    }

    @Test("breaking out of the loop closes the connection")
    func breakCloses() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(url: server.url(for: .numbered()), configuration: .testing())
            _ = try await collectEvents(source, count: 3)  // breaks after 3
            try await waitUntil("no connection to the server left") { establishedConnections(toPort: server.port) == 0 }
        }
    }

    @Test("closing while waiting to reconnect stops the reconnect")
    func closeDuringBackoff() async throws {
        try await TestServer.withRunning { server in
            var configuration = EventSource.Configuration.testing()
            configuration.reconnect.initialDelay = .seconds(30)
            configuration.reconnect.maximumDelay = .seconds(30)
            let source = EventSource(url: server.url(for: .numbered(count: 1)), configuration: configuration)
            var states = source.states.makeAsyncIterator()
            let consumer = Task { for try await _ in source.events {} }
            var seen: [ConnectionState] = []
            while let state = await states.next() {
                seen.append(state)
                if case .waitingToReconnect = state { break }
            }
            guard case .waitingToReconnect? = seen.last else {
                Issue.record("never waited to reconnect: \(seen)")
                return
            }
            source.close()
            _ = try await withTimeout("the consumer to end") { try await consumer.value }
            // The rest of the states, to the end of the sequence (bounded by the suite's time limit).
            while let state = await states.next() { seen.append(state) }
            #expect(seen.last == .finished(nil))
            #expect(connectionAttempts(seen) == 1, "\(seen)")
            #expect(try await requestsBeforeMarker(on: server).count == 1)
        }
    }

    @Test(
        "an open stream holds no finished connect task (each kept its stack memory, about 3 KiB), after reconnects too")
    func connectTaskLetGo() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(interval: .milliseconds(20)).droppingAfter(events: 3)),
                configuration: .testing())
            // Still iterating (breaking out of the loop would close the source, and let go anyway).
            try await withTimeout("six events, across a reconnect") {
                var events = source.events.makeAsyncIterator()
                for _ in 0..<6 { _ = try await events.next() }
                #expect(server.requests.count >= 2)
                try await waitUntil("the connect task to be let go", timeout: .seconds(10)) {
                    !source.storage.holdsConnectTask
                }
                #expect(!source.storage.isClosed)
            }
            source.close()
        }
    }

    @Test("no curl handles, threads or sockets outlive the sources")
    func noLeaks() async throws {
        let driver = CurlDriver(linger: .milliseconds(50))
        try await TestServer.withRunning { server in
            let sources = (0..<20).map { _ in makeSource(server.url(for: .numbered()), driver: driver) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for source in sources {
                    group.addTask { _ = try await collectEvents(source, count: 2) }
                }
                try await group.waitForAll()
            }
            try await waitUntil("no connection to the server left") { establishedConnections(toPort: server.port) == 0 }
            try await waitUntil("the I/O thread to exit when idle") { !driver.threadStatus.isRunning }
            #expect(driver.threadStatus.activeTransfers == 0)
            #expect(driver.threadStatus.started >= 1)

            // A new source after that starts a new thread and works.
            let again = makeSource(server.url(for: .numbered(count: 1)), driver: driver)
            #expect(try await collectEvents(again, count: 1).count == 1)
        }
    }

    @Test("a thousand-stream style load uses one I/O thread, not one per stream")
    func oneThreadForManyStreams() async throws {
        let driver = CurlDriver(linger: .milliseconds(50))
        try await TestServer.withRunning { server in
            let sources = (0..<50).map { _ in
                makeSource(server.url(for: .numbered(interval: .milliseconds(5))), driver: driver)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for source in sources {
                    group.addTask { _ = try await collectEvents(source, count: 3) }
                }
                try await group.waitForAll()
            }
            #expect(driver.threadStatus.started == 1)
        }
    }

    @Test("the idle timeout drops a silent connection, never before it is due, and reconnects")
    func idleTimeout() async throws {
        try await TestServer.withRunning { server in
            // Before the first attempt can start: a time no later than its real start.
            let created = ContinuousClock.now
            let source = EventSource(
                url: server.url(for: .hangAfterHeaders),
                configuration: .testing { $0.idleTimeout = .milliseconds(150) }
            )
            var timeouts = 0
            for try await update in source.updates {
                if case .state(.disconnected(.failure(let error))) = update {
                    #expect(error.code == .idleTimeout && error.timeout == .milliseconds(150))
                    timeouts += 1
                }
                if timeouts == 2 { break }
            }
            // The first connection's end as the server saw it (never before the real end) against
            // a time before the attempt began (never after its real start): a lower bound on how
            // long the client waited, however late either side ran. Timestamps the server takes
            // when it reads the request are no bound: a loaded server read one after the client
            // had already given up on it (the timer runs from the start of the attempt until
            // the head arrives).
            let first = try #require(server.requests.first)
            let closedAt = try await server.waitForClose(ofConnection: first.connection)
            let waited = closedAt - created
            // Never early; how late on a loaded machine is not this test's business (the bound
            // catches a unit mix-up, 150 ms read as seconds).
            #expect(waited >= .milliseconds(150) && waited < .seconds(30), "dropped after \(waited)")
            #expect(server.requests.count >= 2)
            #expect(source.metrics.reconnects[.idleTimeout, default: 0] >= 1)
        }
    }

    @Test("heartbeat comments keep a connection alive, and are reported as comments")
    func heartbeatsKeepAlive() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                // Heartbeats every 50 ms keep a 1.5 s idle timeout from firing while events are 2 s
                // apart: a heartbeat would have to be 30 times late for the timer to fire.
                url: server.url(for: .numbered(count: 2, interval: .seconds(2)).heartbeat(every: .milliseconds(50))),
                configuration: .testing { $0.idleTimeout = .milliseconds(1500) }
            )
            var events = 0
            var comments = 0
            for try await update in source.updates {
                if case .event = update { events += 1 }
                if case .comment = update { comments += 1 }
                if events == 2 { break }
            }
            #expect(comments >= 10)
            #expect(source.metrics.reconnects[.idleTimeout] == nil)
        }
    }

    @Test("a slow consumer pauses the transfer: memory stays bounded and the idle timer waits")
    func backpressure() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                // 5 MB: hundreds of pause and resume cycles through a 16 KiB buffer, few enough to
                // finish well inside the time limit on a loaded machine (20 MB once did not).
                url: server.url(for: .numbered(count: 5_000, payloadSize: 1000)),
                configuration: .testing {
                    $0.maximumBufferedBytes = 16 * 1024
                    // The stall below is longer than this; reading the rest is not, by far.
                    $0.idleTimeout = .seconds(2)
                }
            )
            var iterator = source.events.makeAsyncIterator()
            #expect(try await iterator.next()?.id == "1")
            // The buffer fills and the transfer pauses: the positive signal the stall needs.
            try await waitUntil("the transfer to pause") { source.metrics.pauses >= 1 }
            // The consumer stalls for longer than the idle timeout (the stall is the stimulus, and
            // measured: the test does not assume the sleep was exact).
            let stallStart = ContinuousClock.now
            try await Task.sleep(for: .milliseconds(2500))
            #expect(ContinuousClock.now - stallStart > .seconds(2))
            // Had the transfer kept reading for the whole stall, it would be megabytes ahead.
            let bytesAfterStall = source.metrics.bytes
            #expect(bytesAfterStall < 200_000, "read \(bytesAfterStall) bytes ahead of the consumer")
            // The idle timer waited while the transfer was paused for the consumer: the stall
            // dropped no connection (both counted where the transfer ended, so no race with it).
            #expect(source.metrics.reconnects[.idleTimeout] == nil)
            #expect(server.requests.count == 1)

            var last = 1
            // Read the rest (bounded by the suite's time limit): every event once, in order. (Not
            // asserted here: that no 400 ms gap occurs while 300 tests share two cores.)
            while last < 5_000, let event = try await iterator.next() {
                last += 1
                if event.id != String(last) {
                    Issue.record("expected \(last), got \(event.id)")
                    break
                }
            }
            #expect(last == 5_000)
            source.close()
        }
    }

    @Test("bufferedCount is what next() hands out without waiting, and 0 once closed")
    func bufferedCount() async throws {
        try await TestServer.withRunning { server in
            // A hundred events in one write, then silence: they arrive, and are parsed, together.
            let body = (1...100).map { "id: \($0)\ndata: \($0)\n\n" }.joined()
            let url = server.route("/burst", Scenario.raw(body).ending(with: .hang))
            let source = EventSource(url: url, configuration: .testing())
            var iterator = source.events.makeAsyncIterator()
            #expect(iterator.bufferedCount == 0)
            let first = try await iterator.next()
            #expect(first?.id == "1")
            let buffered = iterator.bufferedCount
            #expect(buffered > 0 && buffered <= 99)
            var ids: [String] = []
            for _ in 0..<buffered {
                if let event = try await iterator.next() { ids.append(event.id) }
            }
            #expect(ids == (2..<(buffered + 2)).map(String.init))
            source.close()
            #expect(iterator.bufferedCount == 0)
            let afterClose = try await iterator.next()
            #expect(afterClose == nil)
        }
    }

    @Test("states and updates report the life of the connection in order")
    func statesInOrder() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 2).droppingAfter(events: 1, with: .reset)),
                configuration: .testing()
            )
            var updates: [EventSourceUpdate] = []
            for try await update in source.updates {
                updates.append(update)
                if case .event(let event) = update, event.id == "2" { break }
            }
            let kinds = updates.map { update -> String in
                switch update {
                case .event(let event): "event \(event.id)"
                case .comment: "comment"
                case .retry: "retry"
                case .state(.connecting(let attempt, let lastEventID)): "connecting \(attempt) '\(lastEventID)'"
                case .state(.open(let head)): "open \(head.status)"
                case .state(.disconnected(let reason)): "disconnected \(reason.cause)"
                case .state(.waitingToReconnect(_, let attempt, _)): "waiting \(attempt)"
                case .state(.finished): "finished"
                }
            }
            #expect(
                kinds == [
                    "connecting 0 ''", "open 200", "event 1", "disconnected networkError", "waiting 1",
                    "connecting 1 '1'", "open 200", "event 2",
                ]
            )
            let metrics = source.metrics
            #expect(metrics.connections >= 2)
            #expect(metrics.openedConnections >= 2)
            #expect(metrics.events == 2)
            #expect(metrics.bytes > 0)
            // The second connection is also cut after its event; that reconnect may be counted too.
            #expect(metrics.reconnects[.networkError, default: 0] >= 1)
            #expect(metrics.lastError != nil)
        }
    }

    @Test("maximumBufferedStates: a source nobody watches keeps only its latest states, or none")
    func bufferedStatesLimit() async throws {
        try await TestServer.withRunning { server in
            var kept: [[ConnectionState]] = []
            for limit in [2, 0] {
                let source = EventSource(
                    url: server.url(for: .status(204)), configuration: .testing { $0.maximumBufferedStates = limit })
                _ = try await collectUntilEnd(source)
                var states: [ConnectionState] = []
                for await state in source.states { states.append(state) }
                kept.append(states)
            }
            #expect(kept[0] == [.disconnected(.finishedByServer(status: 204)), .finished(nil)])
            #expect(kept[1] == [])
        }
    }

    @Test("the states sequence ends with finished when the source finishes")
    func statesFinish() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(url: server.url(for: .status(204)), configuration: .testing())
            _ = try await collectUntilEnd(source)
            var states: [ConnectionState] = []
            for await state in source.states { states.append(state) }
            #expect(states.last == .finished(nil))
            #expect(states.first == .connecting(attempt: 0, lastEventID: ""))
            // A 204 says why it finished, unlike a body that merely ended.
            #expect(states.dropLast().last == .disconnected(.finishedByServer(status: 204)))
            #expect(
                DisconnectReason.finishedByServer(status: 204).description
                    == "the server answered 204 No Content: the stream is over")
        }
    }

    @Test("reconnect() drops the connection and reconnects at once, without an error or a lost event")
    func restart() async throws {
        try await TestServer.withRunning { server in
            let sleeps = RecordedSleeps()
            let source = EventSource(
                url: server.url(for: .numbered(interval: .milliseconds(100))),
                configuration: .testing(),
                environment: sleeps.environment
            )
            var iterator = source.events.makeAsyncIterator()
            var ids = [try await iterator.next()?.id]
            source.reconnect()
            // The consumer settles the dropped connection (it owns the parser), so it keeps reading
            // until the second connection has delivered two events.
            var resumedFrom: Int?
            while let event = try await iterator.next() {
                ids.append(event.id)
                let requests = server.requests
                if resumedFrom == nil, requests.count >= 2 {
                    resumedFrom = Int(requests[1].header("Last-Event-ID") ?? "") ?? 0
                }
                if let resumedFrom, Int(event.id) == resumedFrom + 2 { break }
            }
            // It resumes after every event received before the restart: nothing is lost or
            // repeated across it.
            let resumed = try #require(resumedFrom)
            #expect(resumed >= 1)
            #expect(ids == (1...(resumed + 2)).map { String($0) })
            #expect(source.metrics.reconnects[.restart] == 1)
            #expect(source.metrics.lastError == nil)
            #expect(sleeps.all.first == .zero)
            source.close()
        }
    }

}
