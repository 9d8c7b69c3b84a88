import SSEClient
import SSEParser
import SSETestServer
import SSETestSupport
import Testing

/// HTTP/2 against the real TestServer over TLS, negotiated by ALPN: many sources on one
/// connection, backpressure on one of them, and the three ways a server ends streams
/// (`RST_STREAM`, `GOAWAY`, a TCP reset); and h2c with prior knowledge, which this libcurl cannot
/// multiplex.
@Suite("HTTP/2 multiplexing", .timeLimit(.minutes(2)))
struct HTTP2MultiplexingTests {
    /// Runs `body` with a TLS server (certificates from the test CA) offering `protocols`, and a
    /// configuration that trusts the CA and leaves the HTTP version to ALPN.
    private func withTLSServer(
        offering protocols: [String] = ["h2", "http/1.1"],
        _ body: (TestServer, EventSource.Configuration) async throws -> Void
    ) async throws {
        let certificates = try await TLSTerminator()
        try await TestServer.withRunning(configuration: .init(tls: certificates.serverIdentity(offering: protocols))) {
            server in
            try await body(server, .testing { $0.tls.caFile = certificates.path("ca.pem") })
        }
    }

    /// The ids `1…count` as the stream numbers them.
    private static func ids(_ count: Int) -> [String] { (1...count).map(String.init) }

    @Test("https: ALPN picks HTTP/2, and the head says so; a server offering only http/1.1 gets HTTP/1.1")
    func negotiation() async throws {
        for (protocols, expected) in [(["h2", "http/1.1"], "HTTP/2"), (["http/1.1"], "HTTP/1.1")] {
            try await withTLSServer(offering: protocols) { server, configuration in
                let source = EventSource(url: server.url(for: .numbered(count: 2)), configuration: configuration)
                var head: ResponseHead?
                var events: [String] = []
                for try await update in source.updates {
                    if case .state(.open(let opened)) = update { head = opened }
                    if case .event(let event) = update { events.append(event.id) }
                    if events.count == 2 { break }
                }
                source.close()
                #expect(events == Self.ids(2))
                #expect(head?.httpVersion == expected)
                #expect(server.requests.map(\.httpVersion) == [expected])
            }
        }
    }

