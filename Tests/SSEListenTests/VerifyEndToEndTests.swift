import Foundation
import SSETestServer
import SSETestSupport
import Testing

/// `sse-listen verify` as a built binary against the TestServer: a server that keeps every
/// promise passes, and each scenario that breaks one is caught by the check named for it.
@Suite("sse-listen verify", .timeLimit(.minutes(2)))
struct VerifyEndToEndTests {
    struct Report {
        var status: Int32
        var stderr: String
        var checks: [String: (status: String, detail: String)]
        var summary: [String: Int]

        func status(of id: String) -> String { checks[id]?.status ?? "missing" }
        func detail(of id: String) -> String { checks[id]?.detail ?? "" }
    }

    /// Runs `sse-listen verify --json` for `seconds` against `url` and decodes the report.
    static func verify(
        _ url: String, seconds: Double = 3, _ arguments: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Report {
        let result = try await ListenProcess.run(
            ["verify", "--json", "--duration", "\(seconds)", "--seed", "7"] + arguments + [url])
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
            "stdout: \(result.stdout); stderr: \(result.stderr)", sourceLocation: sourceLocation)
        let list = try #require(object["checks"] as? [[String: Any]], sourceLocation: sourceLocation)
        var checks: [String: (String, String)] = [:]
        for check in list {
            checks[check["id"] as? String ?? "?"] = (
                check["status"] as? String ?? "?", check["detail"] as? String ?? ""
            )
        }
        let summary = object["summary"] as? [String: Int] ?? [:]
        return Report(status: result.status, stderr: result.stderr, checks: checks, summary: summary)
    }

    static let ids = [
        "http.status", "http.cache-control", "http.content-length", "http.compression", "http.x-accel-buffering",
        "stream.ids", "stream.heartbeat", "stream.buffering", "resume.fin", "resume.rst", "resume.unknown-id",
        "retry.field",
    ]

    static let healthy = Scenario.numbered(interval: .milliseconds(40)).retrying(after: .milliseconds(200))

    @Test("a server that keeps every promise: every check passes, exit 0; the drops resumed from the cursor")
    func healthyServer() async throws {
        try await TestServer.withRunning { server in
            let report = try await Self.verify(server.url(for: Self.healthy))
            #expect(report.status == 0, "\(report.checks)")
            for id in Self.ids {
                #expect(report.status(of: id) == "pass", "\(id): \(report.detail(of: id))")
            }
            #expect(report.summary == ["pass": 12, "warn": 0, "fail": 0, "skip": 0])
            #expect(report.detail(of: "resume.fin").contains("FIN"))
            #expect(report.detail(of: "resume.rst").contains("TCP reset"))
            // What the server saw: resumed requests with the Last-Event-ID each drop left, and the unknown one.
            let sent = server.requests.compactMap { $0.header("Last-Event-ID") }
            #expect(sent.contains { $0.hasPrefix("sse-listen-verify-") })
            #expect(sent.filter { Int($0) != nil }.count >= 2)
        }
    }

    @Test("the broadcast hub, publishing by itself, with heartbeats: every check passes")
    func hub() async throws {
        let configuration = TestServer.Configuration(
            heartbeatInterval: .milliseconds(500), publishInterval: .milliseconds(40))
        try await TestServer.withRunning(configuration: configuration) { server in
            let report = try await Self.verify(
                server.url(for: Scenario().retrying(after: .milliseconds(200)), path: "/subscribe"))
            for id in Self.ids {
                #expect(report.status(of: id) == "pass", "\(id): \(report.detail(of: id))")
            }
            #expect(report.status == 0)
        }
    }

    @Test("a live stream (a shared clock, like a broadcast hub) resumes too")
    func liveServer() async throws {
        try await TestServer.withRunning { server in
            let report = try await Self.verify(server.url(for: Self.healthy.live()))
            #expect(report.status(of: "resume.fin") == "pass", "\(report.detail(of: "resume.fin"))")
            #expect(report.status(of: "resume.rst") == "pass", "\(report.detail(of: "resume.rst"))")
        }
    }

