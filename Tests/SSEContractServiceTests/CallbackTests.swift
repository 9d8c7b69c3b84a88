import SSETestServer
import SSETestSupport
import Testing

@testable import SSEContractService

@Suite("Streams report to the callback URL", .timeLimit(.minutes(1)))
struct CallbackTests {
    @Test("events and comments arrive as callbacks 1, 2, 3, … in stream order")
    func eventsAndComments() async throws {
        try await Fixture.run { fixture in
            let stream = Scenario.raw(":hello\nid: 1\ndata: a\n\n: world\nevent: other\ndata: skipped\n\ndata: b\n\n")
            _ = try await fixture.createStream(fixture.streams.url(for: stream.ending(with: .hang)), name: "s")
            let callbacks = try await fixture.receiver.waitForCallbacks("s", count: 4)
            #expect(callbacks.map(\.number) == [1, 2, 3, 4])
            #expect(callbacks.map(\.path) == (1...4).map { "/callbacks/s/\($0)" })
            #expect(callbacks[0].kind == "comment" && callbacks[0].comment == "hello")
            #expect(callbacks[1].kind == "event" && callbacks[1].event == ReceivedCallback.event("a", id: "1"))
            #expect(callbacks[2].kind == "comment" && callbacks[2].comment == " world")
            // The ID stays in effect; `other` is not listened to.
            #expect(callbacks[3].event == ReceivedCallback.event("b", id: "1"))
        }
    }

    @Test("a hundred events in one write arrive numbered without gaps, in order")
    func manyEvents() async throws {
        try await Fixture.run { fixture in
            let text = (0..<100).map { "data: message \($0)\n\n" }.joined()
            _ = try await fixture.createStream(fixture.streams.url(for: .raw(text).ending(with: .hang)), name: "s")
            let callbacks = try await fixture.receiver.waitForCallbacks("s", count: 100)
            #expect(callbacks.map(\.number) == Array(1...100))
            #expect(callbacks.map { $0.event?.data } == (0..<100).map { "message \($0)" })
        }
    }

    @Test("each failed connection attempt is an error callback; the stream goes on")
    func retriedErrors() async throws {
        try await Fixture.run { fixture in
            let url = fixture.streams.url(for: Scenario.numbered(count: 1).failing(with: 503, times: 2))
            _ = try await fixture.createStream(url, name: "s", extra: ["initialDelayMs": 0])
            let callbacks = try await fixture.receiver.waitForCallbacks("s", count: 3)
            #expect(callbacks.map(\.kind) == ["error", "error", "event"])
            #expect(callbacks[0].error?.contains("503") == true)
            #expect(callbacks[2].event == ReceivedCallback.event("1", id: "1"))
        }
    }

    @Test("a failure that ends the stream is reported once", arguments: [404, 401])
    func fatalError(status: Int) async throws {
        try await Fixture.run { fixture in
            let location = try await fixture.createStream(
                fixture.streams.url(for: .status(status)), name: "s", extra: ["initialDelayMs": 0])
            let instance = try fixture.instance(location)
            try await withTimeout("the stream to end") { await instance.waitUntilFinished() }
            let callbacks = fixture.receiver.callbacks("s")
            #expect(callbacks.map(\.kind) == ["error"])
            #expect(callbacks.first?.error?.contains("\(status)") == true)
        }
    }

    @Test("a refused connection is an error callback")
    func refused() async throws {
        try await Fixture.run { fixture in
            // A port that was just free: bound, then released.
            let closed = try await HTTPServer.start { _ in HTTPResponseMessage(status: 500) }
            await closed.shutdown()
            _ = try await fixture.createStream(
                "http://127.0.0.1:\(closed.port)/", name: "s", extra: ["initialDelayMs": 0])
            let callbacks = try await fixture.receiver.waitForCallbacks("s", count: 2)
            #expect(callbacks.allSatisfy { $0.kind == "error" })
        }
    }

    @Test("204 stops the stream for good: one request, no callback")
    func noContent() async throws {
        try await Fixture.run { fixture in
            let location = try await fixture.createStream(
                fixture.streams.url(for: .status(204)), name: "s", extra: ["initialDelayMs": 0])
            let instance = try fixture.instance(location)
            try await withTimeout("the stream to end") { await instance.waitUntilFinished() }
            #expect(fixture.streams.requests.count == 1)
            #expect(fixture.receiver.callbacks("s").isEmpty)
        }
    }

    @Test(
        "a redirect without a usable Location is an error callback",
        arguments: ["/redirect-without-location", "/redirect-to-empty-location"])
    func brokenRedirect(path: String) async throws {
        try await Fixture.run { fixture in
            _ = try await fixture.createStream(fixture.receiver.url(path: path), name: "s")
            let callbacks = try await fixture.receiver.waitForCallbacks("s", count: 1)
            #expect(callbacks[0].kind == "error")
        }
    }

    @Test("method, body, headers and lastEventId reach the server, on every reconnect")
    func requestPassthrough() async throws {
        try await Fixture.run { fixture in
            let body = #"{"hello": "world"}"#
            _ = try await fixture.createStream(
                fixture.streams.url(for: .raw("data: x\n\n")),
                name: "s",
                extra: [
                    "method": "REPORT", "body": body, "lastEventId": "abc", "initialDelayMs": 0,
                    "headers": ["content-type": "application/json; charset=utf-8", "header-name-1": "value-1"],
                ])
            let requests = try await fixture.streams.waitForRequests(count: 2)
            for request in requests.prefix(2) {
                #expect(request.method == "REPORT")
                #expect(request.bodyText == body)
                #expect(request.header("Content-Type") == "application/json; charset=utf-8")
                #expect(request.header("header-name-1") == "value-1")
                #expect(request.header("Last-Event-ID") == "abc")
                #expect(request.header("Accept") == "text/event-stream")
                #expect(request.header("Cache-Control") == "no-cache")
            }
        }
    }

