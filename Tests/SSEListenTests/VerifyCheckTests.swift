import Foundation
import SSEClient
import SSEParser
import Testing

@testable import SSEListenCore

/// The verify checks as pure functions of what was seen: each rule of the issue, one test.
@Suite("verify: the checks")
struct VerifyCheckTests {
    static func head(_ status: Int = 200, _ headers: [(String, String)] = [("Content-Type", "text/event-stream")])
        -> ResponseHead
    {
        ResponseHead(
            status: status, headers: headers.map { HTTPHeader($0.0, $0.1) }, url: "http://127.0.0.1/",
            httpVersion: "HTTP/1.1")
    }

    /// A recording of `text` delivered in reads at the given seconds.
    static func recording(_ reads: [(Double, String)], observed: Double, endedByServer: Bool = false) -> StreamRecording
    {
        var recording = StreamRecording()
        recording.head = head()
        recording.reads = reads.map {
            StreamRecording.Read(at: .milliseconds(Int64($0.0 * 1000)), bytes: Array($0.1.utf8))
        }
        recording.observed = .milliseconds(Int64(observed * 1000))
        recording.endedByServer = endedByServer
        return recording
    }

    static func event(_ id: String, _ data: String = "x") -> ServerSentEvent {
        ServerSentEvent(id: id, type: "message", data: data)
    }

    // MARK: Scanning

    @Test("blocks: LF, CRLF and CR line ends, a byte order mark, comments, id-only blocks, raw retry values")
    func scanning() {
        let text =
            "\u{FEFF}: hello\r\nid: 1\r\ndata: a\r\n\r\nid: 2\rretry: 1.5s\r\rdata: b\ndata: c\nevent: t\n\ndata: cut"
        let blocks = StreamBlock.scan([StreamRecording.Read(at: .zero, bytes: Array(text.utf8))])
        #expect(blocks.count == 3)
        #expect(blocks[0].id == "1" && blocks[0].isEvent && blocks[0].data == "a" && blocks[0].comments == 1)
        #expect(blocks[1].id == "2" && !blocks[1].isEvent && blocks[1].retryValues == ["1.5s"])
        #expect(blocks[2].id == nil && blocks[2].data == "b\nc" && blocks[2].type == "t")
    }

    @Test("blocks split across reads at every byte are the same blocks")
    func scanningSplit() {
        let text = Array("id: 7\r\ndata: one\r\n\r\n: ping\n\nid: 8\ndata: two\n\n".utf8)
        let whole = StreamBlock.scan([StreamRecording.Read(at: .zero, bytes: text)])
        for split in 0...text.count {
            let reads = [
                StreamRecording.Read(at: .zero, bytes: Array(text[..<split])),
                StreamRecording.Read(at: .zero, bytes: Array(text[split...])),
            ]
            let blocks = StreamBlock.scan(reads)
            #expect(blocks.map(\.data) == whole.map(\.data) && blocks.map(\.id) == whole.map(\.id), "split at \(split)")
        }
    }

    // MARK: Headers

    @Test("http.status: 200 text/event-stream (with parameters) passes; 404, 204 and text/html fail, saying what came")
    func status() {
        var recording = Self.recording([], observed: 1)
        recording.head = Self.head(200, [("Content-Type", "Text/Event-Stream; charset=utf-8")])
        #expect(StreamChecks.status(recording).status == .pass)
        recording.head = Self.head(404, [("Content-Type", "text/plain")])
        let notFound = StreamChecks.status(recording)
        #expect(notFound.status == .fail && notFound.detail.contains("404") && notFound.detail.contains("text/plain"))
        recording.head = Self.head(204, [])
        #expect(StreamChecks.status(recording).status == .fail)
        recording.head = Self.head(200, [("Content-Type", "text/html")])
        #expect(StreamChecks.status(recording).detail.contains("text/html"))
        recording.head = nil
        #expect(StreamChecks.status(recording).status == .fail)
    }

