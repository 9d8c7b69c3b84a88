import SSETestServer
import SSETestSupport
import Testing

/// The `text/event-stream` of numbered events `range`, as the server writes them.
func numberedText(_ range: ClosedRange<Int>, type: String? = nil, payloadSize: Int? = nil) -> String {
    range.map { n in
        let event = type.map { "event: \($0)\n" } ?? ""
        return "id: \(n)\n\(event)data: \(Scenario.numberedData(n, payloadSize: payloadSize))\n\n"
    }.joined()
}

@Suite("Streams: numbered events, resume, retry, heartbeats, large events", .timeLimit(.minutes(1)))
struct StreamScenarioTests {
    @Test("the numbered stream sends count events and ends the response")
    func numbered() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=3"))
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "text/event-stream")
            #expect(response.header("Cache-Control") == "no-cache")
            #expect(response.header("Transfer-Encoding") == "chunked")
            #expect(response.text == numberedText(1...3))
            #expect(response.body.complete)
            #expect(response.ending == .fin)
        }
    }

    @Test("the Swift API builds the same URL the query describes")
    func swiftAPI() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 2, eventType: "tick"))
            #expect(url == "\(server.baseURL)/events?count=2&event=tick")
            #expect(server.baseURL == "http://127.0.0.1:\(server.port)")
            let target = String(url.dropFirst(server.baseURL.count))
            let response = try await RawHTTPClient.exchange(port: server.port, .get(target))
            #expect(response.text == numberedText(1...2, type: "tick"))
        }
    }

    @Test("the endless stream keeps going until the client stops reading")
    func endless() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(port: server.port, .get("/events")) { bytes in
                bytes.contains("data: 50\n\n")
            }
            #expect(response.ending == .stoppedByClient)
            #expect(response.text.hasPrefix(numberedText(1...50)))
        }
    }

    @Test("event type and payload size")
    func typeAndSize() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(
                port: server.port, .get("/events?count=2&event=tick&size=6"))
            #expect(response.text == "id: 1\nevent: tick\ndata: 1.....\n\nid: 2\nevent: tick\ndata: 2.....\n\n")
        }
    }

    @Test("Last-Event-ID: n resumes at n + 1 and ends at count")
    func resume() async throws {
        try await TestServer.withRunning { server in
            let resumed = try await RawHTTPClient.exchange(
                port: server.port,
                .get("/events?count=5", headers: ["Last-Event-ID: 3"])
            )
            #expect(resumed.text == numberedText(4...5))
            let finished = try await RawHTTPClient.exchange(
                port: server.port,
                .get("/events?count=5", headers: ["Last-Event-ID: 5"])
            )
            #expect(finished.text == "")
            #expect(finished.body.complete)
            let unknown = try await RawHTTPClient.exchange(
                port: server.port,
                .get("/events?count=2", headers: ["Last-Event-ID: not-a-number"])
            )
            #expect(unknown.text == numberedText(1...2))
        }
    }

    @Test("a bounded history resumes at the oldest event it still holds")
    func boundedHistory() async throws {
        try await TestServer.withRunning { server in
            let target = "/events?count=10&history=3"
            let first = try await RawHTTPClient.exchange(port: server.port, .get(target))
            #expect(first.text == numberedText(1...10))
            let gap = try await RawHTTPClient.exchange(port: server.port, .get(target, headers: ["Last-Event-ID: 2"]))
            #expect(gap.text == numberedText(8...10))
            let held = try await RawHTTPClient.exchange(port: server.port, .get(target, headers: ["Last-Event-ID: 8"]))
            #expect(held.text == numberedText(9...10))
        }
    }

    @Test("retry: comes first")
    func retry() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=1&retry=1500"))
            #expect(response.text == "retry: 1500\n" + numberedText(1...1))
        }
    }

    @Test("heartbeat comments fall between paced events")
    func heartbeat() async throws {
        try await TestServer.withRunning { server in
            let clock = ContinuousClock()
            let start = clock.now
            let response = try await RawHTTPClient.exchange(
                port: server.port,
                .get("/events?count=2&interval=60&heartbeat=25")
            )
            #expect(response.text == "id: 1\ndata: 1\n\n:\n:\nid: 2\ndata: 2\n\n")
            #expect(clock.now - start >= .milliseconds(60))
        }
    }

    @Test("the configured heartbeat and tick interval apply when the scenario sets none")
    func configuredDefaults() async throws {
        let configuration = TestServer.Configuration(
            tickInterval: .milliseconds(30), heartbeatInterval: .milliseconds(20))
        try await TestServer.withRunning(configuration: configuration) { server in
            let response = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=2"))
            #expect(response.text == "id: 1\ndata: 1\n\n:\nid: 2\ndata: 2\n\n")
        }
    }

    @Test("one very large event arrives whole")
    func largeEvent() async throws {
        try await TestServer.withRunning { server in
            let size = 4 << 20
            let target = String(server.url(for: .largeEvent(size: size)).dropFirst(server.baseURL.count))
            let response = try await RawHTTPClient.exchange(port: server.port, .get(target), timeout: .seconds(30))
            let body = response.body
            #expect(body.complete)
            #expect(body.bytes.count == "id: 1\ndata: ".utf8.count + size + 2)
            #expect(body.bytes.prefix(14).elementsEqual("id: 1\ndata: 1.".utf8))
            #expect(body.bytes.suffix(3).elementsEqual(".\n\n".utf8))
        }
    }
}