    @Test("a body without a content-type header is sent as text/plain; GET sends no Last-Event-ID by default")
    func defaults() async throws {
        try await Fixture.run { fixture in
            _ = try await fixture.createStream(
                fixture.streams.url(for: .hangAfterHeaders, path: "/post"), name: "p",
                extra: ["method": "POST", "body": "hi"])
            _ = try await fixture.createStream(fixture.streams.url(for: .hangAfterHeaders, path: "/get"), name: "g")
            let requests = try await fixture.streams.waitForRequests(count: 2)
            let post = try #require(requests.first { $0.path == "/post" })
            #expect(post.method == "POST" && post.bodyText == "hi")
            #expect(post.header("Content-Type") == "text/plain; charset=utf-8")
            let get = try #require(requests.first { $0.path == "/get" })
            #expect(get.method == "GET" && get.body.isEmpty)
            #expect(get.header("Last-Event-ID") == nil)
        }
    }

    @Test("readTimeoutMs drops a silent connection: an error callback, then a new connection")
    func readTimeout() async throws {
        try await Fixture.run { fixture in
            _ = try await fixture.createStream(
                fixture.streams.url(for: Scenario.raw("data: hi\n\n").ending(with: .hang)),
                name: "s",
                // Long enough for the first event to arrive on a loaded machine before it fires.
                extra: ["readTimeoutMs": 2000, "initialDelayMs": 0])
            let callbacks = try await fixture.receiver.waitForCallbacks("s", count: 3)
            #expect(callbacks.prefix(3).map(\.kind) == ["event", "error", "event"])
            #expect(callbacks[1].error?.contains("idle timeout") == true)
            _ = try await fixture.streams.waitForRequests(count: 2)
        }
    }

    @Test("listen: only message events until a type is listened to")
    func listen() async throws {
        try await Fixture.run { fixture in
            let location = try await fixture.createStream(fixture.streams.url(path: "/subscribe"), name: "s")
            let command = #"{"command": "listen", "listen": {"type": "greeting"}}"#
            #expect(try await fixture.call("POST", location, body: command).status == 204)
            try await fixture.streams.waitForSubscribers(count: 1)
            _ = try await fixture.streams.publish("ignored", type: "other")
            _ = try await fixture.streams.publish("hello", type: "greeting")
            _ = try await fixture.streams.publish("plain")
            let callbacks = try await fixture.receiver.waitForCallbacks("s", count: 2)
            #expect(
                callbacks.map(\.event) == [
                    ReceivedCallback.event("hello", type: "greeting", id: "2"),
                    ReceivedCallback.event("plain", id: "3"),
                ])
        }
    }

    @Test("restart reconnects at once with the last event ID, reporting no error")
    func restart() async throws {
        try await Fixture.run { fixture in
            let location = try await fixture.createStream(
                fixture.streams.url(path: "/subscribe"), name: "s", extra: ["initialDelayMs": 0])
            try await fixture.streams.waitForSubscribers(count: 1)
            _ = try await fixture.streams.publish("one")
            _ = try await fixture.receiver.waitForCallbacks("s", count: 1)

            #expect(try await fixture.call("POST", location, body: #"{"command": "restart"}"#).status == 204)
            // Whether the new connection is subscribed yet or not, it gets "two": live, or replayed
            // from Last-Event-ID 1.
            _ = try await fixture.streams.publish("two")
            let callbacks = try await fixture.receiver.waitForCallbacks("s", count: 2)
            #expect(
                callbacks.map(\.event) == [
                    ReceivedCallback.event("one", id: "1"), ReceivedCallback.event("two", id: "2"),
                ])
            let requests = try await fixture.streams.waitForRequests(count: 2)
            #expect(requests[1].header("Last-Event-ID") == "1")
        }
    }

    @Test("a byte order mark split across writes is stripped")
    func byteOrderMark() async throws {
        try await Fixture.run { fixture in
            let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("data: Hello\n\ndata: \u{FEFF}again\n\n".utf8)
            let scenario = Scenario.raw(bytes).tinyWrites(size: 1, delay: .milliseconds(1)).ending(with: .hang)
            _ = try await fixture.createStream(fixture.streams.url(for: scenario), name: "s")
            let callbacks = try await fixture.receiver.waitForCallbacks("s", count: 2)
            #expect(
                callbacks.map(\.event) == [ReceivedCallback.event("Hello"), ReceivedCallback.event("\u{FEFF}again")])
        }
    }

    @Test("a 1 MiB event arrives whole")
    func largeEvent() async throws {
        try await Fixture.run { fixture in
            let data = String(repeating: "x", count: 1 << 20)
            let url = fixture.streams.route("/big", Scenario.raw("data: \(data)\n\n").ending(with: .hang))
            _ = try await fixture.createStream(url, name: "s")
            let callbacks = try await fixture.receiver.waitForCallbacks("s", count: 1)
            #expect(callbacks[0].event?.data == data)
        }
    }
}
