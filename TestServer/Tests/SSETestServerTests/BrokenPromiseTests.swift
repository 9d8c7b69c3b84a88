import Foundation
import NIOCore
import SSEParser
import SSETestSupport
import Synchronization
import Testing

@testable import SSETestServer

// MARK: - Helpers

/// `text` as one chunk of a chunked body.
private func chunk(_ text: String) -> String {
    "\(String(text.utf8.count, radix: 16))\r\n\(text)\r\n"
}

/// What a raw exchange has received so far, recorded from its stop condition: the events of its
/// body (sent with `framing=close`, so the body is the event stream) and when each arrived.
private final class StreamWatch: Sendable {
    private struct State {
        var events: [ServerSentEvent] = []
        var arrivals: [String: ContinuousClock.Instant] = [:]
        var stopAt = Int.max
    }

    private let state = Mutex(State())

    /// Records everything received so far (head and body).
    func record(_ bytes: [UInt8]) {
        let now = ContinuousClock.now
        let marker = Array("\r\n\r\n".utf8)
        guard let headEnd = (0...max(bytes.count - 4, 0)).first(where: { bytes[$0...].starts(with: marker) }) else {
            return
        }
        var parser = EventStreamParser()
        let events = ((try? parser.parse(bytes[(headEnd + 4)...])) ?? []).compactMap { item in
            if case .event(let event) = item { event } else { nil }
        }
        state.withLock { state in
            for event in events.dropFirst(state.events.count) where state.arrivals[event.id] == nil {
                state.arrivals[event.id] = now
            }
            state.events = events
        }
    }

    /// The events received so far.
    var events: [ServerSentEvent] { state.withLock { $0.events } }

    /// The IDs received so far, as numbers.
    var ids: [Int] { events.compactMap { Int($0.id) } }

    /// The highest ID received so far; 0 before any.
    var highestID: Int { ids.max() ?? 0 }

    /// When the event with `id` arrived.
    func arrival(of id: Int) -> ContinuousClock.Instant? {
        state.withLock { $0.arrivals[String(id)] }
    }

    /// Records `bytes` and tells whether an ID of at least `id` has arrived: a stop condition.
    func record(_ bytes: [UInt8], until id: Int) -> Bool {
        record(bytes)
        return highestID >= id
    }

    /// Sets the ID that ``recordUntilStop(_:)`` stops at, once one at least as high has arrived.
    func stop(at id: Int) {
        state.withLock { $0.stopAt = id }
    }

    /// Records `bytes` and tells whether an ID of at least the one ``stop(at:)`` set has arrived.
    func recordUntilStop(_ bytes: [UInt8]) -> Bool {
        record(bytes)
        return highestID >= state.withLock { $0.stopAt }
    }

    /// Returns once an ID of at least `id` has arrived.
    func wait(for id: Int) async throws {
        try await waitUntil("an event with ID \(id) or above", timeout: .seconds(20)) { highestID >= id }
    }
}

/// A request for the pure tests.
private func request(_ target: String, headers: [String: String] = [:]) -> RecordedRequest {
    let (path, query) = HTTPResponseParts.split(target)
    return RecordedRequest(
        method: "GET",
        path: path,
        query: query,
        headers: headers.map { RecordedRequest.Header(name: $0.key, value: $0.value) },
        body: [],
        connection: 1,
        receivedAt: .now
    )
}

/// The text of a numbered event without its `id:` line.
private func dataOnly(_ n: Int) -> String {
    "data: \(n)\n\n"
}

// MARK: - Pure

@Suite("Broken promises: the pure parts (query, timeline, resumption, early IDs, hold-back, heads)")
struct BrokenPromisePureTests {
    static let examples: [Scenario] = [
        .numbered(interval: .milliseconds(100)).live(),
        .numbered().replaying(.repeatLast),
        .numbered().replaying(.skipOne).live(),
        .numbered().replaying(.newest),
        .numbered().sendingIDsEarly(every: 3),
        .numbered().holdingBack(events: 5),
        .numbered().holdingBack(bytes: 4096),
        .numbered().withoutCacheControl().withoutAccelBuffering(),
        .numbered().cacheControl("max-age=60").accelBuffering("yes"),
        .numbered().withoutHeartbeat(),
        .numbered().pausing(for: .seconds(3)),
        .numbered().pausing(for: .milliseconds(250), every: 4).heartbeat(every: .milliseconds(50)),
        .numbered().rejectingUnknownLastEventID(),
        .numbered().rejectingUnknownLastEventID(status: 404),
        .numbered().retrying(text: "1.5s"),
        .numbered().streamStatus(203),
    ]

    @Test("every broken scenario round-trips through its query", arguments: examples)
    func roundTrip(_ scenario: Scenario) throws {
        #expect(try Scenario(query: scenario.query) == scenario)
    }

