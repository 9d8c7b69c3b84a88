import Foundation
import SSEClient
import SSEParser
import SSETestServer
import Testing

@testable import SSEListenCore

/// `--stats` and `--stats-json`: the figures, pure from scripted updates, and from the binary
/// against streams with known timing.
@Suite("sse-listen --stats", .timeLimit(.minutes(1)))
struct ListenStatsTests {
    static let head = ResponseHead(status: 200, headers: [], url: "http://x/", httpVersion: "HTTP/2")

    @Test("the figures of a scripted run: times to head and first event, gaps by percentile, rate, snapshot figures")
    func scripted() {
        let start = ContinuousClock.now
        var stats = ListenStats(start: start)
        stats.record(.state(.connecting(attempt: 0, lastEventID: "")), at: start)
        stats.record(.state(.open(Self.head)), at: start + .milliseconds(40))
        // 101 events 10 ms apart, then one after a 500 ms gap.
        for n in 0...100 {
            stats.record(.event(ServerSentEvent(id: "\(n)", data: "x")), at: start + .milliseconds(50 + 10 * n))
        }
        stats.record(.event(ServerSentEvent(data: "late")), at: start + .milliseconds(1550))
        var metrics = EventSource.Metrics()
        metrics.bytes = 1234
        metrics.reconnects = [.networkError: 2]
        metrics.longestSilence = .milliseconds(500)
        let report = stats.report(metrics: metrics, end: start + .milliseconds(2050))
        #expect(report.timeToHead == .milliseconds(40))
        #expect(report.timeToFirstEvent == .milliseconds(50))
        #expect(report.events == 102)
        #expect(report.bytes == 1234)
        #expect(report.eventsPerSecond == 102 / 2.0)
        let gaps = try! #require(report.gaps)
        #expect(gaps.p50 >= .milliseconds(10) && gaps.p50 <= .microseconds(10_080))
        #expect(gaps.p99 >= .milliseconds(10) && gaps.p99 <= .microseconds(10_080))
        #expect(gaps.max == .milliseconds(500))
        #expect(report.httpVersion == "HTTP/2")

        let json = try! JSONSerialization.jsonObject(with: Data(report.json.utf8)) as! [String: Any]
        #expect(json["events"] as? Int == 102)
        #expect(json["bytes"] as? Int == 1234)
        #expect(json["reconnects"] as? Int == 2)
        #expect(json["time_to_first_event_ms"] as? Double == 50)
        #expect(json["longest_silence_ms"] as? Double == 500)
        let gap = json["gap_ms"] as! [String: Any]
        #expect(gap["max"] as? Double == 500)
        #expect(Set(gap.keys) == ["p50", "p95", "p99", "max"])
        #expect(report.lines.count == 4)
        #expect(report.lines[3].text.contains("2 reconnects (networkError 2)"))
    }

    @Test("no events: nulls in JSON, dashes for people, never a division by zero")
    func empty() {
        let start = ContinuousClock.now
        let report = ListenStats(start: start).report(metrics: EventSource.Metrics(), end: start + .seconds(1))
        let json = try! JSONSerialization.jsonObject(with: Data(report.json.utf8)) as! [String: Any]
        #expect(json["time_to_first_event_ms"] is NSNull)
        #expect(json["events_per_second"] is NSNull)
        #expect((json["gap_ms"] as! [String: Any])["p50"] is NSNull)
    }

    @Test("the histogram's percentiles are within 1/128 of the true value, over nine decades")
    func histogram() {
        var histogram = LogHistogram()
        let values: [Int64] = (1...1000).map { Int64($0) * 1_000_003 }  // about 1 ms … 1 s
        for value in values.shuffled() { histogram.record(value) }
        for fraction in [0.5, 0.9, 0.95, 0.99] {
            let exact = values[Int((Double(values.count) * fraction).rounded(.up)) - 1]
            let estimate = histogram.percentile(fraction)
            #expect(estimate >= exact && Double(estimate - exact) <= Double(exact) / 128, "\(fraction)")
        }
        #expect(histogram.percentile(1) == values.last)
        var small = LogHistogram()
        for value: Int64 in [0, 1, 2, 3] { small.record(value) }
        #expect(small.percentile(0.5) == 1)
    }

    @Test("--stats-json against a stream with known timing, and --stats on stderr, after a drop and a reconnect")
    func endToEnd() async throws {
        try await TestServer.withRunning { server in
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("stats-\(UUID()).json").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            // Events 1–3, a drop, then 4 and 5: --max-events ends the run before the second drop.
            let url = server.url(for: .numbered(interval: .milliseconds(300)).droppingAfter(events: 3))
            let result = try await ListenProcess.run([
                url, "--max-events", "5", "--stats", "--stats-json", path, "--retry-initial", "10", "--retry-max", "20",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let json =
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            #expect(json["events"] as? Int == 5)
            #expect((json["bytes"] as? Int ?? 0) > 0)
            #expect(json["reconnects"] as? Int == 1)
            #expect((json["reconnects_by_cause"] as? [String: Int])?["networkError"] == 1)
            // The server writes one event per 300 ms tick: no gap is shorter than half of that
            // (the gap across the reconnect is longer; half, because a loaded machine may deliver
            // one event late and the next on time), and the silence is at least half a tick.
            let gap = try #require(json["gap_ms"] as? [String: Double])
            #expect(try #require(gap["p50"]) >= 150, "\(gap)")
            let p50 = try #require(gap["p50"])
            #expect(try #require(gap["max"]) >= p50)
            #expect(try #require(json["longest_silence_ms"] as? Double) >= 150)
            #expect(try #require(json["time_to_first_event_ms"] as? Double) > 0)
            #expect(json["http_version"] as? String == "HTTP/1.1")
            let stats = result.stderrLines.filter { $0.hasPrefix("sse-listen: stats: ") }
            #expect(stats.count == 4)
            #expect(stats.contains { $0.contains("5 events") })
            #expect(stats.contains { $0.contains("1 reconnect (networkError 1)") })
        }
    }

    @Test("--stats on SIGINT: the figures so far, then exit 130")
    func interrupted() async throws {
        try await TestServer.withRunning { server in
            let process = try ListenProcess([server.url(for: .numbered(interval: .milliseconds(20))), "--stats"])
            try await process.waitForStdoutLines(3)
            process.send(SIGINT)
            let result = try await process.finish()
            #expect(result.status == 130)
            let stats = result.stderrLines.filter { $0.hasPrefix("sse-listen: stats: ") }
            #expect(stats.count == 4)
            #expect(stats.contains { $0.contains(" events, ") && !$0.contains(" 0 events") })
        }
    }
}