    @Test(
        "a replay that repeats the event at the cursor, or skips the one after it, fails resume.fin and resume.rst, exit 4",
        arguments: [(Scenario.Replay.repeatLast, "again"), (.skipOne, "lost")])
    func brokenReplay(replay: Scenario.Replay, evidence: String) async throws {
        try await TestServer.withRunning { server in
            let report = try await Self.verify(server.url(for: Self.healthy.replaying(replay)))
            #expect(report.status == 4)
            for id in ["resume.fin", "resume.rst"] {
                #expect(report.status(of: id) == "fail")
                #expect(report.detail(of: id).contains(evidence), "\(report.detail(of: id))")
            }
            #expect(report.status(of: "http.status") == "pass")
        }
    }

    @Test("a live stream that ignores Last-Event-ID and starts at the newest event loses what came between")
    func noReplay() async throws {
        try await TestServer.withRunning { server in
            let report = try await Self.verify(server.url(for: Self.healthy.live().replaying(.newest)))
            #expect(report.status == 4)
            for id in ["resume.fin", "resume.rst"] {
                #expect(report.status(of: id) == "fail", "\(report.detail(of: id))")
            }
        }
    }

    @Test("ids on blocks without data that name events still to come fail stream.ids")
    func earlyIDs() async throws {
        try await TestServer.withRunning { server in
            let report = try await Self.verify(server.url(for: Self.healthy.sendingIDsEarly(every: 3)))
            #expect(report.status == 4)
            #expect(report.status(of: "stream.ids") == "fail", "\(report.detail(of: "stream.ids"))")
        }
    }

    @Test("events held back and written together fail stream.buffering, with the bursts as evidence")
    func heldBack() async throws {
        try await TestServer.withRunning { server in
            let report = try await Self.verify(server.url(for: Self.healthy.holdingBack(events: 8)))
            #expect(report.status(of: "stream.buffering") == "fail", "\(report.detail(of: "stream.buffering"))")
            #expect(report.detail(of: "stream.buffering").contains("bursts"))
        }
    }

    @Test("missing Cache-Control and X-Accel-Buffering, a Content-Length: warnings, and exit 0")
    func headerWarnings() async throws {
        try await TestServer.withRunning { server in
            let scenario = Self.healthy.withoutCacheControl().withoutAccelBuffering().declaringContentLength(1 << 20)
            let report = try await Self.verify(server.url(for: scenario))
            #expect(report.status(of: "http.cache-control") == "warn")
            #expect(report.status(of: "http.x-accel-buffering") == "warn")
            #expect(report.status(of: "http.content-length") == "warn")
            #expect(report.status(of: "http.content-length") == "warn")
            #expect(report.status == 0, "\(report.checks)")
        }
    }