    @Test("the query names are the documented ones")
    func queryNames() {
        let scenario = Scenario.numbered(interval: .milliseconds(100)).live().replaying(.skipOne)
            .sendingIDsEarly(every: 3).holdingBack(events: 2).holdingBack(bytes: 100).withoutCacheControl()
            .accelBuffering("yes").withoutHeartbeat().pausing(for: .seconds(3), every: 5)
            .rejectingUnknownLastEventID().retrying(text: "1.5s").streamStatus(203)
        #expect(
            scenario.query
                == "interval=100&heartbeat=none&live=1&replay=skip&earlyID=3&holdEvents=2&holdBytes=100"
                + "&cacheControl=none&accelBuffering=yes&silence=3000&silenceEvery=5&unknownID=500"
                + "&retryText=1.5s&streamStatus=203"
        )
        #expect(Scenario.numbered().replaying(.repeatLast).query == "replay=repeat")
        #expect(Scenario.numbered().replaying(.newest).query == "replay=newest")
        #expect(Scenario.numbered().replaying(.resume).query == "")
    }

    @Test("durations read whole milliseconds, and also ms and s suffixes")
    func durationSuffixes() throws {
        #expect(try Scenario(query: "interval=100ms").interval == .milliseconds(100))
        #expect(try Scenario(query: "interval=100").interval == .milliseconds(100))
        #expect(try Scenario(query: "silence=2s").silence == .seconds(2))
        #expect(try Scenario(query: "heartbeat=none").heartbeat == .zero)
        #expect(try Scenario(query: "cacheControl=none").cacheControl == .omitted)
        #expect(try Scenario(query: "cacheControl=private").cacheControl == .custom("private"))
    }

    @Test(
        "bad values are rejected with a message naming the parameter",
        arguments: [
            ("replay=sometimes", "replay"), ("earlyID=0", "earlyID"), ("holdEvents=0", "holdEvents"),
            ("holdBytes=x", "holdBytes"), ("silence=0", "silence"), ("silence=1.5s", "silence"),
            ("silenceEvery=0", "silenceEvery"), ("unknownID=200", "unknownID"), ("streamStatus=204", "streamStatus"),
            ("streamStatus=101", "streamStatus"), ("retryText=a%0Ab", "retryText"), ("live=2", "live"),
            ("interval=5m", "interval"),
        ]
    )
    func badValues(query: String, parameter: String) {
        #expect {
            try Scenario(query: query)
        } throws: { error in
            guard let error = error as? TestServerError else { return false }
            return error.code == .invalidScenario && error.description.contains(parameter)
        }
    }

    // MARK: The timeline

    @Test("the timeline: interval apart, a silence after every K-th number, as its table says")
    func timeline() {
        let timeline = NumberedTimeline(interval: .milliseconds(100), silence: .seconds(1), silenceEvery: 3)
        #expect(
            (1...7).map(timeline.time(of:)) == [100, 200, 300, 1400, 1500, 1600, 2700].map { .milliseconds($0) })
        #expect(timeline.dueCount(at: .zero) == 0)
        #expect(timeline.dueCount(at: .milliseconds(99)) == 0)
        #expect(timeline.dueCount(at: .milliseconds(1399)) == 3)
        #expect(timeline.dueCount(at: .milliseconds(1400)) == 4)
        // 76 periods of 1.3 s (three events and a silence), then 1.2 s: three more.
        #expect(timeline.dueCount(at: .seconds(100)) == 231)
    }

    @Test(
        "dueCount is the inverse of time(of:), with and without silences",
        arguments: [
            NumberedTimeline(interval: .milliseconds(7)),
            NumberedTimeline(interval: .milliseconds(100), silence: .milliseconds(333), silenceEvery: 4),
            NumberedTimeline(interval: .nanoseconds(1), silence: .seconds(1), silenceEvery: 1),
        ]
    )
    func dueCountInvertsTime(_ timeline: NumberedTimeline) {
        for n in 1...60 {
            #expect(timeline.dueCount(at: timeline.time(of: n)) == n)
            #expect(timeline.dueCount(at: timeline.time(of: n) - .nanoseconds(1)) == n - 1)
        }
    }

    @Test("a script on a live timeline sends what is due at once, then waits for each event's time")
    func liveScript() {
        let scenario = Scenario.numbered(count: 6).live()
        let timeline = NumberedTimeline(interval: .milliseconds(100), silence: .milliseconds(50), silenceEvery: 5)
        // Joined 420 ms after the epoch, resuming after event 2: events 3 and 4 are due already.
        var script = StreamScript(
            prefix: [],
            events: .numbered(next: 3, last: 6, scenario: scenario),
            timeline: timeline,
            heartbeat: nil,
            offset: .milliseconds(420)
        )
        var steps: [StreamScript.Step] = []
        while steps.last != .end { steps.append(script.next()) }
        #expect(
            steps == [
                .text(Array("id: 3\ndata: 3\n\n".utf8), isEvent: true),
                .text(Array("id: 4\ndata: 4\n\n".utf8), isEvent: true),
                .wait(.milliseconds(80)),
                .text(Array("id: 5\ndata: 5\n\n".utf8), isEvent: true),
                // Event 6 follows a silence: 600 + 50 ms after the epoch.
                .wait(.milliseconds(150)),
                .text(Array("id: 6\ndata: 6\n\n".utf8), isEvent: true),
                .end,
            ])
        #expect(script.clock == .milliseconds(230))
    }

    // MARK: Resumption

    @Test(
        "a Last-Event-ID read through each replay",
        arguments: [
            (nil, Scenario.Replay.resume, 9, Resumption.fresh), ("4", .resume, 9, .from(5)),
            ("4", .repeatLast, 9, .from(4)),
            ("4", .skipOne, 9, .from(6)), ("4", .newest, 9, .newest), ("0", .repeatLast, 9, .from(1)),
            ("9", .skipOne, 9, .from(11)), ("10", .resume, 9, .unknown), ("abc", .resume, 9, .unknown),
            ("-1", .resume, 9, .unknown), ("", .resume, 9, .unknown), (nil, .newest, 9, .fresh),
        ] as [(String?, Scenario.Replay, Int, Resumption)]
    )
    func resumption(lastEventID: String?, replay: Scenario.Replay, newest: Int, expected: Resumption) {
        #expect(Resumption(lastEventID: lastEventID, replay: replay, newest: newest) == expected)
    }

    @Test("without a newest ID every number is an ID, up to the largest one that cannot overflow")
    func everyNumber() {
        #expect(Resumption(lastEventID: "123456", replay: .resume, newest: nil) == .from(123_457))
        #expect(Resumption(lastEventID: String(Int.max), replay: .skipOne, newest: nil) == .unknown)
    }

    @Test("where the numbered stream starts: replays, a live stream's due events, unknown IDs")
    func firstNumber() {
        func first(_ id: String?, _ scenario: Scenario, head: Int? = nil, due: Int? = nil) -> Int? {
            Resumption.firstNumber(lastEventID: id, scenario: scenario, head: head, due: due)
        }
        let numbered = Scenario.numbered()
        #expect(first("4", numbered.replaying(.repeatLast)) == 4)
        #expect(first("4", numbered.replaying(.skipOne)) == 6)
        #expect(first("4", numbered.replaying(.newest), head: 12) == 13)
        #expect(first("4", numbered.replaying(.newest)) == 1)
        // The numbered stream takes any number by default, and starts a non-number at 1.
        #expect(first("400", numbered, head: 3) == 401)
        #expect(first("x", numbered, head: 3) == 1)
        // Refusing unknown IDs, it knows only what it has sent under the key (and no more than count).
        let strict = numbered.rejectingUnknownLastEventID()
        #expect(first("3", strict, head: 3) == 4)
        #expect(first("4", strict, head: 3) == nil)
        #expect(first("3", strict) == nil)
        #expect(first("x", strict, head: 3) == nil)
        var counted = Scenario.numbered(count: 2).rejectingUnknownLastEventID()
        #expect(first("3", counted, head: 5) == nil)
        counted.unknownIDStatus = nil
        #expect(first("3", counted, head: 5) == 4)
        // Live: a fresh connection, an unknown ID and newest start after what is due.
        let live = numbered.live()
        #expect(first(nil, live, due: 7) == 8)
        #expect(first("99", live, due: 7) == 8)
        #expect(first("3", live.replaying(.newest), due: 7) == 8)
        #expect(first("3", live, due: 7) == 4)
        #expect(first("99", live.rejectingUnknownLastEventID(), due: 7) == nil)
        var bounded = live
        bounded.history = 2
        #expect(first("3", bounded, due: 7) == 6)
    }

    @Test("where the hub starts a subscriber")
    func hubStart() {
        func start(_ id: String?, _ scenario: Scenario, newest: Int = 5) -> HubStart {
            Resumption.hubStart(lastEventID: id, scenario: scenario, newest: newest)
        }
        #expect(start(nil, Scenario()) == .newOnly)
        #expect(start("3", Scenario()) == .after(3))
        #expect(start("3", Scenario().replaying(.repeatLast)) == .after(2))
        #expect(start("5", Scenario().replaying(.skipOne)) == .after(6))
        #expect(start("3", Scenario().replaying(.newest)) == .newOnly)
        #expect(start("9", Scenario()) == .newOnly)
        #expect(start("9", Scenario().rejectingUnknownLastEventID()) == .refused)
        #expect(start("x", Scenario().rejectingUnknownLastEventID()) == .refused)
        #expect(start("5", Scenario().rejectingUnknownLastEventID()) == .after(5))
    }

    @Test("the hub replays after a cursor, and a cursor past its newest ID skips what comes next")
    func hubCursor() {
        let hub = BroadcastHub(capacity: 10)
        for n in 1...3 { _ = hub.publish(data: "m\(n)", type: nil) }
        let received = Mutex<[String]>([])
        #expect(hub.subscribe(1, after: 1) { _ in }.map(\.id) == ["2", "3"])
        #expect(hub.subscribe(2, after: nil) { _ in }.isEmpty)
        #expect(hub.subscribe(3, after: 4) { event in received.withLock { $0.append(event.id) } }.isEmpty)
        for n in 4...6 { _ = hub.publish(data: "m\(n)", type: nil) }
        #expect(received.withLock { $0 } == ["5", "6"])
        #expect(hub.newestID == 6)
    }

    // MARK: Early IDs

    @Test("early IDs: every K-th event's ID on an id-only block after the event before it")
    func earlyIDs() {
        var writer = EventWriter(earlyIDEvery: 3)
        let text = (1...7).map { writer.write(Scenario().numberedEvent($0)) }.joined()
        #expect(
            text
                == "id: 1\ndata: 1\n\nid: 2\ndata: 2\n\nid: 3\n\n" + dataOnly(3)
                + "id: 4\ndata: 4\n\nid: 5\ndata: 5\n\nid: 6\n\n" + dataOnly(6) + "id: 7\ndata: 7\n\n")
        // A reader's cursor is 3 before event 3 has arrived.
        var parser = EventStreamParser()
        let items = try? parser.parse(Array("id: 1\ndata: 1\n\nid: 2\ndata: 2\n\nid: 3\n\n".utf8))
        #expect(items?.count == 2)
        #expect(parser.lastEventID == "3")
    }

    @Test("an event that its predecessor did not precede keeps its ID")
    func earlyIDsFirstEvent() {
        var writer = EventWriter(earlyIDEvery: 3)
        #expect(writer.write(Scenario().numberedEvent(3)) == "id: 3\ndata: 3\n\n")
        #expect(writer.write(Scenario().numberedEvent(5)) == "id: 5\ndata: 5\n\nid: 6\n\n")
        #expect(writer.write(Scenario().numberedEvent(9)) == "id: 9\ndata: 9\n\n")
        var plain = EventWriter(earlyIDEvery: nil)
        #expect(plain.write(Scenario().numberedEvent(2)) == "id: 2\ndata: 2\n\n")
    }

    // MARK: Hold-back

    @Test("holding back events: comments wait with them, N events go out in one write")
    func holdEvents() {
        var scenario = Scenario().holdingBack(events: 2)
        scenario.framing = .connectionClose
        var encoder = BodyEncoder(scenario: scenario, gzip: false)
        #expect(encoder.encode(Array("e1\n\n".utf8), isEvent: true) == [])
        #expect(encoder.encode(Array(":\n".utf8)) == [])
        #expect(encoder.encode(Array("e2\n\n".utf8), isEvent: true) == [.write(Array("e1\n\n:\ne2\n\n".utf8))])
        #expect(encoder.encode(Array("e3\n\n".utf8), isEvent: true) == [])
        #expect(encoder.flush() == [.write(Array("e3\n\n".utf8))])
        #expect(encoder.flush() == [])
    }

    @Test("holding back bytes: pieces of exactly B bytes, cut wherever they fall")
    func holdBytes() {
        var encoder = BodyEncoder(scenario: Scenario().holdingBack(bytes: 4), gzip: false)
        #expect(encoder.encode(Array("abc".utf8)) == [])
        #expect(
            encoder.encode(Array("defghij".utf8)) == [
                .write(Array("4\r\nabcd\r\n".utf8)), .write(Array("4\r\nefgh\r\n".utf8)),
            ])
        #expect(encoder.flush() == [.write(Array("2\r\nij\r\n".utf8))])
    }

    @Test("what is held goes out before the response ends, however it ends")
    func holdThenEnd() {
        let scenario = Scenario().holdingBack(events: 5).droppingAfter(events: 2, with: .reset)
        var body = ResponseBody(scenario: scenario, gzip: false)
        #expect(body.text(Array("a".utf8), isEvent: true) == [])
        #expect(body.text(Array("b".utf8), isEvent: true) == [.write(Array("2\r\nab\r\n".utf8)), .end(.reset)])
        var finishing = ResponseBody(scenario: Scenario().holdingBack(events: 5), gzip: false)
        #expect(finishing.text(Array("a".utf8), isEvent: true) == [])
        #expect(
            finishing.end(cut: false) == [
                .write(Array("1\r\na\r\n".utf8)), .write(Array("0\r\n\r\n".utf8)), .end(.finish),
            ])
    }

    // MARK: Heads and prefixes

    private func streamPlan(
        _ scenario: Scenario,
        _ target: String = "/events",
        headers: [String: String] = [:],
        live: Bool = false,
        hubNewest: Int = 0
    ) -> StreamPlan? {
        let plan = Router(configuration: .init()).plan(
            scenario, for: request(target, headers: headers), live: live, attempt: 1, numberedHead: nil,
            hubNewest: hubNewest)
        guard case .stream(let stream) = plan else { return nil }
        return stream
    }

    private func head(_ scenario: Scenario) -> String {
        streamPlan(scenario).map { String(decoding: $0.head, as: UTF8.self) } ?? ""
    }

    @Test("the default head: Cache-Control no-cache and X-Accel-Buffering no; each can be omitted or changed")
    func heads() {
        #expect(
            head(Scenario())
                == "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                + "X-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        #expect(!head(Scenario().withoutCacheControl()).contains("Cache-Control"))
        #expect(head(Scenario().cacheControl("max-age=60")).contains("\r\nCache-Control: max-age=60\r\n"))
        #expect(!head(Scenario().withoutAccelBuffering()).contains("X-Accel-Buffering"))
        #expect(head(Scenario().accelBuffering("yes")).contains("\r\nX-Accel-Buffering: yes\r\n"))
        #expect(head(Scenario().streamStatus(203)).hasPrefix("HTTP/1.1 203 Non-Authoritative Information\r\n"))
        #expect(head(Scenario().gzip(.always)).contains("\r\nContent-Encoding: gzip\r\n"))
        let declared = head(Scenario().declaringContentLength(100))
        #expect(declared.contains("\r\nContent-Length: 100\r\n") && !declared.contains("Transfer-Encoding"))
    }

    @Test("a raw retry text replaces the retry field, on the numbered stream and the hub")
    func retryText() {
        let scenario = Scenario.numbered().retrying(after: .seconds(1)).retrying(text: "1.5s")
        guard case .script(var script) = streamPlan(scenario)?.source else {
            Issue.record("streams a script")
            return
        }
        #expect(script.next() == .text(Array("retry: 1.5s\n".utf8), isEvent: false))
        guard case .live(let prefix, _, _, _) = streamPlan(scenario, "/subscribe", live: true)?.source else {
            Issue.record("streams the hub")
            return
        }
        #expect(prefix == Array("retry: 1.5s\n".utf8))
    }

    @Test("heartbeat=none sends none, even when the configuration has an interval")
    func noHeartbeat() {
        let router = Router(configuration: .init(heartbeatInterval: .milliseconds(10)))
        let plan = router.plan(
            .numbered(count: 1, interval: .milliseconds(50)).withoutHeartbeat(), for: request("/events"), live: false,
            attempt: 1, numberedHead: nil)
        guard case .stream(let stream) = plan, case .script(var script) = stream.source else {
            Issue.record("streams a script")
            return
        }
        #expect(script.next() == .text(Array("id: 1\ndata: 1\n\n".utf8), isEvent: true))
        #expect(script.next() == .end)
        guard case .live(_, _, let heartbeat, _) = streamPlan(Scenario().withoutHeartbeat(), live: true)?.source else {
            Issue.record("streams the hub")
            return
        }
        #expect(heartbeat == nil)
    }

    @Test("an unknown Last-Event-ID under unknownID gets that status; a live stream needs an interval")
    func refusals() {
        let router = Router(configuration: .init())
        let strict = Scenario.numbered().rejectingUnknownLastEventID()
        let strictLive = Scenario.numbered(interval: .seconds(1)).live().rejectingUnknownLastEventID()
        for (scenario, live) in [(strict, false), (strict, true), (strictLive, false)] {
            let plan = router.plan(
                scenario, for: request("/events", headers: ["Last-Event-ID": "abc"]), live: live, attempt: 1,
                numberedHead: 4)
            guard case .respond(let response) = plan else {
                Issue.record("refused")
                continue
            }
            #expect(response.status == 500)
            #expect(String(decoding: response.body, as: UTF8.self).contains("Last-Event-ID 'abc'"))
        }
        guard
            case .respond(let response) = router.plan(
                .numbered().live(), for: request("/events"), live: false, attempt: 1, numberedHead: nil)
        else {
            Issue.record("a live stream without an interval is refused")
            return
        }
        #expect(response.status == 400)
        #expect(String(decoding: response.body, as: UTF8.self).contains("live=1"))
    }

    @Test("a live plan starts after what is due on its key's clock, anchored at the request")
    func livePlan() {
        let epoch = NIODeadline.uptimeNanoseconds(1_000_000_000)
        let clock = LiveClock(epoch: epoch, now: epoch + .milliseconds(350))
        let router = Router(configuration: .init())
        let scenario = Scenario.numbered(interval: .milliseconds(100)).live()
        for (headers, first) in [([:], 4), (["Last-Event-ID": "1"], 2), (["Last-Event-ID": "9"], 4)] {
            let plan = router.plan(
                scenario, for: request("/events", headers: headers), live: false, attempt: 2, numberedHead: nil,
                clock: clock)
            guard case .stream(let stream) = plan else {
                Issue.record("streams")
                continue
            }
            #expect(stream.firstNumber == first)
            #expect(stream.anchor == clock.now)
        }
    }
}

