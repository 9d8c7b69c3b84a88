import SSEClient
import SSEParser
import SSETestServer
import Testing

#if canImport(Glibc)
    import Glibc
#endif

private struct ListenerError: Error {}

/// A loopback listener whose accept queue is full and never drained: the kernel drops further
/// SYNs, so a connection to it never completes, the way one to a host that drops packets does.
private final class FullListenQueue {
    let port: Int
    private var descriptors: [Int32] = []

    init() throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(listener, address, length) == 0 && listen(listener, 0) == 0
                    && getsockname(listener, address, &length) == 0
            }
        }
        descriptors.append(listener)
        guard listener >= 0, bound else { throw ListenerError() }
        port = Int(UInt16(bigEndian: address.sin_port))
        // A backlog of 0 holds one connection; a few more fill what is left of the queues.
        for _ in 0..<4 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            descriptors.append(filler)
            _ = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    deinit {
        for descriptor in descriptors where descriptor >= 0 { close(descriptor) }
    }
}

/// Broken and hostile servers end in a clear typed error or a bounded, documented behaviour:
/// never a crash, a hang past the configured timeouts, a retry storm, or unbounded memory.
@Suite("Hostile and broken servers", .timeLimit(.minutes(1)))
struct HostileServerTests {
    @Test("an endless line stops at the maximum event size")
    func endlessLine() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .largeEvent(size: 4 * 1024 * 1024))
            let (events, error) = try await collectUntilEnd(
                EventSource(url: url, configuration: .testing { $0.maximumEventSize = 256 * 1024 })
            )
            #expect(events.isEmpty)
            #expect(error?.code == .eventTooLarge && error?.limit == 256 * 1024)
            #expect(error?.description.contains("maximum event size") == true)
        }
    }

    @Test("endless tiny data: lines without a blank line stop at the maximum event size")
    func manyDataLines() async throws {
        try await TestServer.withRunning { server in
            let body = String(repeating: "data: x\n", count: 100_000)
            let url = server.route("/lines", .raw(body))
            let (_, error) = try await collectUntilEnd(
                EventSource(url: url, configuration: .testing { $0.maximumEventSize = 64 * 1024 })
            )
            #expect(error?.code == .eventTooLarge && error?.limit == 64 * 1024)
        }
    }

    @Test("NUL bytes and invalid UTF-8 become data with U+FFFD, never a crash")
    func nulAndInvalidUTF8() async throws {
        try await TestServer.withRunning { server in
            let bytes: [UInt8] =
                Array("data: a".utf8) + [0x00, 0xFF, 0xC3] + Array("b\nid: 1".utf8) + [0x00]
                + Array("\n\n".utf8)
            let url = server.route("/bad", .raw(bytes))
            let events = try await collectEvents(EventSource(url: url, configuration: .testing()), count: 1)
            #expect(events == [ServerSentEvent(id: "", data: "a\u{0000}\u{FFFD}\u{FFFD}b")])
        }
    }

    @Test("with no idle timeout, the connect timeout still bounds a server that never answers, and it is retried")
    func neverAnswersWithoutIdleTimeout() async throws {
        try await TestServer.withRunning { server in
            var policy = ReconnectPolicy.fastForTests
            policy.maximumAttempts = 1
            let source = EventSource(
                url: server.url(for: .hangBeforeHeaders),
                configuration: .testing {
                    $0.idleTimeout = nil
                    $0.connectTimeout = .milliseconds(300)
                    $0.reconnect = policy
                }
            )
            let (_, error) = try await collectUntilEnd(source)
            guard error?.code == .gaveUp, let attempts = error?.attempts,
                let last = error?.lastFailure?.description ?? error?.description
            else {
                Issue.record("expected gave up, got \(String(describing: error))")
                return
            }
            #expect(attempts == 2)
            #expect(last.contains("sent no response within 300 ms (connect timeout)"), "\(last)")
            // Two connections reached the server. Not `requests`: on a loaded machine the second
            // request may time out before the server has parsed it.
            try await server.waitForConnections(count: 2)
        }
    }

    @Test("a connection that never completes fails at the connect timeout as a transport error, and is retried")
    func connectionNeverCompletes() async throws {
        let queue = try FullListenQueue()
        var policy = ReconnectPolicy.fastForTests
        policy.maximumAttempts = 1
        let started = ContinuousClock.now
        let source = EventSource(
            url: "http://127.0.0.1:\(queue.port)/events",
            configuration: .testing {
                $0.connectTimeout = .milliseconds(300)
                $0.reconnect = policy
            }
        )
        let (_, error) = try await collectUntilEnd(source)
        let waited = ContinuousClock.now - started
        #expect(error?.code == .gaveUp && error?.attempts == 2, "\(String(describing: error))")
        let last = error?.lastFailure
        #expect(last?.code == .transport, "\(String(describing: last))")
        #expect(last?.description.contains("could not connect within 300 ms (connect timeout)") == true)
        // Two attempts of 300 ms each: never early.
        #expect(waited >= .milliseconds(600), "gave up after \(waited)")
    }

    @Test("a server that accepts and never answers is dropped after the idle timeout and retried")
    func neverAnswers() async throws {
        try await TestServer.withRunning { server in
            var policy = ReconnectPolicy.fastForTests
            policy.maximumAttempts = 2
            let source = EventSource(
                url: server.url(for: .hangBeforeHeaders),
                configuration: .testing {
                    $0.idleTimeout = .milliseconds(100)
                    $0.reconnect = policy
                }
            )
            let clock = ContinuousClock()
            let start = clock.now
            let (_, error) = try await collectUntilEnd(source)
            let elapsed = clock.now - start
            guard error?.code == .gaveUp, let attempts = error?.attempts,
                let last = error?.lastFailure?.description ?? error?.description
            else {
                Issue.record("expected gave up, got \(String(describing: error))")
                return
            }
            #expect(attempts == 3)
            #expect(last.contains("idle timeout"))
            // Three idle timeouts of 100 ms: at least 300 ms. (That it ends at all is bounded by
            // collectUntilEnd; how soon on a loaded machine is not this test's business.)
            #expect(elapsed >= .milliseconds(300))
        }
    }

    @Test("header fields trickling in forever do not hold the connection past the idle timeout")
    func trickledHeaders() async throws {
        try await TestServer.withRunning { server in
            var policy = ReconnectPolicy.fastForTests
            policy.maximumAttempts = 1
            // A header field every 20 ms: each one would reset a timer that counted every byte.
            let source = EventSource(
                url: server.url(for: .endlessHeaders(every: .milliseconds(20))),
                configuration: .testing {
                    $0.idleTimeout = .milliseconds(300)
                    $0.reconnect = policy
                }
            )
            let (events, error) = try await collectUntilEnd(source)
            #expect(events.isEmpty)
            guard error?.code == .gaveUp, let attempts = error?.attempts,
                let last = error?.lastFailure?.description ?? error?.description
            else {
                Issue.record("expected gave up, got \(String(describing: error))")
                return
            }
            #expect(attempts == 2)
            #expect(last.contains("idle timeout"))
            // The client dropped each connection within its idle timeout (300 ms, counted from before
            // the connect; generous slack for a loaded machine), though the server never stopped
            // sending fields. Before the fix, every field restarted the timer and this never ended.
            for connection in 1...2 {
                let accepted = try #require(server.acceptTime(ofConnection: connection))
                let lifetime = try await server.waitForClose(ofConnection: connection) - accepted
                #expect(lifetime < .seconds(5), "connection \(connection): \(lifetime)")
            }
        }
    }

    @Test("a flood of header fields is cut off by libcurl's head size limit, and retried")
    func floodedHeaders() async throws {
        try await TestServer.withRunning { server in
            var policy = ReconnectPolicy.fastForTests
            policy.maximumAttempts = 1
            let source = EventSource(
                url: server.url(for: .endlessHeaders(every: .zero)),
                configuration: .testing { $0.reconnect = policy }
            )
            let (events, error) = try await collectUntilEnd(source)
            #expect(events.isEmpty)
            guard error?.code == .gaveUp, let attempts = error?.attempts,
                let last = error?.lastFailure?.description ?? error?.description
            else {
                Issue.record("expected gave up, got \(String(describing: error))")
                return
            }
            #expect(attempts == 2)
            #expect(last.lowercased().contains("header"), "\(last)")
        }
    }

    @Test("a Content-Length the body never reaches: the early close is a retried transport error")
    func contentLengthNeverReachedClose() async throws {
        try await TestServer.withRunning { server in
            let scenario = Scenario.numbered(count: 3).declaringContentLength(10_000_000_000)
            let source = EventSource(url: server.url(for: scenario), configuration: .testing())
            let (events, failure) = try await eventsUntilFirstFailure(source)
            #expect(events.map(\.id) == ["1", "2", "3"])
            guard failure?.code == .transport, let message = failure?.message else {
                Issue.record("expected a transport error, got \(String(describing: failure))")
                return
            }
            #expect(message.contains("bytes remaining"), "\(message)")
        }
    }

    @Test("a Content-Length the body never reaches: a quiet server is caught by the idle timeout")
    func contentLengthNeverReachedHang() async throws {
        try await TestServer.withRunning { server in
            let scenario = Scenario.numbered(count: 3).declaringContentLength(10_000_000_000).ending(with: .hang)
            // The timer runs from the connect: it must outlast a loaded machine's wait for the head
            // and the three events, or it fires before them.
            let source = EventSource(
                url: server.url(for: scenario),
                configuration: .testing { $0.idleTimeout = .seconds(2) }
            )
            let (events, failure) = try await eventsUntilFirstFailure(source)
            #expect(events.map(\.id) == ["1", "2", "3"])
            #expect(failure?.code == .idleTimeout && failure?.timeout == .seconds(2))
        }
    }

    @Test("a body that stops mid-stream is caught by the idle timeout")
    func stalledBody() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 2).ending(with: .hang)),
                configuration: .testing { $0.idleTimeout = .milliseconds(100) }
            )
            var iterator = source.updates.makeAsyncIterator()
            var sawIdleTimeout = false
            while let update = try await iterator.next() {
                if case .state(.disconnected(.failure(let error))) = update, error.code == .idleTimeout {
                    sawIdleTimeout = true
                    break
                }
            }
            #expect(sawIdleTimeout)
            source.close()
        }
    }

    @Test(
        "URLs libcurl must not fetch are refused before anything is sent",
        arguments: ["file:///etc/passwd", "ftp://127.0.0.1/x", "not a url", "gopher://127.0.0.1/"]
    )
    func refusedURLs(url: String) async throws {
        let (_, error) = try await collectUntilEnd(EventSource(url: url, configuration: .testing()))
        guard error?.code == .invalidRequest else {
            Issue.record("expected invalidRequest for \(url), got \(String(describing: error))")
            return
        }
    }

    @Test("a host that does not resolve is a retried network error")
    func unresolvableHost() async throws {
        var policy = ReconnectPolicy.fastForTests
        policy.maximumAttempts = 1
        let source = EventSource(
            url: "http://does-not-exist.invalid/events",
            configuration: .testing { $0.reconnect = policy }
        )
        let (_, error) = try await collectUntilEnd(source)
        guard error?.code == .gaveUp, let attempts = error?.attempts else {
            Issue.record("expected gave up, got \(String(describing: error))")
            return
        }
        #expect(attempts == 2)
    }
}

@Suite("Redirects without a target", .timeLimit(.minutes(1)))
struct RedirectWithoutTargetTests {
    @Test("a redirect with an empty or missing Location is an unexpected status, not a silent loop")
    func emptyLocation() async throws {
        try await TestServer.withRunning { server in
            var scenario = Scenario.status(302)
            scenario.location = ""
            let url = server.url(for: scenario)
            let (_, error) = try await collectUntilEnd(EventSource(url: url, configuration: .testing()))
            #expect(error?.code == .unexpectedStatus && error?.status == 302)
            #expect(server.requests.count == 1)
        }
    }
}

/// The events `source` delivers until its first connection failure, and that failure; closes it.
private func eventsUntilFirstFailure(
    _ source: EventSource
) async throws -> (events: [ServerSentEvent], failure: EventSourceError?) {
    var iterator = source.updates.makeAsyncIterator()
    var events: [ServerSentEvent] = []
    var failure: EventSourceError?
    while failure == nil, let update = try await iterator.next() {
        switch update {
        case .event(let event): events.append(event)
        case .state(.disconnected(.failure(let error))): failure = error
        default: break
        }
    }
    source.close()
    return (events, failure)
}
