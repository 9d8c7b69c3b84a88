import Testing

@testable import SSETestServer

@Suite("Routing: requests to routes, scenarios to plans, without sockets")
struct RouterTests {
    private func request(_ target: String, method: String = "GET", headers: [String: String] = [:]) -> RecordedRequest {
        let (path, query) = HTTPResponseParts.split(target)
        return RecordedRequest(
            method: method,
            path: path,
            query: query,
            headers: headers.map { RecordedRequest.Header(name: $0.key, value: $0.value) },
            body: Array("hello".utf8),
            connection: 1,
            receivedAt: .now
        )
    }

    @Test("the hub, help, preflight, a bad query and a route")
    func routes() throws {
        let router = Router(configuration: .init())
        #expect(
            router.route(request("/publish?event=e", method: "POST"), registered: nil)
                == .publish(data: "hello", type: "e"))
        guard case .respond(let notAllowed) = router.route(request("/publish"), registered: nil) else {
            Issue.record("GET /publish is answered")
            return
        }
        #expect(notAllowed.status == 405)
        #expect(notAllowed.headers.contains(HTTPResponseParts.Field("Allow", "POST")))
        guard case .respond(let help) = router.route(request("/"), registered: nil) else {
            Issue.record("GET / is answered")
            return
        }
        #expect(help.status == 200 && String(decoding: help.body, as: UTF8.self) == HTTPResponseParts.help)
        guard case .respond(let preflight) = router.route(request("/events", method: "OPTIONS"), registered: nil) else {
            Issue.record("OPTIONS is answered")
            return
        }
        #expect(preflight.status == 204 && preflight.body.isEmpty)
        guard case .respond(let bad) = router.route(request("/events?count=lots"), registered: nil) else {
            Issue.record("a bad query is answered")
            return
        }
        #expect(bad.status == 400)
        #expect(router.route(request("/subscribe"), registered: nil) == .scenario(Scenario(), live: true))
        #expect(router.route(request("/x?count=1"), registered: .raw([1])) == .scenario(.raw([1]), live: false))
        var echo = Scenario()
        echo.content = .echo
        #expect(router.route(request("/echo"), registered: nil) == .scenario(echo, live: false))
    }

    @Test("a configured token guards every endpoint but preflights")
    func configuredToken() {
        let router = Router(configuration: .init(authToken: "t"))
        guard case .respond(let refused) = router.route(request("/events"), registered: nil) else {
            Issue.record("refused")
            return
        }
        #expect(refused.status == 401)
        #expect(refused.headers.contains { $0.name == "WWW-Authenticate" })
        let allowed = router.route(request("/events", headers: ["Authorization": "Bearer t"]), registered: nil)
        #expect(allowed == .scenario(Scenario(), live: false))
    }

    @Test("a status for the first N attempts, then the stream; hangs; the numbered resume point")
    func plans() {
        let router = Router(configuration: .init())
        let failing = Scenario.numbered(count: 3).failing(with: 503, times: 2)
        guard
            case .respond(let status) = router.plan(
                failing, for: request("/e"), live: false, attempt: 2, numberedHead: nil)
        else {
            Issue.record("attempt 2 fails")
            return
        }
        #expect(status.status == 503)
        guard
            case .stream(let stream) = router.plan(
                failing, for: request("/e"), live: false, attempt: 3, numberedHead: nil)
        else {
            Issue.record("attempt 3 streams")
            return
        }
        #expect(String(decoding: stream.head, as: UTF8.self).hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(stream.numberedKey == "/e" && stream.firstNumber == 1)

        var hang = Scenario()
        hang.hang = .beforeHeaders
        guard
            case .hangBeforeHeaders = router.plan(hang, for: request("/e"), live: false, attempt: 1, numberedHead: nil)
        else {
            Issue.record("hangs")
            return
        }
        let resumed = router.plan(
            .numbered(count: 9), for: request("/e", headers: ["Last-Event-ID": "4"]), live: false, attempt: 1,
            numberedHead: 4)
        guard case .stream(let resumedStream) = resumed else {
            Issue.record("streams")
            return
        }
        #expect(resumedStream.firstNumber == 5)
    }

    @Test("a body's limits: dropping after two events ends with the cut ending, after the second")
    func bodyLimits() {
        var body = ResponseBody(scenario: Scenario.numbered().droppingAfter(events: 2, with: .reset), gzip: false)
        #expect(body.start() == [])
        #expect(body.text(Array("a".utf8), isEvent: true) == [.write(Array("1\r\na\r\n".utf8))])
        #expect(body.text(Array("b".utf8), isEvent: true).last == .end(.reset))
        #expect(body.isEnding)
        #expect(body.text(Array("c".utf8), isEvent: true) == [])
    }
}