// MARK: - On the wire

@Suite(
    "Broken promises on the wire: each scenario breaks one promise, on the numbered stream and the hub",
    .timeLimit(.minutes(1)))
struct BrokenPromiseWireTests {
    // MARK: Headers

    @Test("the well-behaved stream and hub send Cache-Control: no-cache and X-Accel-Buffering: no")
    func defaultHeaders() async throws {
        try await TestServer.withRunning { server in
            let stream = try await RawHTTPClient.exchange(port: server.port, .get("/events?interval=20")) {
                String(decoding: $0, as: UTF8.self).contains("data: 1\n")
            }
            let hub = try await RawHTTPClient.exchange(port: server.port, .get("/subscribe")) {
                String(decoding: $0, as: UTF8.self).contains("\r\n\r\n")
            }
            for response in [stream, hub] {
                #expect(response.status == 200)
                #expect(response.header("Cache-Control") == "no-cache")
                #expect(response.header("X-Accel-Buffering") == "no")
                #expect(response.header("Content-Length") == nil)
                #expect(response.header("Content-Encoding") == nil)
            }
        }
    }

    @Test(
        "cacheControl and accelBuffering: none omits the header, any other value replaces it",
        arguments: ["/events?interval=20&", "/subscribe?"]
    )
    func headerFaults(path: String) async throws {
        try await TestServer.withRunning { server in
            let head: @Sendable ([UInt8]) -> Bool = { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
            let omitted = try await RawHTTPClient.exchange(
                port: server.port, .get(path + "cacheControl=none&accelBuffering=none"), stop: head)
            #expect(omitted.status == 200)
            #expect(omitted.header("Cache-Control") == nil)
            #expect(omitted.header("X-Accel-Buffering") == nil)
            let changed = try await RawHTTPClient.exchange(
                port: server.port, .get(path + "cacheControl=max-age%3D60&accelBuffering=yes"), stop: head)
            #expect(changed.header("Cache-Control") == "max-age=60")
            #expect(changed.header("X-Accel-Buffering") == "yes")
        }
    }

    @Test("streamStatus=203: the stream itself, under a status other than 200")
    func streamStatus() async throws {
        try await TestServer.withRunning { server in
            let stream = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=2&streamStatus=203"))
            #expect(stream.status == 203)
            #expect(stream.header("Content-Type") == "text/event-stream")
            #expect(stream.text == numberedText(1...2))
            async let hub = RawHTTPClient.exchange(port: server.port, .get("/subscribe?streamStatus=203&dropAfter=1"))
            try await server.waitForSubscribers(count: 1)
            try await server.publish("m1")
            #expect(try await hub.status == 203)
            #expect(try await hub.text == "id: 1\ndata: m1\n\n")
        }
    }

    @Test("contentLength=N on an endless stream: the header, no chunks, and never more than N bytes")
    func contentLengthOnEndlessStream() async throws {
        try await TestServer.withRunning { server in
            let cut = try await RawHTTPClient.exchange(port: server.port, .get("/events?contentLength=40"))
            #expect(cut.header("Content-Length") == "40")
            #expect(cut.header("Transfer-Encoding") == nil)
            #expect(cut.wireBody == Array(numberedText(1...10).utf8.prefix(40)))
            #expect(cut.ending == .fin)
            // A length no stream reaches: the stream streams on.
            let endless = try await RawHTTPClient.exchange(
                port: server.port, .get("/events?interval=10&contentLength=10000000000")
            ) { String(decoding: $0, as: UTF8.self).contains("data: 5\n\n") }
            #expect(endless.header("Content-Length") == "10000000000")
            #expect(String(decoding: endless.wireBody, as: UTF8.self).hasPrefix(numberedText(1...5)))
            async let hub = RawHTTPClient.exchange(port: server.port, .get("/subscribe?contentLength=10000000000")) {
                String(decoding: $0, as: UTF8.self).contains("data: m1\n\n")
            }
            try await server.waitForSubscribers(count: 1)
            try await server.publish("m1")
            #expect(try await hub.header("Content-Length") == "10000000000")
            #expect(try await String(decoding: hub.wireBody, as: UTF8.self) == "id: 1\ndata: m1\n\n")
        }
    }

    @Test("gzip=always: Content-Encoding gzip to a request that did not ask for it", .enabled(if: gzipPath != nil))
    func forcedCompression() async throws {
        try await TestServer.withRunning { server in
            let stream = try await RawHTTPClient.exchange(
                port: server.port, .get("/events?interval=5&gzip=always&dropAfter=3&end=finish"))
            #expect(stream.header("Content-Encoding") == "gzip")
            #expect(try await gunzip(stream.body.bytes) == Array(numberedText(1...3).utf8))
            async let hub = RawHTTPClient.exchange(
                port: server.port, .get("/subscribe?gzip=always&dropAfter=1&end=finish"))
            try await server.waitForSubscribers(count: 1)
            try await server.publish("m1")
            let response = try await hub
            #expect(response.header("Content-Encoding") == "gzip")
            #expect(try await gunzip(response.body.bytes) == Array("id: 1\ndata: m1\n\n".utf8))
        }
    }

    // MARK: Heartbeats and silences

    @Test("heartbeat=none: no comments on the numbered stream although the configuration has a heartbeat")
    func noHeartbeatNumbered() async throws {
        let configuration = TestServer.Configuration(heartbeatInterval: .milliseconds(10))
        try await TestServer.withRunning(configuration: configuration) { server in
            let target = "/events?count=3&interval=60"
            let with = try await RawHTTPClient.exchange(port: server.port, .get(target))
            #expect(try parsedComments(with.text).count >= 8)
            let without = try await RawHTTPClient.exchange(port: server.port, .get(target + "&heartbeat=none"))
            #expect(without.text == numberedText(1...3))
        }
    }

    @Test("heartbeat=none on the hub: no comment, while another subscriber got two")
    func noHeartbeatHub() async throws {
        let configuration = TestServer.Configuration(heartbeatInterval: .milliseconds(10))
        try await TestServer.withRunning(configuration: configuration) { server in
            async let quiet = RawHTTPClient.exchange(port: server.port, .get("/subscribe?heartbeat=none&framing=close"))
            {
                String(decoding: $0, as: UTF8.self).contains("data: m1\n\n")
            }
            try await server.waitForSubscribers(count: 1)
            // The second subscriber's heartbeats show that time for some passed on the first.
            let control = try await RawHTTPClient.exchange(port: server.port, .get("/subscribe?framing=close")) {
                String(decoding: $0, as: UTF8.self).hasSuffix(":\n:\n")
            }
            #expect(control.ending == .stoppedByClient)
            try await server.publish("m1")
            #expect(try await String(decoding: quiet.wireBody, as: UTF8.self) == "id: 1\ndata: m1\n\n")
        }
    }

    @Test("silence=MS every K events: a pause after every K-th event, filled by heartbeats when there are any")
    func silences() async throws {
        try await TestServer.withRunning { server in
            let watch = StreamWatch()
            // Events 1 and 2 at 0 and 10 ms, then 300 ms of silence: 3 and 4 at 320 and 330 ms.
            let target = "/events?count=4&interval=10&silence=300&silenceEvery=2&framing=close"
            let start = ContinuousClock.now
            let silent = try await RawHTTPClient.exchange(port: server.port, .get(target)) { bytes in
                watch.record(bytes)
                return false
            }
            #expect(String(decoding: silent.wireBody, as: UTF8.self) == numberedText(1...4))
            // The server cannot send event 3 before its time (when it arrives after that is the machine's business).
            #expect(try #require(watch.arrival(of: 3)) - start >= .milliseconds(320))

            // With heartbeats every 100 ms, three fall into the silence.
            let filled = try await RawHTTPClient.exchange(port: server.port, .get(target + "&heartbeat=100"))
            #expect(
                String(decoding: filled.wireBody, as: UTF8.self) == numberedText(1...2) + ":\n:\n:\n"
                    + numberedText(3...4))
        }
    }