    @Test("http.cache-control: no-cache or no-store among the directives passes; anything else warns")
    func cacheControl() {
        #expect(StreamChecks.cacheControl(Self.head(200, [("Cache-Control", "no-cache")])).status == .pass)
        #expect(StreamChecks.cacheControl(Self.head(200, [("Cache-Control", "private, NO-STORE")])).status == .pass)
        #expect(StreamChecks.cacheControl(Self.head(200, [("Cache-Control", "max-age=0")])).status == .warn)
        #expect(StreamChecks.cacheControl(Self.head(200, [])).status == .warn)
    }

    @Test(
        "http.content-length warns when present; http.compression fails unless asked; x-accel-buffering warns unless no"
    )
    func otherHeaders() {
        let recording = Self.recording([(0.1, "data: 1\n\n")], observed: 1)
        #expect(StreamChecks.contentLength(recording, head: Self.head()).status == .pass)
        #expect(StreamChecks.contentLength(recording, head: Self.head(200, [("Content-Length", "9")])).status == .warn)
        let gzip = Self.head(200, [("Content-Encoding", "gzip")])
        #expect(StreamChecks.compression(recording, head: gzip).status == .fail)
        var asked = recording
        asked.askedForCompression = true
        #expect(StreamChecks.compression(asked, head: gzip).status == .pass)
        #expect(
            StreamChecks.compression(recording, head: Self.head(200, [("Content-Encoding", "identity")])).status
                == .pass)
        #expect(StreamChecks.accelBuffering(Self.head(200, [("X-Accel-Buffering", "no")])).status == .pass)
        #expect(StreamChecks.accelBuffering(Self.head(200, [("X-Accel-Buffering", "yes")])).status == .warn)
        #expect(StreamChecks.accelBuffering(Self.head()).status == .warn)
    }

    // MARK: The stream

    @Test(
        "stream.ids: no ids warns; an id-only block naming an event still to come fails; repeating the last id passes")
    func ids() {
        func blocks(_ text: String) -> [StreamBlock] {
            StreamBlock.scan([StreamRecording.Read(at: .zero, bytes: Array(text.utf8))])
        }
        #expect(StreamChecks.ids(blocks("data: a\n\ndata: b\n\n")).status == .warn)
        #expect(StreamChecks.ids(blocks(": only comments\n\n")).status == .skip)
        let early = StreamChecks.ids(blocks("id: 1\ndata: a\n\nid: 2\n: keepalive\n\nid: 2\ndata: b\n\n"))
        #expect(early.status == .fail && early.detail.contains("'2'"))
        // Numeric: a heartbeat that says 5 while the next event is 3 moved the cursor past 3 and 4.
        #expect(StreamChecks.ids(blocks("id: 2\ndata: a\n\nid: 5\n\nid: 3\ndata: b\n\n")).status == .fail)
        // The id goes out ahead, and its event follows without one: it inherits the cursor.
        #expect(StreamChecks.ids(blocks("id: 1\ndata: a\n\nid: 2\n\ndata: b\n\nid: 3\ndata: c\n\n")).status == .fail)
        #expect(StreamChecks.ids(blocks("id: 1\ndata: a\n\nid: 1\n: ping\n\nid: 2\ndata: b\n\n")).status == .pass)
        #expect(StreamChecks.ids(blocks("id: 1\ndata: a\n\nid: 1\n\ndata: no id\n\n")).status == .pass)
    }

    @Test("stream.heartbeat: over 30 s without a byte warns; quiet without comments warns; heartbeats pass")
    func heartbeat() {
        let long = Self.recording([(1, "data: 1\n\n"), (32.5, "data: 2\n\n")], observed: 40)
        let longCheck = StreamChecks.heartbeat(long, blocks: long.blocks)
        #expect(longCheck.status == .warn && longCheck.detail.contains("31.5 s"))
        let quiet = Self.recording([(0.1, "data: 1\n\n"), (4.1, "data: 2\n\n")], observed: 8)
        #expect(StreamChecks.heartbeat(quiet, blocks: quiet.blocks).status == .warn)
        let beating = Self.recording(
            (0..<8).map { (Double($0) + 0.5, $0.isMultiple(of: 2) ? ": ping\n\n" : "data: x\n\n") }, observed: 8)
        #expect(StreamChecks.heartbeat(beating, blocks: beating.blocks).status == .pass)
        let busy = Self.recording((0..<80).map { (Double($0) * 0.1, "data: x\n\n") }, observed: 8)
        #expect(StreamChecks.heartbeat(busy, blocks: busy.blocks).status == .pass)
    }

    @Test("stream.buffering: bursts after silences fail, with the evidence; one event per read passes; too few skip")
    func buffering() {
        var reads: [(Double, String)] = [(0, "data: backlog\n\ndata: backlog\n\ndata: backlog\n\n")]
        for burst in 1...4 {
            reads.append((Double(burst), String(repeating: "data: x\n\n", count: 5)))
        }
        let bursty = Self.recording(reads, observed: 5)
        let check = StreamChecks.buffering(bursty.blocks)
        #expect(check.status == .fail && check.detail.contains("20 of 20 blocks") && check.detail.contains("4 bursts"))
        let steady = Self.recording((0..<20).map { (Double($0) * 0.2, "data: x\n\n") }, observed: 5)
        #expect(StreamChecks.buffering(steady.blocks).status == .pass)
        // The first delivery (a replayed backlog) alone is no evidence.
        let backlog = Self.recording([(0, String(repeating: "data: x\n\n", count: 50))], observed: 5)
        #expect(StreamChecks.buffering(backlog.blocks).status == .skip)
    }

    @Test("retry.field: digits pass; anything else fails, quoting it; none skips")
    func retry() {
        func blocks(_ text: String) -> [StreamBlock] {
            StreamBlock.scan([StreamRecording.Read(at: .zero, bytes: Array(text.utf8))])
        }
        #expect(StreamChecks.retryField(blocks("retry: 3000\n\n")).status == .pass)
        let bad = StreamChecks.retryField(blocks("retry: 3000\n\nretry: 1.5s\n\n"))
        #expect(bad.status == .fail && bad.detail.contains("1.5s"))
        #expect(StreamChecks.retryField(blocks("retry:\n\n")).status == .fail)
        #expect(StreamChecks.retryField(blocks("data: a\n\n")).status == .skip)
    }

    // MARK: Resuming

    static let witness = (1...30).map { event("\($0)") }

    static func resume(_ before: ClosedRange<Int>, then after: [Int], sent: String? = nil) -> ResumeRecording {
        var recording = ResumeRecording(reset: false)
        recording.connections = [before.map { event("\($0)") }, after.map { event("\($0)") }]
        recording.sentLastEventIDs = [nil, sent ?? "\(before.upperBound)"]
        recording.cut = ResumeRecording.Cut(bodyBytes: 120, intoBlock: 7)
        return recording
    }

    @Test("resume: the events after Last-Event-ID, in order, pass; repeating, skipping, restarting or reordering fails")
    func resume() {
        let exact = ResumeChecks.judge(Self.resume(1...5, then: Array(6...20)), witness: Self.witness, hasIDs: true)
        #expect(exact.status == .pass && exact.detail.contains("15 events compared"))
        let repeated = ResumeChecks.judge(Self.resume(1...5, then: Array(5...20)), witness: Self.witness, hasIDs: true)
        #expect(repeated.status == .fail && repeated.detail.contains("'5' again"))
        let skipped = ResumeChecks.judge(Self.resume(1...5, then: Array(7...20)), witness: Self.witness, hasIDs: true)
        #expect(skipped.status == .fail && skipped.detail.contains("1 event was lost ('6')"))
        let restarted = ResumeChecks.judge(Self.resume(1...5, then: Array(1...20)), witness: Self.witness, hasIDs: true)
        #expect(
            restarted.status == .fail && restarted.detail.contains("ignored Last-Event-ID, and 5 events arrived again"))
        let newest = ResumeChecks.judge(Self.resume(1...5, then: Array(25...30)), witness: Self.witness, hasIDs: true)
        #expect(newest.status == .fail && newest.detail.contains("19 events were lost"))
        let reordered = ResumeChecks.judge(
            Self.resume(1...5, then: [7, 6] + Array(8...12)), witness: Self.witness, hasIDs: true)
        #expect(reordered.status == .fail && reordered.detail.contains("out of order"))
    }

    @Test(
        "resume: no reconnect fails; no drop, no ids or an unknown cursor skip; events without an id field are not compared"
    )
    func resumeEdges() {
        var none = Self.resume(1...5, then: [])
        none.connections.removeLast()
        none.sentLastEventIDs.removeLast()
        none.failure = "server answered 500"
        let noStream = ResumeChecks.judge(none, witness: Self.witness, hasIDs: true)
        #expect(noStream.status == .fail && noStream.detail.contains("500"))
        var uncut = Self.resume(1...5, then: [])
        uncut.cut = nil
        #expect(ResumeChecks.judge(uncut, witness: Self.witness, hasIDs: true).status == .skip)
        #expect(ResumeChecks.judge(Self.resume(1...5, then: [6]), witness: Self.witness, hasIDs: false).status == .skip)
        let elsewhere = ResumeChecks.judge(
            Self.resume(1...5, then: [6], sent: "zzz"), witness: Self.witness, hasIDs: true)
        #expect(elsewhere.status == .skip)
        // Content that differs per connection (the same id, other data) cannot be compared.
        var personal = Self.resume(1...5, then: Array(6...10))
        personal.connections[0][2] = Self.event("3", "for this client only")
        let differs = ResumeChecks.judge(personal, witness: Self.witness, hasIDs: true)
        #expect(differs.status == .skip && differs.detail.contains("differs per connection"))
        // Events that inherit the cursor (no id field) repeat the id before them: not repeats.
        var inherited = Self.resume(1...5, then: Array(6...10))
        inherited.connections[1].insert(Self.event("6", "no id field"), at: 1)
        #expect(ResumeChecks.judge(inherited, witness: Self.witness, hasIDs: true).status == .pass)
    }

    @Test("resume.unknown-id: a stream or 204 passes, 4xx warns, 5xx, no answer or a failure fails")
    func unknownID() {
        let sent = "nope"
        #expect(
            ResumeChecks.unknownID(.answered(status: 200, mediaType: "text/event-stream"), sent: sent).status == .pass)
        #expect(ResumeChecks.unknownID(.answered(status: 204, mediaType: nil), sent: sent).status == .pass)
        #expect(ResumeChecks.unknownID(.answered(status: 200, mediaType: "text/html"), sent: sent).status == .fail)
        #expect(ResumeChecks.unknownID(.answered(status: 410, mediaType: nil), sent: sent).status == .warn)
        let error = ResumeChecks.unknownID(.answered(status: 500, mediaType: "text/plain"), sent: sent)
        #expect(error.status == .fail && error.detail.contains("500"))
        #expect(ResumeChecks.unknownID(.noAnswer(after: .seconds(10)), sent: sent).status == .fail)
        #expect(ResumeChecks.unknownID(.failed("refused"), sent: sent).status == .fail)
    }

    // MARK: The report

    @Test("the report: JSON with url, checks and summary; exit 0 with warnings, 4 with a failure, 2 without a stream")
    func report() throws {
        let checks = [
            VerifyCheck("http.status", .pass, "200"), VerifyCheck("http.cache-control", .warn, "none", hint: "send it"),
        ]
        let report = VerifyReport(url: "http://127.0.0.1/", checks: checks, reachedStream: true)
        #expect(report.exitCode == 0)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        #expect(object["url"] as? String == "http://127.0.0.1/")
        let listed = try #require(object["checks"] as? [[String: Any]])
        #expect(listed.map { $0["id"] as? String } == ["http.status", "http.cache-control"])
        #expect(listed[0]["hint"] is NSNull && listed[1]["hint"] as? String == "send it")
        let summary = try #require(object["summary"] as? [String: Int])
        #expect(summary == ["pass": 1, "warn": 1, "fail": 0, "skip": 0])
        #expect(
            VerifyReport(url: "", checks: checks + [VerifyCheck("x", .fail, "")], reachedStream: true).exitCode == 4)
        #expect(VerifyReport(url: "", checks: checks, reachedStream: false).exitCode == 2)
        let table = report.table(style: .plain)
        #expect(table.contains("PASS  http.status") && table.contains("WARN  http.cache-control"))
        #expect(table.contains("1 pass, 1 warn, 0 fail, 0 skip"))
    }
}
