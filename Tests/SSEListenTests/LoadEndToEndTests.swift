import Foundation
import SSETestServer
import Testing

/// `sse-listen load` as a built binary against the TestServer, with tens of streams for seconds:
/// the counts are exact, a server that skips or repeats on resume is caught, the ramp and the
/// duration hold, failures are counted by status.
@Suite("sse-listen load", .timeLimit(.minutes(2)))
struct LoadEndToEndTests {
    struct Report {
        var status: Int32
        var stderr: String
        var object: [String: Any]

        func int(_ key: String) -> Int? { object[key] as? Int }
        var connections: [String: Int] { object["connections"] as? [String: Int] ?? [:] }
    }

    static func load(
        _ url: String, _ arguments: [String], shell: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Report {
        let result = try await ListenProcess.run(["load", "--json"] + arguments + [url], shell: shell)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
            "stdout: \(result.stdout); stderr: \(result.stderr)", sourceLocation: sourceLocation)
        return Report(status: result.status, stderr: result.stderr, object: object)
    }

    @Test(
        "every event the server sent, per stream, and nothing lost or repeated; one request each without Last-Event-ID")
    func exactCounts() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 20, interval: .milliseconds(2)))
            let report = try await Self.load(url, ["--connections", "10", "--duration", "5"])
            #expect(report.status == 0, "\(report.stderr)")
            #expect(report.int("events") == 200)
            #expect(report.int("lost") == 0 && report.int("duplicated") == 0)
            #expect(report.connections == ["target": 10, "opened": 10, "failed": 0, "peak_open": 10])
            #expect(server.requests.filter { $0.header("Last-Event-ID") == nil }.count == 10)
            let client = try #require(report.object["client"] as? [String: Any])
            #expect((client["rss_bytes"] as? Int ?? 0) > 0 && (client["threads"] as? Int ?? 0) > 0)
            #expect((report.object["connect_ms"] as? [String: Double])?["p50"] != nil)
            #expect(report.object["delivery_ms"] is NSNull)
            #expect(report.object["delivery_all_open_ms"] is NSNull)
            #expect(report.object["resume_ms"] is NSNull)
        }
    }

    @Test("a server that skips the event after the cursor on resume: lost counted exactly per stream")
    func skippedOnResume() async throws {
        try await TestServer.withRunning { server in
            // Drops after 5 events a connection; each resume skips one: 6, 12 and 18 never come.
            let scenario = Scenario.numbered(count: 20, interval: .milliseconds(2)).droppingAfter(events: 5)
                .retrying(after: .milliseconds(20))
                .replaying(.skipOne)
            let report = try await Self.load(server.url(for: scenario), ["--connections", "5", "--duration", "5"])
            #expect(report.int("lost") == 15)
            #expect(report.int("duplicated") == 0)
            #expect(report.int("events") == 85)
            #expect((report.int("reconnects") ?? 0) >= 15)
        }
    }

    @Test("a server that repeats the event at the cursor on resume: duplicated counted exactly per stream")
    func repeatedOnResume() async throws {
        try await TestServer.withRunning { server in
            // 1–5, then 5–9, 9–13, 13–17, 17–20: four repeats a stream; after the end, every
            // reconnect gets 20 again. So every event beyond the 20 distinct ones is a repeat.
            let scenario = Scenario.numbered(count: 20, interval: .milliseconds(2)).droppingAfter(events: 5)
                .retrying(after: .milliseconds(20))
                .replaying(.repeatLast)
            let report = try await Self.load(server.url(for: scenario), ["--connections", "5", "--duration", "5"])
            let events = try #require(report.int("events"))
            let duplicated = try #require(report.int("duplicated"))
            #expect(duplicated == events - 5 * 20)
            #expect(duplicated >= 5 * 4)
            #expect(report.int("lost") == 0)
        }
    }

    @Test("--drop-after-events churns the connections (FIN, and --reset), and a good server loses nothing")
    func churn() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(interval: .milliseconds(20)))
            for extra in [[], ["--reset"]] {
                let report = try await Self.load(
                    url, ["--connections", "8", "--duration", "2", "--drop-after-events", "4"] + extra)
                #expect(report.status == 0)
                #expect((report.int("reconnects") ?? 0) >= 8, "\(extra)")
                #expect(report.int("lost") == 0 && report.int("duplicated") == 0, "\(extra)")
                // Each drop is followed by the first event of the resumed connection: at least
                // 0, at most the run, and a stream ticking every 20 ms resumes within it.
                let resume = try #require(report.object["resume_ms"] as? [String: Double], "\(extra)")
                let (p50, maximum) = (resume["p50"] ?? -1, resume["max"] ?? .infinity)
                #expect(p50 >= 0 && p50 <= maximum && maximum < 2_000, "\(resume)")
            }
            #expect(server.requests.contains { $0.header("Last-Event-ID") != nil })
        }
    }

    @Test("--ramp opens the streams at that rate; --duration ends the run on time")
    func rampAndDuration() async throws {
        try await TestServer.withRunning { server in
            let start = ContinuousClock.now
            let report = try await Self.load(
                server.url(for: .numbered(interval: .milliseconds(50))),
                ["--connections", "6", "--ramp", "4", "--duration", "5"])
            let elapsed = ContinuousClock.now - start
            #expect(report.connections["opened"] == 6)
            // Stream i is due 250 ms × i after the run starts, which is after `start`: never
            // sooner; later only by a loaded machine's delay.
            let times = server.requests.prefix(6).map { $0.receivedAt - start }
            #expect(times.count == 6)
            for (index, time) in times.enumerated() {
                #expect(time >= .milliseconds(250 * index), "stream \(index + 1) at \(time)")
            }
            #expect((times.last ?? .zero) < .seconds(10))
            let duration = try #require(report.object["duration_s"] as? Double)
            #expect(duration >= 5 && duration < 8)
            #expect(elapsed < .seconds(30))
        }
    }

    @Test(
        "--timestamp-field with the TestServer's stamped events: the delivery latency, from each event's send time; without it, sent_us"
    )
    func deliveryLatency() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(interval: .milliseconds(20)).stamped())
            #expect(url.contains("stamp=1"))
            let report = try await Self.load(
                url, ["--connections", "4", "--duration", "2", "--timestamp-field", "sent_us"])
            let delivery = try #require(report.object["delivery_ms"] as? [String: Double])
            let (p50, maximum) = (try #require(delivery["p50"]), try #require(delivery["max"]))
            // Loopback in one machine: at least 0, and not the age of the epoch.
            #expect(p50 >= 0 && p50 <= maximum && maximum < 10_000, "\(delivery)")
            // Once all 4 were open: a part of the same events, so never later than all of them.
            let allOpen = try #require(report.object["delivery_all_open_ms"] as? [String: Double])
            #expect((allOpen["max"] ?? .infinity) <= maximum, "\(allOpen) against \(delivery)")
            #expect((allOpen["p50"] ?? -1) >= 0)
            // Without the flag, the TestServer's stamping is found where it puts it.
            let unflagged = try await Self.load(url, ["--connections", "2", "--duration", "1"])
            let found = try #require(unflagged.object["delivery_ms"] as? [String: Double])
            #expect((found["p50"] ?? -1) >= 0 && (found["max"] ?? .infinity) < 10_000, "\(found)")
        }
    }

    @Test("the first status line says what the run will do, in numbers as people write them")
    func banner() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(interval: .milliseconds(100)))
            let report = try await Self.load(url, ["--connections", "1", "--ramp", "2.5", "--duration", "1"])
            #expect(report.stderr.contains("with 1 stream, opened 2.5 per second, for 1 s"), "\(report.stderr)")
            let churned = try await Self.load(
                url, ["--connections", "2", "--duration", "0.5", "--drop-after-events", "3", "--reset"])
            #expect(
                churned.stderr.contains(
                    "with 2 streams, opened all at once, each dropping after about 3 events (RST), for 0.5 s"),
                "\(churned.stderr)")
        }
    }

    @Test("failed connections are counted by status; none opened exits 2, saying why")
    func failures() async throws {
        try await TestServer.withRunning { server in
            let report = try await Self.load(server.url(for: .status(404)), ["--connections", "4", "--duration", "2"])
            #expect(report.status == 2)
            #expect(report.connections["failed"] == 4 && report.connections["opened"] == 0)
            #expect(report.object["failures"] as? [String: Int] == ["404": 4])
            #expect(report.stderr.contains("not a single stream opened"))
        }
    }

    @Test("ids that are not integers: lost and duplicated are null, and -v says which")
    func nonNumericIDs() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .raw("id: alpha\ndata: a\n\nid: beta\ndata: b\n\n"))
            let report = try await Self.load(url, ["--connections", "2", "--duration", "2", "-v"])
            #expect(report.object["lost"] is NSNull && report.object["duplicated"] is NSNull)
            #expect(report.stderr.contains("'alpha' is not an integer"))
            #expect((report.int("events") ?? 0) >= 4)
        }
    }

    @Test("usage errors exit 1: --reset alone, --connections 0, too few open files even at the hard limit")
    func usage() async throws {
        for arguments in [["--reset"], ["--connections", "0"], ["--ramp", "-1"]] {
            let result = try await ListenProcess.run(["load"] + arguments + ["http://127.0.0.1:1/"])
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
        }
        let limited = try await ListenProcess.run(
            ["load", "--connections", "500", "http://127.0.0.1:1/"],
            shell: "ulimit -n 100 && ulimit -Hn 100 && exec \"$@\"")
        #expect(limited.status == 1)
        #expect(limited.stderr.contains("hard limit is 100"), "\(limited.stderr)")
        let help = try await ListenProcess.run(["load", "--help"])
        #expect(help.status == 0 && help.stdout.contains("--drop-after-events"))
    }
}