    // MARK: Buffering

    @Test("holdEvents=N: N events per write, the rest flushed at the end; heartbeats held with them")
    func holdEvents() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(
                port: server.port, .get("/events?count=7&interval=5&holdEvents=3"))
            #expect(
                String(decoding: response.wireBody, as: UTF8.self)
                    == chunk(numberedText(1...3)) + chunk(numberedText(4...6)) + chunk(numberedText(7...7))
                    + "0\r\n\r\n")
            let held = try await RawHTTPClient.exchange(
                port: server.port, .get("/events?count=2&interval=100&heartbeat=30&holdEvents=2"))
            #expect(
                String(decoding: held.wireBody, as: UTF8.self)
                    == chunk(numberedText(1...1) + ":\n:\n:\n" + numberedText(2...2)) + "0\r\n\r\n")
        }
    }

    @Test("holdBytes=B: writes of exactly B bytes, cut mid-event")
    func holdBytes() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=3&holdBytes=10"))
            let text = numberedText(1...3)
            let pieces = stride(from: 0, to: text.utf8.count, by: 10).map { start in
                String(decoding: Array(text.utf8)[start..<min(start + 10, text.utf8.count)], as: UTF8.self)
            }
            #expect(String(decoding: response.wireBody, as: UTF8.self) == pieces.map(chunk).joined() + "0\r\n\r\n")
        }
    }

    @Test("holdEvents on the hub: the replay and the messages wait for N, the end flushes the rest")
    func holdEventsHub() async throws {
        try await TestServer.withRunning { server in
            try await server.publish("m1")
            async let response = RawHTTPClient.exchange(
                port: server.port,
                .get("/subscribe?holdEvents=2&dropAfter=3&end=finish", headers: ["Last-Event-ID: 0"])
            )
            try await server.waitForSubscribers(count: 1)
            try await server.publish("m2")
            try await server.publish("m3")
            let wire = String(decoding: try await response.wireBody, as: UTF8.self)
            #expect(
                wire == chunk("id: 1\ndata: m1\n\nid: 2\ndata: m2\n\n") + chunk("id: 3\ndata: m3\n\n") + "0\r\n\r\n")
        }
    }

    // MARK: IDs

    @Test("earlyID=K: the ID on an id-only block before its event; a client that resumes from it loses the event")
    func earlyIDs() async throws {
        try await TestServer.withRunning { server in
            let whole = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=6&earlyID=3"))
            #expect(
                whole.text
                    == numberedText(1...2) + "id: 3\n\n" + dataOnly(3) + numberedText(4...5) + "id: 6\n\n" + dataOnly(6)
            )

            // A client that drops once it has the block, before event 3 arrives, resumes after 3.
            let block = "id: 3\n\n"
            let target = "/events?interval=200&earlyID=3&framing=close"
            let dropped = try await RawHTTPClient.exchange(port: server.port, .get(target)) {
                String(decoding: $0, as: UTF8.self).contains(block)
            }
            let received = String(decoding: dropped.wireBody, as: UTF8.self)
            let upToBlock = try #require(received.range(of: block).map { String(received[..<$0.upperBound]) })
            var parser = EventStreamParser()
            let events = try parser.parse(Array(upToBlock.utf8)).compactMap { item in
                if case .event(let event) = item { event } else { nil }
            }
            #expect(events.map(\.data) == ["1", "2"])
            #expect(parser.lastEventID == "3")
            let resumed = try await RawHTTPClient.exchange(
                port: server.port, .get(target, headers: ["Last-Event-ID: \(parser.lastEventID)"])
            ) { String(decoding: $0, as: UTF8.self).contains("data: 4\n\n") }
            #expect(String(decoding: resumed.wireBody, as: UTF8.self).hasPrefix("id: 4\ndata: 4\n\n"))
        }
    }

    @Test("earlyID=K on the hub: the next ID goes out before the message it belongs to is published")
    func earlyIDsHub() async throws {
        try await TestServer.withRunning { server in
            let watch = StreamWatch()
            async let response = RawHTTPClient.exchange(port: server.port, .get("/subscribe?earlyID=2&framing=close")) {
                watch.record($0)
                return String(decoding: $0, as: UTF8.self).hasSuffix("data: m3\n\nid: 4\n\n")
            }
            try await server.waitForSubscribers(count: 1)
            for n in 1...3 { try await server.publish("m\(n)") }
            #expect(
                try await String(decoding: response.wireBody, as: UTF8.self)
                    == "id: 1\ndata: m1\n\nid: 2\n\ndata: m2\n\nid: 3\ndata: m3\n\nid: 4\n\n")
            #expect(watch.events.map(\.id) == ["1", "2", "3"])
        }
    }

    @Test("retryText=TEXT: a retry field whose value is not digits, on the numbered stream and the hub")
    func retryText() async throws {
        try await TestServer.withRunning { server in
            let stream = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=1&retryText=1.5s"))
            #expect(stream.text == "retry: 1.5s\n" + numberedText(1...1))
            async let hub = RawHTTPClient.exchange(port: server.port, .get("/subscribe?retryText=abc&dropAfter=1"))
            try await server.waitForSubscribers(count: 1)
            try await server.publish("m1")
            #expect(try await hub.text == "retry: abc\nid: 1\ndata: m1\n\n")
        }
    }

    // MARK: Unknown IDs

    @Test("an unknown Last-Event-ID gets a 200 stream by default: from the start, or as a fresh subscriber")
    func unknownIDDefault() async throws {
        try await TestServer.withRunning { server in
            let numbered = try await RawHTTPClient.exchange(
                port: server.port, .get("/events?count=2", headers: ["Last-Event-ID: no-such-id"]))
            #expect(numbered.status == 200)
            #expect(numbered.text == numberedText(1...2))
            try await server.publish("m1")
            async let hub = RawHTTPClient.exchange(
                port: server.port, .get("/subscribe?dropAfter=1", headers: ["Last-Event-ID: 99"]))
            try await server.waitForSubscribers(count: 1)
            try await server.publish("m2")
            #expect(try await hub.status == 200)
            #expect(try await hub.text == "id: 2\ndata: m2\n\n")
        }
    }

    @Test("unknownID=500: a 500 for an ID never issued, a stream for one that was")
    func unknownIDRefused() async throws {
        try await TestServer.withRunning { server in
            let target = "/events?count=5&unknownID=500"
            for id in ["abc", "3"] {
                let refused = try await RawHTTPClient.exchange(
                    port: server.port, .get(target, headers: ["Last-Event-ID: \(id)"]))
                #expect(refused.status == 500)
                #expect(String(decoding: refused.wireBody, as: UTF8.self).contains("Last-Event-ID '\(id)'"))
            }
            let first = try await RawHTTPClient.exchange(port: server.port, .get(target))
            #expect(first.text == numberedText(1...5))
            let resumed = try await RawHTTPClient.exchange(
                port: server.port, .get(target, headers: ["Last-Event-ID: 3"]))
            #expect(resumed.text == numberedText(4...5))

            for n in 1...2 { try await server.publish("m\(n)") }
            let future = try await RawHTTPClient.exchange(
                port: server.port, .get("/subscribe?unknownID=500", headers: ["Last-Event-ID: 7"]))
            #expect(future.status == 500)
            let known = try await RawHTTPClient.exchange(
                port: server.port, .get("/subscribe?unknownID=500", headers: ["Last-Event-ID: 1"])
            ) { String(decoding: $0, as: UTF8.self).contains("data: m2\n\n") }
            #expect(known.text == "id: 2\ndata: m2\n\n")
            let live = try await RawHTTPClient.exchange(
                port: server.port, .get("/events?live=1&interval=50&unknownID=500", headers: ["Last-Event-ID: 1000"]))
            #expect(live.status == 500)
        }
    }

    // MARK: Replay, numbered stream

    @Test(
        "a reconnect with Last-Event-ID: n starts at n + 1, or n (repeat), or n + 2 (skip)",
        arguments: [(Scenario.Replay.resume, 4), (.repeatLast, 3), (.skipOne, 5)]
    )
    func replayNumbered(replay: Scenario.Replay, first: Int) async throws {
        try await TestServer.withRunning { server in
            let target = "/events?count=10&dropAfter=3&replay=\(replay.rawValue)"
            let dropped = try await RawHTTPClient.exchange(port: server.port, .get(target))
            #expect(dropped.text == numberedText(1...3))
            #expect(dropped.ending == .fin)
            let resumed = try await RawHTTPClient.exchange(
                port: server.port, .get(target, headers: ["Last-Event-ID: 3"]))
            #expect(resumed.text == numberedText(first...(first + 2)))
        }
    }

    @Test("replay=newest on the numbered stream: a reconnect continues after the highest number sent under the key")
    func replayNewestNumbered() async throws {
        try await TestServer.withRunning { server in
            let target = "/events?count=20&dropAfter=3&replay=newest"
            _ = try await RawHTTPClient.exchange(port: server.port, .get(target))
            // Another client got further: the reconnect follows it, not its own cursor.
            let ahead = try await RawHTTPClient.exchange(port: server.port, .get(target, headers: ["Last-Event-ID: 5"]))
            #expect(ahead.text == numberedText(4...6))
            let resumed = try await RawHTTPClient.exchange(
                port: server.port, .get(target, headers: ["Last-Event-ID: 3"]))
            #expect(resumed.text == numberedText(7...9))
        }
    }

    // MARK: Replay, hub

    @Test(
        "the hub replays after n, from n (repeat), after n + 1 (skip), or nothing (newest)",
        arguments: [
            (Scenario.Replay.resume, "m4 m5"), (.repeatLast, "m3 m4 m5"), (.skipOne, "m5"), (.newest, "m6"),
        ]
    )
    func replayHub(replay: Scenario.Replay, expected: String) async throws {
        try await TestServer.withRunning { server in
            for n in 1...5 { try await server.publish("m\(n)") }
            async let response = RawHTTPClient.exchange(
                port: server.port, .get("/subscribe?replay=\(replay.rawValue)", headers: ["Last-Event-ID: 3"])
            ) { String(decoding: $0, as: UTF8.self).contains("data: m6\n\n") }
            try await server.waitForSubscribers(count: 1)
            try await server.publish("m6")
            let received = try parsedEvents(try await response.text).map(\.data)
            #expect(received == expected.split(separator: " ").map(String.init) + (replay == .newest ? [] : ["m6"]))
        }
    }

    @Test("replay=skip from the hub's newest ID: the next message is never sent to that subscriber")
    func skipNextHub() async throws {
        try await TestServer.withRunning { server in
            for n in 1...2 { try await server.publish("m\(n)") }
            async let response = RawHTTPClient.exchange(
                port: server.port, .get("/subscribe?replay=skip", headers: ["Last-Event-ID: 2"])
            ) { String(decoding: $0, as: UTF8.self).contains("data: m4\n\n") }
            try await server.waitForSubscribers(count: 1)
            for n in 3...4 { try await server.publish("m\(n)") }
            #expect(try await response.text == "id: 4\ndata: m4\n\n")
        }
    }

    // MARK: Live

    // The live tests let the clock, not the machine, decide: each connection reads until a stop
    // set once the others have what they need, so a busy machine makes them slower, not wrong.

    @Test("live=1: two connections see the same IDs at the same time; a later one starts at the present")
    func liveSharedClock() async throws {
        try await TestServer.withRunning { server in
            let interval = 100
            let target = "/events?live=1&interval=\(interval)&framing=close"
            let first = StreamWatch()
            let second = StreamWatch()
            async let a = RawHTTPClient.exchange(port: server.port, .get(target), timeout: .seconds(40)) {
                first.recordUntilStop($0)
            }
            try await first.wait(for: 3)
            async let b = RawHTTPClient.exchange(port: server.port, .get(target), timeout: .seconds(40)) {
                second.recordUntilStop($0)
            }
            try await second.wait(for: first.highestID + 1)
            let last = max(first.highestID, second.highestID) + 2
            first.stop(at: last)
            second.stop(at: last)
            _ = try await (a, b)
            // The first request started the clock, so its stream starts at 1.
            #expect(first.ids == Array(1...first.highestID))
            // The second joined after event 3 was due: it starts later, with nothing from the past.
            let start = try #require(second.ids.first)
            #expect(start >= 4)
            #expect(second.ids == Array(start...second.highestID))
            #expect(
                second.events.filter { Int($0.id)! <= last }
                    == first.events.filter { Int($0.id)! >= start && Int($0.id)! <= last })
            // It starts at the number the clock showed when its request arrived, by the server's own
            // time: the clock is shared, whenever a client gets to read.
            let requests = server.requests
            let joined = requests[1].receivedAt - requests[0].receivedAt
            let due = Int(joined / .milliseconds(interval))
            #expect((due - 1...due + 1).contains(start - 1), "joined \(joined) after the first, started at \(start)")
        }
    }

    @Test(
        "live=1 with a witness: Last-Event-ID n gets n + 1 (resume), n (repeat), n + 2 (skip), or the present (newest)",
        arguments: Scenario.Replay.allCases
    )
    func liveResume(replay: Scenario.Replay) async throws {
        try await TestServer.withRunning { server in
            let target = "/events?live=1&interval=60&framing=close&replay=\(replay.rawValue)"
            let witness = StreamWatch()
            async let watched = RawHTTPClient.exchange(port: server.port, .get(target), timeout: .seconds(40)) {
                witness.recordUntilStop($0)
            }
            try await witness.wait(for: 1)
            // A client that joins, reads a few events and drops.
            let dropping = StreamWatch()
            let dropped = try await RawHTTPClient.exchange(port: server.port, .get(target), timeout: .seconds(40)) {
                dropping.record($0)
                return dropping.ids.count >= 3
            }
            #expect(dropped.ending == .stoppedByClient)
            let n = dropping.highestID
            // Before it reconnects, the witness has seen events it missed.
            try await witness.wait(for: n + 3)
            let resumed = StreamWatch()
            async let again = RawHTTPClient.exchange(
                port: server.port, .get(target, headers: ["Last-Event-ID: \(n)"]), timeout: .seconds(40)
            ) { resumed.recordUntilStop($0) }
            try await resumed.wait(for: witness.highestID + 1)
            let last = max(witness.highestID, resumed.highestID) + 2
            witness.stop(at: last)
            resumed.stop(at: last)
            _ = try await (watched, again)
            let first = try #require(resumed.ids.first)
            switch replay {
            case .resume: #expect(first == n + 1)
            case .repeatLast: #expect(first == n)
            case .skipOne: #expect(first == n + 2)
            case .newest: #expect(first >= n + 4)
            }
            // Whatever the start, the same events as the witness from there on.
            #expect(resumed.ids == Array(first...resumed.highestID))
            #expect(witness.ids == Array(1...witness.highestID))
            #expect(
                resumed.events.filter { Int($0.id)! <= last }
                    == witness.events.filter { Int($0.id)! >= first && Int($0.id)! <= last })
        }
    }

    @Test("live=1 needs an interval: with the tick at zero it is refused")
    func liveNeedsInterval() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(port: server.port, .get("/events?live=1"))
            #expect(response.status == 400)
        }
    }
}

