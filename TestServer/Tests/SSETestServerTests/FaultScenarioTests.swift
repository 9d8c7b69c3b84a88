import Foundation
import SSETestServer
import SSETestSupport
import Synchronization
import Testing

@Suite("Faults: drops, resets, hangs, statuses, redirects, odd bodies", .timeLimit(.minutes(1)))
struct FaultScenarioTests {
    // MARK: Drops

    @Test("dropping after K events closes with FIN mid-response")
    func dropAfterEventsFIN() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=5&dropAfter=2"))
            #expect(response.text == numberedText(1...2))
            #expect(!response.body.complete)
            #expect(response.ending == .fin)
        }
    }

    @Test("dropping after K events with end=reset resets, after delivering the events")
    func dropAfterEventsRST() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(
                port: server.port,
                .get("/events?count=5&dropAfter=2&end=reset")
            )
            #expect(response.text == numberedText(1...2))
            #expect(response.ending == .reset)
        }
    }

    @Test("dropping after K events with end=finish ends the response properly")
    func dropAfterEventsFinish() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(
                port: server.port,
                .get("/events?count=5&dropAfter=2&end=finish")
            )
            #expect(response.text == numberedText(1...2))
            #expect(response.body.complete)
            #expect(response.ending == .fin)
        }
    }

    @Test("a dropped stream resumes where it stopped")
    func dropThenResume() async throws {
        try await TestServer.withRunning { server in
            let target = "/events?count=5&dropAfter=2"
            let first = try await RawHTTPClient.exchange(port: server.port, .get(target))
            #expect(first.text == numberedText(1...2))
            let second = try await RawHTTPClient.exchange(
                port: server.port, .get(target, headers: ["Last-Event-ID: 2"]))
            #expect(second.text == numberedText(3...4))
            let third = try await RawHTTPClient.exchange(port: server.port, .get(target, headers: ["Last-Event-ID: 4"]))
            #expect(third.text == numberedText(5...5))
            #expect(third.body.complete)
        }
    }

    @Test(
        "dropping after exactly B bytes: the body on the wire is exactly the first B bytes",
        arguments: [1, 6, 13, 14, 15, 29],
        [Scenario.Ending.close, .reset]
    )
    func dropAfterBytes(bytes: Int, ending: Scenario.Ending) async throws {
        try await TestServer.withRunning { server in
            let scenario = Scenario.numbered(count: 3).droppingAfter(bytes: bytes, with: ending).framing(
                .connectionClose)
            let response = try await RawHTTPClient.exchange(port: server.port, .get(target(server, scenario)))
            #expect(response.wireBody == Array(numberedText(1...3).utf8.prefix(bytes)))
            #expect(response.ending == (ending == .reset ? .reset : .fin))
        }
    }

    @Test("a byte drop can fall mid-CRLF and mid-UTF-8")
    func dropMidCharacter() async throws {
        try await TestServer.withRunning { server in
            let text = Array("data: é\r\n\r\n".utf8)
            for cut in [7, 9] {
                let scenario = Scenario.raw(text).droppingAfter(bytes: cut).framing(.connectionClose)
                let response = try await RawHTTPClient.exchange(port: server.port, .get(target(server, scenario)))
                #expect(response.wireBody == Array(text.prefix(cut)))
                #expect(response.ending == .fin)
            }
        }
    }

    @Test("generated lines can end with CRLF or CR, and numbered data can carry multi-byte text")
    func lineEndingsAndUnicode() async throws {
        try await TestServer.withRunning { server in
            for (ending, newline) in [(Scenario.LineEnding.crlf, "\r\n"), (.cr, "\r")] {
                let scenario = Scenario.numbered(count: 2).lineEnding(ending).unicodePayload().framing(.connectionClose)
                let response = try await RawHTTPClient.exchange(port: server.port, .get(target(server, scenario)))
                let expected = numberedText(1...2)
                    .replacingOccurrences(of: "data: 1\n", with: "data: 1 é東😀\n")
                    .replacingOccurrences(of: "data: 2\n", with: "data: 2 é東😀\n")
                    .replacingOccurrences(of: "\n", with: newline)
                #expect(response.wireBody == Array(expected.utf8))
            }
        }
    }

    @Test("with chunked framing a byte drop cuts the chunk payload exactly, without the last chunk")
    func dropAfterBytesChunked() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(
                port: server.port,
                .get("/events?count=3&dropAfterBytes=10&end=reset")
            )
            #expect(response.body.bytes == Array(numberedText(1...3).utf8.prefix(10)))
            #expect(!response.body.complete)
            #expect(response.ending == .reset)
        }
    }

    // MARK: Hangs

    // A hang is an absence; what proves it is the server's own close at shutdown, which arrives
    // after everything it sent before: a client that then holds nothing (or only the head) saw the
    // server send nothing more. No client waits for its own timeout to run out.

    @Test("hang before headers: the request is read, nothing is sent, the connection stays open")
    func hangBeforeHeaders() async throws {
        let server = try await TestServer.start()
        async let response = RawHTTPClient.exchange(port: server.port, .get("/events?hang=before-headers"))
        _ = try await server.waitForRequests(count: 1)
        #expect(server.closeTime(ofConnection: 1) == nil)
        try await server.shutdown()
        let received = try await response
        #expect(received.bytes.isEmpty)
        #expect(received.ending == .fin)
        #expect(server.requests.count == 1)
    }

    @Test("hang after headers: the head arrives, then nothing")
    func hangAfterHeaders() async throws {
        let server = try await TestServer.start()
        async let response = RawHTTPClient.exchange(port: server.port, .get("/events?hang=after-headers"))
        // The head is written in the event-loop turn that records the request, before the close
        // that shutdown() schedules on the same loop.
        _ = try await server.waitForRequests(count: 1)
        #expect(server.closeTime(ofConnection: 1) == nil)
        try await server.shutdown()
        let received = try await response
        #expect(received.status == 200)
        #expect(received.wireBody.isEmpty)
        #expect(received.ending == .fin)
    }

    @Test("hang=endless-headers: a status line, then header fields that never end")
    func endlessHeaders() async throws {
        try await TestServer.withRunning { server in
            // Reads until a handful of fields arrived, however slowly: the head never ends.
            let response = try await RawHTTPClient.exchange(
                port: server.port,
                .get("/events?hang=endless-headers&interval=5")
            ) { String(decoding: $0, as: UTF8.self).components(separatedBy: "X-Endless-").count > 5 }
            let text = String(decoding: response.bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Endless-1: "))
            #expect(!text.contains("\r\n\r\n"))
            #expect(response.ending == .stoppedByClient)
        }
    }

    @Test("contentLength=N declares a length the unchunked body never reaches")
    func declaredContentLength() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(
                port: server.port, .get("/events?count=2&contentLength=10000000000"))
            #expect(response.header("Content-Length") == "10000000000")
            #expect(response.header("Transfer-Encoding") == nil)
            #expect(String(decoding: response.wireBody, as: UTF8.self) == numberedText(1...2))
            #expect(response.ending == .fin)
        }
    }

    @Test("end=hang keeps the connection open after the last event")
    func hangAfterEvents() async throws {
        try await TestServer.withRunning { server in
            // Once both events are in, the server has not closed (as end=finish would, after the
            // last event) and the body has no last chunk.
            let openWhenBothArrived = Atomic<Bool>(false)
            let response = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=2&end=hang")) {
                // Each event goes out in one chunk, so its text is contiguous on the wire.
                guard $0.contains("data: 2\n\n") else { return false }
                openWhenBothArrived.store(server.closeTime(ofConnection: 1) == nil, ordering: .sequentiallyConsistent)
                return true
            }
            #expect(response.text == numberedText(1...2))
            #expect(!response.body.complete)
            #expect(response.ending == .stoppedByClient)
            let wasOpen = openWhenBothArrived.load(ordering: .sequentiallyConsistent)
            #expect(wasOpen)
        }
    }

    // MARK: Statuses

    @Test("error statuses, with and without Retry-After", arguments: [401, 404, 429, 500, 503], [nil, "2"])
    func statuses(status: Int, retryAfter: String?) async throws {
        try await TestServer.withRunning { server in
            let scenario = Scenario.status(status, retryAfter: retryAfter)
            let response = try await RawHTTPClient.exchange(port: server.port, .get(target(server, scenario)))
            #expect(response.status == status)
            #expect(response.header("Retry-After") == retryAfter)
            #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
            #expect(response.header("Content-Length") == String(response.wireBody.count))
            #expect(String(decoding: response.wireBody, as: UTF8.self).hasPrefix("\(status) "))
            #expect(response.ending == .fin)
        }
    }

    @Test("204 has no body")
    func noContent() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(port: server.port, .get("/events?status=204"))
            #expect(response.head?.hasPrefix("HTTP/1.1 204 No Content\r\n") == true)
            #expect(response.wireBody.isEmpty)
            #expect(response.header("Content-Length") == nil)
        }
    }

    @Test("a status N times, counted per URL across connections, then the stream")
    func statusThenRecover() async throws {
        try await TestServer.withRunning { server in
            let target = "/events?status=503&times=2&retryAfter=1&count=1"
            for _ in 1...2 {
                let failing = try await RawHTTPClient.exchange(port: server.port, .get(target))
                #expect(failing.status == 503)
                #expect(failing.header("Retry-After") == "1")
            }
            let recovered = try await RawHTTPClient.exchange(port: server.port, .get(target))
            #expect(recovered.status == 200)
            #expect(recovered.text == numberedText(1...1))
            #expect(server.connectionCount == 3)
        }
    }

    @Test("the key names the counter, whatever else the URL carries")
    func keyedCounter() async throws {
        try await TestServer.withRunning { server in
            let first = try await RawHTTPClient.exchange(port: server.port, .get("/a?status=500&times=1&key=k&count=1"))
            let second = try await RawHTTPClient.exchange(
                port: server.port, .get("/b?status=500&times=1&key=k&count=1"))
            let other = try await RawHTTPClient.exchange(port: server.port, .get("/b?status=500&times=1&key=z&count=1"))
            #expect([first.status, second.status, other.status] == [500, 200, 500])
        }
    }

    @Test("redirects carry Location", arguments: [301, 302, 307])
    func redirects(status: Int) async throws {
        try await TestServer.withRunning { server in
            let custom = Scenario.redirect(status, to: "/elsewhere?count=1")
            let response = try await RawHTTPClient.exchange(port: server.port, .get(target(server, custom)))
            #expect(response.status == status)
            #expect(response.header("Location") == "/elsewhere?count=1")
            let plain = try await RawHTTPClient.exchange(port: server.port, .get("/x?status=\(status)"))
            #expect(plain.header("Location") == "/events")
        }
    }

    // MARK: Odd bodies

    @Test("a wrong Content-Type, or none")
    func contentType() async throws {
        try await TestServer.withRunning { server in
            let wrong = try await RawHTTPClient.exchange(
                port: server.port, .get("/events?count=1&contentType=text/html"))
            #expect(wrong.header("Content-Type") == "text/html")
            #expect(wrong.text == numberedText(1...1))
            let none = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=1&contentType="))
            #expect(none.header("Content-Type") == nil)
        }
    }

    @Test("tiny writes: one byte at a time, delayed, same bytes")
    func tinyWrites() async throws {
        try await TestServer.withRunning { server in
            let scenario = Scenario.numbered(count: 2).tinyWrites(size: 1, delay: .milliseconds(2))
                .framing(.connectionClose)
            let response = try await RawHTTPClient.exchange(port: server.port, .get(target(server, scenario)))
            // How many reads the bytes took depends on how busy the client is (a starved one reads
            // them all at once); that each byte is its own write is what tinyChunks shows, by framing.
            #expect(response.wireBody == Array(numberedText(1...2).utf8))
        }
    }

    @Test("tiny writes with chunked framing: one chunk per byte")
    func tinyChunks() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=1&writeSize=1"))
            #expect(
                response.wireBody == Array(("id: 1\ndata: 1\n\n".map { "1\r\n\($0)\r\n" }.joined() + "0\r\n\r\n").utf8))
        }
    }

    @Test("gzip when the client accepts it", .enabled(if: gzipPath != nil))
    func gzipWhenAccepted() async throws {
        try await TestServer.withRunning { server in
            let target = "/events?count=3&gzip=1&writeSize=7"
            let compressed = try await RawHTTPClient.exchange(
                port: server.port,
                .get(target, headers: ["Accept-Encoding: br, gzip"])
            )
            #expect(compressed.header("Content-Encoding") == "gzip")
            #expect(compressed.body.complete)
            #expect(try await gunzip(compressed.body.bytes) == Array(numberedText(1...3).utf8))

            let plain = try await RawHTTPClient.exchange(port: server.port, .get(target))
            #expect(plain.header("Content-Encoding") == nil)
            #expect(plain.text == numberedText(1...3))

            let forced = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=3&gzip=always"))
            #expect(forced.header("Content-Encoding") == "gzip")
            #expect(try await gunzip(forced.body.bytes) == Array(numberedText(1...3).utf8))
        }
    }

    @Test("raw bytes from the query and from a route")
    func raw() async throws {
        try await TestServer.withRunning { server in
            let bytes: [UInt8] = Array("data: a\r\rdata: b\n".utf8) + [0xff, 0xfe, 0x00, 0x0a, 0x0a]
            let viaQuery = try await RawHTTPClient.exchange(
                port: server.port,
                .get(target(server, Scenario.raw(bytes).framing(.connectionClose)))
            )
            #expect(viaQuery.wireBody == bytes)

            let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
            let url = server.route("/malformed", .raw(big))
            #expect(url == server.baseURL + "/malformed")
            let viaRoute = try await RawHTTPClient.exchange(port: server.port, .get("/malformed?count=1"))
            #expect(viaRoute.body.bytes == big)
            #expect(viaRoute.body.complete)
        }
    }

    // MARK: Requests

    @Test("a bearer token is required when the scenario names one")
    func bearerToken() async throws {
        try await TestServer.withRunning { server in
            let target = "/events?count=1&token=s3cret"
            let missing = try await RawHTTPClient.exchange(port: server.port, .get(target))
            #expect(missing.status == 401)
            #expect(missing.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            let wrong = try await RawHTTPClient.exchange(
                port: server.port, .get(target, headers: ["Authorization: Bearer no"]))
            #expect(wrong.status == 401)
            let right = try await RawHTTPClient.exchange(
                port: server.port,
                .get(target, headers: ["Authorization: Bearer s3cret"])
            )
            #expect(right.status == 200)
            #expect(right.text == numberedText(1...1))
        }
    }

    @Test("a configured auth token guards every endpoint")
    func configuredToken() async throws {
        try await TestServer.withRunning(configuration: .init(authToken: "t")) { server in
            let missing = try await RawHTTPClient.exchange(port: server.port, .request("POST", "/publish", body: "x"))
            #expect(missing.status == 401)
            let right = try await RawHTTPClient.exchange(
                port: server.port,
                .get("/events?count=1", headers: ["Authorization: Bearer t"])
            )
            #expect(right.status == 200)
        }
    }

    @Test("echo describes the request as JSON, and the request is recorded")
    func echo() async throws {
        try await TestServer.withRunning { server in
            let request = String.request(
                "POST",
                "/echo?x=1",
                headers: ["Accept: text/event-stream", "Last-Event-ID: 41", "Content-Type: application/json"],
                body: "{\"q\":\"hi\"}"
            )
            let response = try await RawHTTPClient.exchange(port: server.port, request)
            let text = response.text
            #expect(text.hasPrefix("event: echo\ndata: "))
            #expect(text.hasSuffix("\n\n"))
            let json = String(text.dropFirst("event: echo\ndata: ".count).dropLast(2))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            #expect(object["method"] as? String == "POST")
            #expect(object["path"] as? String == "/echo")
            #expect(object["query"] as? String == "x=1")
            #expect(object["body"] as? String == "{\"q\":\"hi\"}")
            let headers = try #require(object["headers"] as? [String: String])
            #expect(headers["last-event-id"] == "41")
            #expect(headers["accept"] == "text/event-stream")

            let recorded = try #require(server.requests.first)
            #expect(recorded.method == "POST")
            #expect(recorded.path == "/echo")
            #expect(recorded.query == "x=1")
            #expect(recorded.queryValue("x") == "1")
            #expect(recorded.header("last-event-id") == "41")
            #expect(recorded.bodyText == "{\"q\":\"hi\"}")
            #expect(recorded.connection == 1)
        }
    }

    @Test("a bad query gets 400 naming the parameter")
    func badQuery() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=lots"))
            #expect(response.status == 400)
            #expect(String(decoding: response.wireBody, as: UTF8.self).contains("count"))
        }
    }

    @Test("CORS: the origin on every response, and preflights answered")
    func cors() async throws {
        try await TestServer.withRunning(configuration: .init(corsOrigin: "https://example.test")) { server in
            let stream = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=1"))
            #expect(stream.header("Access-Control-Allow-Origin") == "https://example.test")
            let preflight = try await RawHTTPClient.exchange(port: server.port, .request("OPTIONS", "/events"))
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Headers")?.contains("Last-Event-ID") == true)
        }
    }
}

/// The request target (path and query) of `scenario` on `server`.
func target(_ server: TestServer, _ scenario: Scenario, path: String = "/events") -> String {
    String(server.url(for: scenario, path: path).dropFirst(server.baseURL.count))
}