    @Test(
        "100 sources share one connection; one consumer stops reading for seconds, the other 99 keep receiving, then it resumes with nothing lost"
    )
    func pausedSourceStallsNoOther() async throws {
        let sourceCount = 100
        let eventCount = 150
        try await withTLSServer { server, configuration in
            // 150 events of 600 bytes, one every 20 ms: about 3 s per stream, 90 KB, far more than
            // the paused source may buffer.
            let url = server.url(for: .numbered(count: eventCount, interval: .milliseconds(20), payloadSize: 600))
            var limited = configuration
            limited.maximumBufferedBytes = 8 * 1024
            // Not the tests' 5 s: a hundred TLS streams answered at once by a server in this
            // process, on two cores shared with the whole suite, took longer in fresh clones.
            limited.connectTimeout = .seconds(20)
            let sources = (0..<sourceCount).map { _ in EventSource(url: url, configuration: limited) }
            let received = Shared([Int](repeating: 0, count: sourceCount))
            let paused = sources[0]
            try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
                for (index, source) in sources.enumerated() {
                    group.addTask {
                        var ids: [String] = []
                        for try await event in source.events {
                            ids.append(event.id)
                            received.withLock { $0[index] += 1 }
                            if index == 0, ids.count == 1 {
                                // Once every source is open, stop reading until the transfer has
                                // paused for this consumer, and then for two more seconds.
                                try await waitUntil("every source to open", timeout: .seconds(60)) {
                                    sources.allSatisfy { $0.metrics.openedConnections >= 1 }
                                }
                                try await waitUntil("the first source to pause") { paused.metrics.pauses >= 1 }
                                let before = received.current
                                try await Task.sleep(for: .seconds(2))
                                let after = received.current
                                let stalled = (1..<sourceCount).filter {
                                    after[$0] == before[$0] && after[$0] < eventCount
                                }
                                #expect(
                                    stalled.isEmpty, "sources \(stalled) received nothing while source 0 was paused")
                            }
                            if ids.count == eventCount { break }
                        }
                        return (index, ids)
                    }
                }
                for try await (index, ids) in group {
                    #expect(ids == Self.ids(eventCount), "source \(index): \(ids.count) events")
                }
            }
            #expect(paused.metrics.pauses >= 1)
            // Every request over HTTP/2, each on a stream of its own, none reconnected and so all
            // on connection 1 (see the known issue).
            let requests = server.requests
            #expect(Set(requests.map(\.httpVersion)) == ["HTTP/2"])
            withKnownIssue(
                """
                Intermittent under load (1 full run in 4 on one day, none in the next 12): some of \
                the 100 streams get no data for the 10 s idle timeout, then resume on connections \
                of their own with every event once. It is CPU starvation, not the pause: at the \
                stall the client's socket had no bytes unread and libcurl no timer; under stress \
                --cpu 3 streams stalled with no pause at all, and without it none did, in runs with \
                a thousand pauses against this server and against nginx. Sources whose stream \
                ended while they read its last events reconnect too (end of stream). The message \
                names each reconnected source's causes and last error.
                """,
                isIntermittent: true
            ) {
                let reconnected = sources.enumerated().filter { $0.element.metrics.totalReconnects > 0 }.map {
                    "\($0.offset): \($0.element.metrics.reconnects) \($0.element.metrics.lastError.map(String.init(describing:)) ?? "")"
                }
                #expect(requests.count == sourceCount, "reconnected: \(reconnected)")
                #expect(server.connectionCount == 1)
                #expect(Set(requests.compactMap(\.http2StreamID)).count == sourceCount)
            }
            for source in sources { source.close() }
        }
    }

    @Test(
        "a stream that goes silent on a shared connection comes back on a new one, each time; the others stay where they are"
    )
    func silentStreamLeavesItsConnection() async throws {
        try await withTLSServer { server, configuration in
            let steady = EventSource(
                url: server.url(for: .numbered(interval: .milliseconds(200))), configuration: configuration)
            var steadyEvents = steady.events.makeAsyncIterator()
            let first = try await steadyEvents.next()
            #expect(first?.id == "1")
            var quiet = configuration
            quiet.idleTimeout = .milliseconds(500)
            // Three events an attempt, then silence: the idle timeout ends each attempt.
            let silent = EventSource(
                url: server.url(for: .numbered(interval: .milliseconds(20)).droppingAfter(events: 3, with: .hang)),
                configuration: quiet)
            let silentIDs = try await collectEvents(silent, count: 9).map(\.id)
            #expect(silentIDs == Self.ids(9))
            let attempts = server.requests.filter { $0.queryValue("dropAfter") != nil }
            // The first attempt shares the steady source's connection; every later one, after a
            // silence, opens a connection of its own rather than trust the silent one again.
            #expect(attempts.count >= 3)
            #expect(attempts.first?.connection == 1)
            #expect(Set(attempts.map(\.connection)).count == attempts.count, "\(attempts.map(\.connection))")
            #expect(silent.metrics.reconnects[.idleTimeout, default: 0] >= 2)
            #expect(Set(server.requests.map(\.httpVersion)) == ["HTTP/2"])
            #expect(server.requests.filter { $0.queryValue("dropAfter") == nil }.map(\.connection) == [1])
            #expect(steady.metrics.totalReconnects == 0)
            steady.close()
            silent.close()
        }
    }

    @Test(
        "a stream on a shared connection that gets no response head times out as 'sent no response', not as a connection never made"
    )
    func headTimeoutOnSharedConnection() async throws {
        try await withTLSServer { server, configuration in
            let opener = EventSource(
                url: server.url(for: .numbered(interval: .milliseconds(50))), configuration: configuration)
            var events = opener.events.makeAsyncIterator()
            #expect(try await events.next()?.id == "1")
            var policy = ReconnectPolicy.fastForTests
            policy.maximumAttempts = 0
            var silentConfiguration = configuration
            silentConfiguration.connectTimeout = .milliseconds(500)
            silentConfiguration.reconnect = policy
            let silent = EventSource(url: server.url(for: .hangBeforeHeaders), configuration: silentConfiguration)
            let (_, error) = try await collectUntilEnd(silent)
            let message = error?.lastFailure?.description ?? error?.description ?? ""
            #expect(message.contains("sent no response within 500 ms (connect timeout)"), "\(message)")
            #expect(server.connectionCount == 1)
            opener.close()
        }
    }

    @Test(
        "backpressure over HTTP/2: a paused source holds the server's stream back once libcurl's window is spent, and resumes with nothing lost"
    )
    func backpressure() async throws {
        try await withTLSServer { server, configuration in
            // As fast as the connection takes it, 8,000 bytes an event, beside a steady neighbour.
            let fast = server.url(for: .numbered(payloadSize: 8000).keyed("fast"))
            var limited = configuration
            limited.maximumBufferedBytes = 16 * 1024
            let source = EventSource(url: fast, configuration: limited)
            let neighbour = EventSource(
                url: server.url(for: .numbered(interval: .milliseconds(5))), configuration: configuration)
            var iterator = source.events.makeAsyncIterator()
            #expect(try await iterator.next()?.id == "1")
            try await waitUntil("the transfer to pause") { source.metrics.pauses >= 1 }
            // The neighbour keeps receiving while the paused stream's window runs out; then the
            // server can send no more on it, however long the consumer stalls.
            var neighbourEvents = neighbour.events.makeAsyncIterator()
            for expected in 1...300 {
                let event = try await neighbourEvents.next()
                #expect(event?.id == String(expected))
            }
            // Held back: nothing more sent for half a second (bounded: 40 looks).
            var heldAt = server.highestNumberedEventSent(key: "fast") ?? 0
            for _ in 0..<40 {
                try await Task.sleep(for: .milliseconds(500))
                let now = server.highestNumberedEventSent(key: "fast") ?? 0
                if now == heldAt { break }
                heldAt = now
            }
            #expect(server.highestNumberedEventSent(key: "fast") == heldAt)
            // 32 MiB of window with this libcurl (10 MiB from 8.0), 8,034 bytes an event on the
            // wire, and what the sockets hold.
            #expect(heldAt < 4_600, "the server sent \(heldAt) events to a consumer that had read 1")
            #expect(source.metrics.bytes < 200_000, "read \(source.metrics.bytes) bytes ahead of the consumer")
            // Reading again reopens the window: every event once, in order, well past the hold.
            var last = 1
            while last < heldAt + 200, let event = try await iterator.next() {
                last += 1
                if event.id != String(last) {
                    Issue.record("expected \(last), got \(event.id)")
                    break
                }
            }
            #expect(last == heldAt + 200)
            source.close()
            neighbour.close()
        }
    }

    @Test(
        "RST_STREAM of one stream: that source alone reconnects, on the same connection, and resumes; the others never notice"
    )
    func resetStream() async throws {
        try await withTLSServer { server, configuration in
            // Endless streams, so that no source sees an end of stream before it has its 40.
            let steady = server.url(for: .numbered(interval: .milliseconds(10)))
            let resetting = server.url(
                for: .numbered(interval: .milliseconds(10)).droppingAfter(events: 7, with: .reset))
            let sources =
                [EventSource(url: resetting, configuration: configuration)]
                + (0..<9).map { _ in EventSource(url: steady, configuration: configuration) }
            try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
                for (index, source) in sources.enumerated() {
                    group.addTask { (index, try await collectEvents(source, count: 40).map(\.id)) }
                }
                for try await (index, ids) in group {
                    #expect(ids == Self.ids(40), "source \(index)")
                }
            }
            // 7 events a stream, then RST_STREAM: at least 5 resets before the 40th event, each
            // resumed after the last event the source had (the frames just before a reset may be
            // discarded with the stream, so that may be short of 7 more).
            #expect(sources[0].metrics.reconnects == [.networkError: sources[0].metrics.totalReconnects])
            #expect(sources[0].metrics.totalReconnects >= 5)
            #expect(sources.dropFirst().allSatisfy { $0.metrics.totalReconnects == 0 })
            let resumedFrom = server.requests.filter { $0.queryValue("dropAfter") != nil }.dropFirst()
                .compactMap { $0.header("Last-Event-ID").flatMap { Int($0) } }
            #expect(resumedFrom.count >= 5)
            // (An attempt may deliver nothing before its reset: the next resumes from the same id.)
            #expect(zip(resumedFrom, resumedFrom.dropFirst()).allSatisfy { $0 <= $1 && $1 - $0 <= 7 }, "\(resumedFrom)")
            // A stream's reset leaves the connection to the others, and to the next attempt.
            #expect(server.connectionCount == 1)
            #expect(Set(server.requests.map(\.connection)) == [1])
        }
    }

    @Test(
        "GOAWAY and a TCP reset end every stream on the connection: all reconnect, on a new connection, and lose nothing",
        arguments: [Scenario.Ending.goAway, .resetConnection])
    func connectionEnds(_ ending: Scenario.Ending) async throws {
        try await withTLSServer { server, configuration in
            let steady = server.url(for: .numbered(interval: .milliseconds(10)))
            // The stream that ends the connection (its own attempts end theirs again, every 10 events).
            let ender = server.url(
                for: .numbered(interval: .milliseconds(10)).droppingAfter(events: 10, with: ending), path: "/ender")
            let sources =
                [EventSource(url: ender, configuration: configuration)]
                + (0..<9).map { _ in EventSource(url: steady, configuration: configuration) }
            let enderDone = Shared(false)
            try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
                for (index, source) in sources.enumerated().dropFirst() {
                    // Each steady source reads on until the ender is done and it has itself lost
                    // its stream at least once: with a fixed count, a loaded machine saw the
                    // steady sources finish before the ender's first ending.
                    group.addTask {
                        try await withTimeout("source \(index) to outlast the ender") {
                            var ids: [String] = []
                            for try await event in source.events {
                                ids.append(event.id)
                                if enderDone.current, source.metrics.totalReconnects >= 1 { break }
                            }
                            return (index, ids)
                        }
                    }
                }
                // The ender starts once every other source has an event, so that each of their
                // requests on a later connection is a reconnect with an id to resume from (a
                // source still waiting for its first stream when the connection ends has none).
                let steadySources = sources.dropFirst()
                try await waitUntil("every steady source to have an event") {
                    steadySources.allSatisfy { $0.metrics.events >= 1 }
                }
                group.addTask {
                    let ids = try await collectEvents(sources[0], count: 60).map(\.id)
                    enderDone.withLock { $0 = true }
                    return (0, ids)
                }
                for try await (index, ids) in group {
                    // Every event once, in order, across the reconnects.
                    #expect(ids == Self.ids(max(ids.count, 1)), "source \(index)")
                    #expect(ids.count >= (index == 0 ? 60 : 2), "source \(index)")
                }
            }
            // Every source lost its stream at least once, and came back on another connection.
            let reconnected = sources.map(\.metrics.totalReconnects)
            let requests = server.requests
            #expect(
                reconnected.allSatisfy { $0 >= 1 },
                """
                reconnects per source: \(reconnected); requests (path, connection, stream): \
                \(requests.map { "\($0.path) \($0.connection) \($0.http2StreamID.map(String.init) ?? "-")" })
                """)
            #expect(server.connectionCount >= 2)
            #expect(requests.allSatisfy { $0.httpVersion == "HTTP/2" })
            // Streams ended by another source's connection ending resumed from their last id.
            #expect(
                requests.filter { $0.path == "/events" && $0.connection > 1 }.allSatisfy {
                    $0.header("Last-Event-ID") != nil
                })
        }
    }

    @Test(
        "h2c with prior knowledge: on libcurl before 8.0 each source has a connection of its own (curl issue 10634), and every event arrives"
    )
    func priorKnowledge() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 20, interval: .milliseconds(5)))
            let sources = (0..<10).map { _ in
                EventSource(url: url, configuration: .testing { $0.transport.httpVersion = .http2PriorKnowledge })
            }
            try await withThrowingTaskGroup(of: [String].self) { group in
                for source in sources {
                    group.addTask { try await collectEvents(source, count: 20).map(\.id) }
                }
                for try await ids in group {
                    #expect(ids == Self.ids(20))
                }
            }
            let requests = server.requests
            #expect(requests.count == 10)
            #expect(requests.allSatisfy { $0.httpVersion == "HTTP/2" })
            let libcurl8 = EventSource.libcurlVersion.split(separator: ".").first.flatMap { Int($0) }.map { $0 >= 8 }
            if libcurl8 == false {
                #expect(server.connectionCount == 10)
            }
        }
    }

    @Test("the bug worked around: this libcurl's own curl fails a second transfer on a reused h2c connection")
    func priorKnowledgeReuseBug() async throws {
        let major = EventSource.libcurlVersion.split(separator: ".").first.flatMap { Int($0) }
        try #require(major != nil)
        guard let major, major < 8 else { return }  // fixed in 8.0.0: nothing to show
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 2))
            let result = try await ChildProcess.run(
                "/usr/bin/env", ["curl", "-sS", "--http2-prior-knowledge", "--parallel", url, url],
                timeout: .seconds(20)
            )
            // curl's exit code 16: CURLE_HTTP2, "Error in the HTTP2 framing layer".
            #expect(result.status == 16, "\(result.status): \(result.stderrText)")
            #expect(result.stderrText.contains("HTTP2 framing layer"))
        }
    }
}
