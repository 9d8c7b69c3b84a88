import SSEClient
import SSEParser
import SSETestServer
import Synchronization
import Testing

@Suite("EventSource requests", .timeLimit(.minutes(1)))
struct EventSourceRequestTests {
    @Test("every request asks for an event stream without caching; no Last-Event-ID before one is known")
    func standardHeaders() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(url: server.url(for: .numbered(count: 2)), configuration: .testing())
            _ = try await collectEvents(source, count: 2)
            let request = try #require(server.requests.first)
            #expect(request.method == "GET")
            #expect(request.header("Accept") == "text/event-stream")
            #expect(request.header("Cache-Control") == "no-cache")
            #expect(request.header("Last-Event-ID") == nil)
            #expect(request.header("User-Agent")?.hasPrefix("swift-sse/") == true)
        }
    }

    @Test("a configured last event ID is sent on the first connection, and the stream resumes after it")
    func initialLastEventID() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 10)),
                configuration: .testing { $0.lastEventID = "7" }
            )
            let events = try await collectEvents(source, count: 3)
            #expect(events.map(\.id) == ["8", "9", "10"])
            #expect(server.requests.first?.header("Last-Event-ID") == "7")
        }
    }

    @Test("every reconnect carries the last event ID received")
    func lastEventIDOnReconnect() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 9).droppingAfter(events: 3)),
                configuration: .testing()
            )
            let events = try await collectEvents(source, count: 9)
            #expect(events.map(\.id) == (1...9).map(String.init))
            let sent = server.requests.map { $0.header("Last-Event-ID") }
            #expect(sent == [nil, "3", "6"])
        }
    }

    @Test("an empty id from the server stops Last-Event-ID being sent")
    func emptyIDResets() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .raw("id: 5\ndata: a\n\nid\ndata: b\n\n"))
            let source = EventSource(url: url, configuration: .testing())
            let events = try await collectEvents(source, count: 4)
            #expect(events.map(\.id) == ["5", "", "5", ""])
            let requests = try await server.waitForRequests(count: 2)
            #expect(requests.map { $0.header("Last-Event-ID") } == [nil, nil])
        }
    }

    @Test("configured headers, method and body are sent; the body is sent again only when allowed")
    func methodHeadersBody() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 4).droppingAfter(events: 2)),
                configuration: .testing {
                    $0.method = "POST"
                    $0.body = Array(#"{"prompt":"hi"}"#.utf8)
                    $0.headers = [HTTPHeader("Content-Type", "application/json"), HTTPHeader("X-Trace", "abc")]
                    $0.replaysNonIdempotentRequests = true
                }
            )
            let events = try await collectEvents(source, count: 4)
            #expect(events.map(\.id) == ["1", "2", "3", "4"])
            let requests = try await server.waitForRequests(count: 2)
            for request in requests {
                #expect(request.method == "POST")
                #expect(request.bodyText == #"{"prompt":"hi"}"#)
                #expect(request.header("Content-Type") == "application/json")
                #expect(request.header("X-Trace") == "abc")
            }
        }
    }

    @Test("a POST is not replayed by default: a dropped stream ends with the failure instead")
    func postNotReplayed() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 4).droppingAfter(events: 2, with: .reset)),
                configuration: .testing {
                    $0.method = "POST"
                    $0.body = Array("prompt".utf8)
                }
            )
            let (events, error) = try await collectUntilEnd(source)
            #expect(events.map(\.id) == ["1", "2"])
            #expect(error != nil)
            #expect(server.requests.count == 1)
        }
    }

    @Test("a request-scoped stream (finish on end) ends the sequence normally when the server ends it")
    func finishPolicy() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 3)),
                configuration: .testing { $0.endOfStream = .finish }
            )
            let (events, error) = try await collectUntilEnd(source)
            #expect(events.map(\.id) == ["1", "2", "3"])
            #expect(error == nil)
            #expect(server.requests.count == 1)
        }
    }

    @Test("by default a stream that ends cleanly is reconnected, resuming after the last event")
    func reconnectOnCleanEnd() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(url: server.url(for: .raw("id: 1\ndata: x\n\n")), configuration: .testing())
            let events = try await collectEvents(source, count: 3)
            #expect(events.count == 3)
            let requests = try await server.waitForRequests(count: 3)
            #expect(requests.map { $0.header("Last-Event-ID") } == [nil, "1", "1"])
        }
    }

    @Test("the request hook runs before every connection and can put a fresh token on it")
    func requestHook() async throws {
        try await TestServer.withRunning { server in
            let counter = Mutex(0)
            let hooks = EventSource.Hooks(prepareRequest: { request in
                var request = request
                let n = counter.withLock { value in
                    value += 1
                    return value
                }
                request.headers.append(HTTPHeader("Authorization", "Bearer token-\(n)"))
                return request
            })
            let source = EventSource(
                url: server.url(for: .numbered(count: 6).droppingAfter(events: 2)),
                configuration: .testing(),
                hooks: hooks
            )
            _ = try await collectEvents(source, count: 6)
            let tokens = try await server.waitForRequests(count: 3).map { $0.header("Authorization") }
            #expect(tokens == ["Bearer token-1", "Bearer token-2", "Bearer token-3"])
        }
    }

    @Test("a throwing request hook ends the source with an error that says so")
    func throwingRequestHook() async throws {
        struct NoToken: Error {}
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 1)),
                configuration: .testing(),
                hooks: EventSource.Hooks(prepareRequest: { _ in throw NoToken() })
            )
            let (_, error) = try await collectUntilEnd(source)
            guard error?.code == .invalidRequest, let message = error?.message else {
                Issue.record("expected invalidRequest, got \(String(describing: error))")
                return
            }
            #expect(message.contains("request hook"))
            #expect(server.requests.isEmpty)
        }
    }

    @Test("a bearer token configured as a header reaches a server that requires it")
    func bearerToken() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 2).requiringBearerToken("s3cret")),
                configuration: .testing { $0.headers = [HTTPHeader("Authorization", "Bearer s3cret")] }
            )
            let events = try await collectEvents(source, count: 2)
            #expect(events.map(\.id) == ["1", "2"])
        }
    }

    @Test("compression: a gzipped body is decoded when compression is accepted")
    func compression() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 5).gzip(.whenAccepted)),
                configuration: .testing { $0.acceptsCompression = true }
            )
            let events = try await collectEvents(source, count: 5)
            #expect(events.map(\.id) == ["1", "2", "3", "4", "5"])
            #expect(server.requests.first?.header("Accept-Encoding")?.contains("gzip") == true)
        }
    }

    @Test("recordsSentRequests: the open head carries the request as libcurl sent it, and the HTTP version")
    func sentRequestHead() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 1)),
                configuration: .testing {
                    $0.recordsSentRequests = true
                    $0.acceptsCompression = true
                    $0.headers = [HTTPHeader("Authorization", "Bearer secret")]
                }
            )
            var head: ResponseHead?
            for try await update in source.updates {
                if case .state(.open(let opened)) = update { head = opened }
                if case .event = update { break }
            }
            let opened = try #require(head)
            #expect(opened.httpVersion == "HTTP/1.1")
            let sent = try #require(opened.sentRequest)
            #expect(sent.line.hasPrefix("GET /events?count=1 HTTP/1.1"))
            // What libcurl added is there too, exactly as the server received it.
            #expect(sent.headers.value(for: "Host") == "127.0.0.1:\(server.port)")
            #expect(sent.headers.value(for: "Accept-Encoding")?.contains("gzip") == true)
            #expect(sent.headers.value(for: "Authorization") == "Bearer secret")
            #expect(sent.headers.value(for: "Accept-Encoding") == server.requests.first?.header("Accept-Encoding"))
        }
    }

    @Test("without recordsSentRequests, no request head is kept")
    func noSentRequestHead() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(url: server.url(for: .numbered(count: 1)), configuration: .testing())
            for try await update in source.updates {
                if case .state(.open(let opened)) = update {
                    #expect(opened.sentRequest == nil)
                    #expect(opened.httpVersion == "HTTP/1.1")
                    break
                }
            }
        }
    }
}
