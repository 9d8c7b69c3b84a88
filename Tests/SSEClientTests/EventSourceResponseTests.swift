import SSEClient
import SSEParser
import SSETestServer
import SSETestSupport
import Testing

@Suite("EventSource responses and reconnects", .timeLimit(.minutes(1)))
struct EventSourceResponseTests {
    @Test("204 ends the stream for good: the sequence ends normally and nothing reconnects")
    func noContent() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(url: server.url(for: .status(204)), configuration: .testing())
            let (events, error) = try await collectUntilEnd(source)
            #expect(events.isEmpty)
            #expect(error == nil)
            // Finished for good: one attempt reported, and the server saw that one request only.
            let states = try await finalStates(of: source)
            #expect(connectionAttempts(states) == 1, "\(states)")
            #expect(try await requestsBeforeMarker(on: server).count == 1)
        }
    }

    @Test("a 204 after a drop ends a resumed stream normally")
    func noContentAfterEvents() async throws {
        try await TestServer.withRunning { server in
            let redirectToEnd = server.route("/ends", .status(204))
            let sleeps = RecordedSleeps()
            let source = EventSource(
                url: server.url(for: .numbered(count: 2)),
                configuration: .testing(),
                hooks: .init(
                    prepareRequest: { request in
                        var request = request
                        if request.attempt > 0 { request.url = redirectToEnd }
                        return request
                    }
                ),
                environment: sleeps.environment
            )
            let (events, error) = try await collectUntilEnd(source)
            #expect(events.map(\.id) == ["1", "2"])
            #expect(error == nil)
        }
    }

    @Test(
        "401, 404 and other 4xx are fatal, with a message saying what came back",
        arguments: [401, 403, 404, 410]
    )
    func fatalStatus(status: Int) async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .status(status))
            let source = EventSource(url: url, configuration: .testing())
            let (_, error) = try await collectUntilEnd(source)
            #expect(error?.code == .unexpectedStatus && error?.status == status)
            #expect(error?.url == url)
            #expect(error?.response?.status == status)
            #expect(error?.description.contains("\(status)") == true)
            #expect(server.requests.count == 1)
        }
    }

    @Test("the body of an error answer is part of the error, and of its description on one line")
    func errorBody() async throws {
        try await TestServer.withRunning { server in
            let body = #"{"error":{"message":"max_tokens is too large","type":"invalid_request_error"}}"#
            let url = server.url(for: .status(400).statusBody(body + "\n"))
            let (_, error) = try await collectUntilEnd(EventSource(url: url, configuration: .testing()))
            #expect(error?.code == .unexpectedStatus && error?.status == 400)
            #expect(error?.responseBody == Array((body + "\n").utf8))
            #expect(error?.response?.headers.value(for: "Content-Type") == "application/json")
            #expect(
                error?.description
                    == "server answered 400 Bad Request for \(url); not retrying: \(body)")
        }
    }

    @Test("an error body is cut at 4 KiB, its control characters escaped in the description")
    func longErrorBody() async throws {
        try await TestServer.withRunning { server in
            let body = "line one\nline\u{1B}[31m two " + String(repeating: "x", count: 10_000)
            let url = server.url(for: .status(503).statusBody(body))
            let source = EventSource(
                url: url, configuration: .testing { $0.reconnect = .disabled })
            let (_, error) = try await collectUntilEnd(source)
            #expect(error?.responseBody?.count == 4096)
            let description = try #require(error?.description)
            #expect(description.contains(#"line one\nline\u{1B}[31m two xxx"#))
            #expect(!description.contains("\n") && !description.contains("\u{1B}"))
            #expect(description.hasSuffix("x…"))
        }
    }

    @Test("a wrong Content-Type is fatal")
    func wrongContentType() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 3).contentType("application/json"))
            let (_, error) = try await collectUntilEnd(EventSource(url: url, configuration: .testing()))
            #expect(error?.code == .wrongContentType && error?.contentType == "application/json")
            #expect(server.requests.count == 1)
        }
    }

    @Test("5xx, 408 and 429 are retried until the server recovers", arguments: [500, 503, 408, 429])
    func retriedStatus(status: Int) async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 2).failing(with: status, times: 2)),
                configuration: .testing()
            )
            let events = try await collectEvents(source, count: 2)
            #expect(events.map(\.id) == ["1", "2"])
            #expect(server.requests.count == 3)
            #expect(source.metrics.reconnects[.retryableStatus] == 2)
        }
    }

    @Test("Retry-After in seconds and as a date sets the reconnect delay, capped by the maximum")
    func retryAfter() async throws {
        try await TestServer.withRunning { server in
            let sleeps = RecordedSleeps()
            var policy = ReconnectPolicy.fastForTests
            policy.maximumDelay = .seconds(20)
            let inTheFuture = "Fri, 01 Jan 2100 00:00:00 GMT"
            let paths = [
                server.route("/a", .status(503, times: 1, retryAfter: "3")),
                server.route("/b", .status(429, times: 1, retryAfter: inTheFuture)),
            ]
            for path in paths {
                let source = EventSource(
                    url: path,
                    configuration: .testing { $0.reconnect = policy },
                    environment: sleeps.environment
                )
                _ = try await collectEvents(source, count: 1)
            }
            #expect(sleeps.all == [.seconds(3), .seconds(20)])
        }
    }

    @Test("network errors are retried: connection refused, then giving up carries the last failure")
    func refusedThenGiveUp() async throws {
        let refusing = try RefusingLoopbackPort()
        let sleeps = RecordedSleeps()
        var policy = ReconnectPolicy.fastForTests
        policy.maximumAttempts = 3
        let source = EventSource(
            url: "http://127.0.0.1:\(refusing.port)/events",
            configuration: .testing { $0.reconnect = policy },
            environment: sleeps.environment
        )
        let (_, error) = try await collectUntilEnd(source)
        withExtendedLifetime(refusing) {}
        guard error?.code == .gaveUp, let attempts = error?.attempts,
            let lastFailure = error?.lastFailure?.description ?? error?.description
        else {
            Issue.record("expected gave up, got \(String(describing: error))")
            return
        }
        #expect(attempts == 4)
        #expect(lastFailure.lowercased().contains("connect"))
        #expect(sleeps.all.count == 3)
        #expect(source.metrics.connections == 4)
    }

    @Test("a reset connection and a body cut mid-chunk are retried and resumed")
    func resetAndTruncated() async throws {
        try await TestServer.withRunning { server in
            for ending in [Scenario.Ending.reset, .close] {
                let source = EventSource(
                    url: server.url(for: .numbered(count: 6).droppingAfter(events: 2, with: ending).keyed("\(ending)")),
                    configuration: .testing()
                )
                let events = try await collectEvents(source, count: 6)
                #expect(events.map(\.id) == ["1", "2", "3", "4", "5", "6"])
                // The third connection drops too, after its two events; it may or may not have been counted.
                #expect((source.metrics.reconnects[.networkError] ?? 0) >= 2, "\(ending)")
            }
        }
    }

    @Test("a response-classification hook can override the built-in rules")
    func classificationHook() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 1).failing(with: 404, times: 2)),
                configuration: .testing(),
                hooks: .init(classifyResponse: { head in head.status == 404 ? .retry(after: nil) : nil })
            )
            let events = try await collectEvents(source, count: 1)
            #expect(events.map(\.id) == ["1"])
            #expect(server.requests.count == 3)
        }
    }

    @Test("redirects are followed, and reconnects use the original URL")
    func redirects() async throws {
        try await TestServer.withRunning { server in
            _ = server.route("/target", .numbered(count: 4).droppingAfter(events: 2))
            let start = server.route("/start", .redirect(307, to: "/target"))
            let source = EventSource(url: start, configuration: .testing())
            let events = try await collectEvents(source, count: 4)
            #expect(events.map(\.id) == ["1", "2", "3", "4"])
            #expect(server.requests.map(\.path) == ["/start", "/target", "/start", "/target"])
        }
    }

    @Test("too many redirects end the source with a redirect error")
    func redirectLoop() async throws {
        try await TestServer.withRunning { server in
            let loop = server.route("/loop", .redirect(302, to: "/loop"))
            let (_, error) = try await collectUntilEnd(
                EventSource(url: loop, configuration: .testing { $0.maximumRedirects = 3 })
            )
            guard error?.code == .redirect else {
                Issue.record("expected a redirect error, got \(String(describing: error))")
                return
            }
            #expect(server.requests.count == 4)
        }
    }

    @Test("a redirect to a non-HTTP scheme is refused")
    func redirectToFile() async throws {
        try await TestServer.withRunning { server in
            let url = server.route("/evil", .redirect(302, to: "file:///etc/passwd"))
            let (_, error) = try await collectUntilEnd(EventSource(url: url, configuration: .testing()))
            guard error?.code == .redirect else {
                Issue.record("expected a redirect error, got \(String(describing: error))")
                return
            }
        }
    }

    @Test("Authorization and cookies are not forwarded to another host on redirect")
    func credentialsNotForwarded() async throws {
        try await TestServer.withRunning { server in
            // "localhost" and "127.0.0.1" are different hosts to the client.
            let echo = "http://localhost:\(server.port)/echo"
            let start = server.route("/start", .redirect(307, to: echo))
            let source = EventSource(
                url: start,
                configuration: .testing {
                    $0.headers = [HTTPHeader("Authorization", "Bearer secret"), HTTPHeader("Cookie", "session=1")]
                }
            )
            _ = try await collectEvents(source, count: 1)
            let requests = server.requests
            #expect(requests.count >= 2)
            #expect(requests[0].header("Authorization") == "Bearer secret")
            #expect(requests[1].path == "/echo")
            #expect(requests[1].header("Authorization") == nil)
            #expect(requests[1].header("Cookie") == nil)
        }
    }

    @Test("an event larger than the maximum event size ends the source with a clear error")
    func eventTooLarge() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .largeEvent(size: 64 * 1024))
            let (_, error) = try await collectUntilEnd(
                EventSource(url: url, configuration: .testing { $0.maximumEventSize = 16 * 1024 })
            )
            #expect(error?.code == .eventTooLarge && error?.limit == 16 * 1024)
        }
    }

    @Test("a server that closes at once with retry: 0 is met with growing delays, not a flood")
    func retryZeroFlood() async throws {
        try await TestServer.withRunning { server in
            let sleeps = RecordedSleeps()
            var policy = ReconnectPolicy.default
            policy.jitter = 0
            policy.maximumAttempts = 6
            let source = EventSource(
                url: server.url(for: .raw("retry: 0\n\n")),
                configuration: .testing { $0.reconnect = policy },
                environment: sleeps.environment
            )
            let (_, error) = try await collectUntilEnd(source)
            #expect(error != nil)
            #expect(
                sleeps.all == [
                    .zero, .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600),
                    .milliseconds(3200),
                ])
        }
    }
}