    @Test("gzip the request did not ask for fails http.compression; with --compressed it passes")
    func compression() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: Self.healthy.gzip(.always))
            let unasked = try await Self.verify(url)
            #expect(unasked.status(of: "http.compression") == "fail")
            #expect(unasked.status == 4)
            let asked = try await Self.verify(url, ["--compressed"])
            #expect(asked.status(of: "http.compression") == "pass")
            #expect(asked.status(of: "resume.fin") == "pass", "\(asked.detail(of: "resume.fin"))")
        }
    }

    @Test("an unknown Last-Event-ID answered 500 fails resume.unknown-id")
    func unknownIDRefused() async throws {
        try await TestServer.withRunning { server in
            let report = try await Self.verify(server.url(for: Self.healthy.rejectingUnknownLastEventID(status: 500)))
            #expect(report.status(of: "resume.unknown-id") == "fail")
            #expect(report.detail(of: "resume.unknown-id").contains("500"))
        }
    }

    @Test("retry: with a value that is not digits fails retry.field, quoting it")
    func badRetry() async throws {
        try await TestServer.withRunning { server in
            let report = try await Self.verify(server.url(for: Self.healthy.retrying(text: "1.5s")))
            #expect(report.status(of: "retry.field") == "fail")
            #expect(report.detail(of: "retry.field").contains("1.5s"))
        }
    }

    @Test("a quiet stream without heartbeat comments warns stream.heartbeat, with the silence measured")
    func noHeartbeat() async throws {
        try await TestServer.withRunning { server in
            // Quiet for 3 s between events, watched for 5: the check warns at half the time
            // watched (2.5 s), and half a second is the slack for a loaded machine.
            let scenario = Scenario.numbered(interval: .milliseconds(3000)).withoutHeartbeat()
            let report = try await Self.verify(server.url(for: scenario), seconds: 5)
            #expect(report.status(of: "stream.heartbeat") == "warn", "\(report.detail(of: "stream.heartbeat"))")
            #expect(report.detail(of: "stream.heartbeat").contains("no comment lines"))
        }
    }

    @Test("no stream at all: 404, or nothing listening, exits 2 with http.status failed and the rest skipped")
    func unreachable() async throws {
        try await TestServer.withRunning { server in
            let report = try await Self.verify(server.url(for: .status(404)), seconds: 2)
            #expect(report.status == 2)
            #expect(report.status(of: "http.status") == "fail" && report.detail(of: "http.status").contains("404"))
            #expect(report.summary["skip"] == 11)
            #expect(report.stderr.contains("could not check"))
        }
        let refused = try await Self.verify("http://127.0.0.1:1/events", seconds: 2)
        #expect(refused.status == 2)
        #expect(refused.status(of: "http.status") == "fail")
    }

    @Test("the table for people: every check's id and status, the summary line; status lines on stderr only")
    func table() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run(
                ["verify", "--duration", "2", "--color", "never", server.url(for: Self.healthy)])
            for id in Self.ids { #expect(result.stdout.contains(id)) }
            #expect(result.stdout.contains("PASS"))
            #expect(result.stdout.contains(" pass, "))
            #expect(result.stderr.contains("sse-listen: verifying"))
            #expect(!result.stdout.contains("sse-listen:"))
        }
    }

    @Test("usage: no URL, a bad --duration, an unknown option exit 1 naming verify's help; --help lists the checks")
    func usage() async throws {
        for arguments in [
            ["verify"], ["verify", "--duration", "-1", "http://127.0.0.1:1/"], ["verify", "--bogus", "x"],
        ] {
            let result = try await ListenProcess.run(arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.contains("sse-listen verify --help"), "\(arguments): \(result.stderr)")
        }
        let help = try await ListenProcess.run(["verify", "--help"])
        #expect(help.status == 0)
        for id in Self.ids { #expect(help.stdout.contains(id)) }
        let listenHelp = try await ListenProcess.run(["--help"])
        #expect(listenHelp.stdout.contains("SUBCOMMANDS") && listenHelp.stdout.contains("verify"))
    }
}

/// Through a real nginx with its defaults (`proxy_buffering on`, HTTP/1.0 to the upstream): an
/// upstream that ends its body by closing the connection, as servers answering HTTP/1.0 do, is
/// buffered into bursts unless it sends `X-Accel-Buffering: no`.
@Suite("sse-listen verify through nginx", .timeLimit(.minutes(2)))
struct VerifyThroughNginxTests {
    /// About 8 KiB/s in events of 220 bytes: nginx's 4 KiB buffer fills twice a second.
    static let scenario = Scenario.numbered(interval: .milliseconds(25), payloadSize: 200).framing(.connectionClose)

    @Test("proxy_buffering on: stream.buffering fails with the bursts as evidence; X-Accel-Buffering: no passes")
    func buffering() async throws {
        try await TestServer.withRunning { server in
            try await NginxProxy.withRunning(upstreamPort: server.port) { port in
                func proxied(_ scenario: Scenario) -> String {
                    server.url(for: scenario).replacingOccurrences(of: ":\(server.port)/", with: ":\(port)/")
                }
                let (heldURL, passedURL) = (proxied(Self.scenario.withoutAccelBuffering()), proxied(Self.scenario))
                async let buffered = VerifyEndToEndTests.verify(heldURL, seconds: 4)
                async let unbuffered = VerifyEndToEndTests.verify(passedURL, seconds: 4)
                let (held, passed) = try await (buffered, unbuffered)
                #expect(held.status(of: "stream.buffering") == "fail", "\(held.detail(of: "stream.buffering"))")
                #expect(held.detail(of: "stream.buffering").contains("bursts"))
                #expect(held.status == 4)
                #expect(passed.status(of: "stream.buffering") == "pass", "\(passed.detail(of: "stream.buffering"))")
                // Replay goes through nginx too.
                #expect(passed.status(of: "resume.fin") == "pass", "\(passed.detail(of: "resume.fin"))")
                #expect(passed.status(of: "resume.rst") == "pass", "\(passed.detail(of: "resume.rst"))")
                // nginx removes the header it acted on: behind it, its absence is expected.
                #expect(passed.status(of: "http.x-accel-buffering") == "warn")
            }
        }
    }
}