@Suite("The hub's own publisher", .timeLimit(.minutes(1)))
struct HubPublisherTests {
    @Test("publishInterval: the hub publishes by itself, every subscriber gets the same messages")
    func publishes() async throws {
        // A history that holds every message a slow run publishes, so the resumption below has no gap.
        let configuration = TestServer.Configuration(historyCapacity: 100_000, publishInterval: .milliseconds(20))
        try await TestServer.withRunning(configuration: configuration) { server in
            let first = StreamWatch()
            let second = StreamWatch()
            // Both read until three messages after both subscribed, which both receive.
            async let a = RawHTTPClient.exchange(port: server.port, .get("/subscribe?framing=close")) {
                first.recordUntilStop($0)
            }
            async let b = RawHTTPClient.exchange(port: server.port, .get("/subscribe?framing=close")) {
                second.recordUntilStop($0)
            }
            try await server.waitForSubscribers(count: 2)
            let newest = try await server.hubHistory().last.flatMap { Int($0.id) } ?? 0
            first.stop(at: newest + 3)
            second.stop(at: newest + 3)
            _ = try await (a, b)
            for watch in [first, second] {
                #expect(watch.events.allSatisfy { $0.data == $0.id })
                let start = try #require(watch.ids.first)
                #expect(watch.ids == Array(start..<start + watch.ids.count))
            }
            let both = { (watch: StreamWatch) in watch.events.filter { (newest + 1...newest + 3).contains(Int($0.id)!) }
            }
            #expect(both(first).count == 3)
            #expect(both(first) == both(second))
            // Resuming from one of them replays the rest, as from any publisher.
            let resumed = try await RawHTTPClient.exchange(
                port: server.port, .get("/subscribe?framing=close", headers: ["Last-Event-ID: 2"])
            ) { String(decoding: $0, as: UTF8.self).contains("data: 4\n\n") }
            #expect(
                String(decoding: resumed.wireBody, as: UTF8.self).hasPrefix("id: 3\ndata: 3\n\nid: 4\ndata: 4\n\n"))
        }
    }
}
