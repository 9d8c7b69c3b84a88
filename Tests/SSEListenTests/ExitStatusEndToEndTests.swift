import Foundation
import SSETestServer
import Testing

/// Every exit status of the contract, and the options that lead to them.
@Suite("sse-listen exit statuses", .timeLimit(.minutes(1)))
struct ExitStatusEndToEndTests {
    // MARK: 0: ended as asked

    @Test("0: --max-events reached, with exactly that many events printed")
    func maxEvents() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run([server.url(for: .numbered()), "--max-events", "5"])
            #expect(result.status == 0)
            #expect(result.ids == ["1", "2", "3", "4", "5"])
        }
    }

    @Test("0: the stream ended with --no-reconnect, after one request")
    func noReconnectEnd() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run([server.url(for: .numbered(count: 2)), "--no-reconnect"])
            #expect(result.status == 0)
            #expect(result.ids == ["1", "2"])
            #expect(server.requests.count == 1)
        }
    }

    @Test("0: the server answered 204 No Content")
    func noContent() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run([server.url(for: .status(204))])
            #expect(result.status == 0)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.contains("the server answered 204 No Content: the stream is over"))
            #expect(server.requests.count == 1)
        }
    }

    @Test("0: --timeout reached while streaming (2 when no stream ever opened: TimeoutEndToEndTests)")
    func timeout() async throws {
        try await TestServer.withRunning { server in
            let start = ContinuousClock.now
            let streaming = try await ListenProcess.run([
                server.url(for: .numbered(interval: .milliseconds(30))), "--timeout", "1",
            ])
            #expect(streaming.status == 0)
            #expect(streaming.ids.count >= 2)
            #expect(streaming.ids == (1...streaming.ids.count).map(String.init))
            #expect(streaming.stderr.contains("the --timeout of 1 s is up; done"))
            // Not before the timeout was up; how long after it, on a loaded machine, is not this
            // test's business (finish() bounds a hang).
            #expect(ContinuousClock.now - start >= .seconds(1))
        }
    }

    @Test("0: a closed standard output (| head -n 3) ends quietly")
    func closedPipe() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run(
                [server.url(for: .numbered(interval: .milliseconds(5))), "--format", "data"],
                shell: #""$@" | head -n 3; exit ${PIPESTATUS[0]}"#
            )
            #expect(result.status == 0)
            #expect(result.stdout == "1\n2\n3\n")
            #expect(!result.stderr.contains("error"))
            #expect(!result.stderr.contains("Broken pipe"))
        }
    }

    // MARK: 1: usage errors

    @Test(
        "1: a bad flag, value or URL, with a one-line message and a hint",
        arguments: [
            (["--nope", "http://127.0.0.1:1/"], "Unknown option '--nope'"),
            (["http://127.0.0.1:1/", "--format", "xml"], "The value 'xml' is invalid for '--format <format>'"),
            (["http://127.0.0.1:1/", "--max-events", "0"], "--max-events must be positive (a whole number), got 0"),
            (["http://127.0.0.1:1/", "--max-events", "many"], "The value 'many' is invalid for '--max-events <n>'"),
            (["http://127.0.0.1:1/", "--timeout", "0"], "--timeout must be positive (a finite number of seconds)"),
            (["http://127.0.0.1:1/", "-H", "no colon"], "-H/--header needs 'Name: value'"),
            (["http://127.0.0.1:1/", "-u", "nopassword"], "-u/--user needs USER:PASSWORD"),
            (["http://127.0.0.1:1/", "-q", "-v"], "--quiet and --verbose cannot be used together"),
            (["http://127.0.0.1:1/", "--no-reconnect", "--max-retries", "2"], "--max-retries has no effect"),
            ([], "Missing expected argument '<url>'"),
            (["ftp://example.com/"], "'ftp://example.com/' is not an http or https URL"),
            (["not a url"], "'not a url' is not a URL"),
            (["http://"], "'http://' "),
            (
                ["http://127.0.0.1:1/", "-d", "@/nonexistent/body.json"],
                "cannot read -d/--data file '/nonexistent/body.json'"
            ),
        ]
    )
    func usageErrors(arguments: [String], message: String) async throws {
        let result = try await ListenProcess.run(arguments)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let lines = result.stderrLines
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.hasPrefix("sse-listen: error: ") == true)
        #expect(lines.first?.contains(message) == true, "\(lines)")
        #expect(lines.last == "sse-listen: see 'sse-listen --help' for the options")
    }

    @Test("0: --help documents every exit status")
    func help() async throws {
        let result = try await ListenProcess.run(["--help"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        for text in ["EXIT STATUS", "  0 ", "  1 ", "  2 ", "  130 ", "  143 ", "--state-file", "--max-retries"] {
            #expect(result.stdout.contains(text), "\(text)")
        }
    }

    // MARK: 2: gave up, or a fatal answer

    @Test(
        "2: a fatal answer, with a message saying what came back (even with --quiet)",
        arguments: [
            (Scenario.status(401), "server answered 401 Unauthorized"),
            (Scenario.status(404), "server answered 404 Not Found"),
            (
                Scenario.numbered(count: 1).contentType("text/html"),
                "with Content-Type 'text/html', not text/event-stream"
            ),
        ]
    )
    func fatalAnswers(scenario: Scenario, message: String) async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: scenario)
            let result = try await ListenProcess.run([url, "--quiet"])
            #expect(result.status == 2)
            #expect(result.stdout.isEmpty)
            #expect(result.stderrLines.count == 1)
            #expect(result.stderr.hasPrefix("sse-listen: error: "))
            #expect(result.stderr.contains(message))
            #expect(result.stderr.contains(url))
            #expect(server.requests.count == 1, "not retried")
        }
    }

    @Test("2: --max-retries exhausted on a failing server")
    func maxRetries() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run(
                [server.url(for: .status(503)), "--max-retries", "2"] + fastRetries)
            #expect(result.status == 2)
            #expect(server.requests.count == 3)
            let lines = result.stderrLines
            #expect(
                lines.filter { $0.contains("the server answered 503 Service Unavailable; reconnecting in") }.count == 2)
            #expect(
                lines.last?.hasPrefix(
                    "sse-listen: error: gave up on \(server.url(for: .status(503))) after 3 failed attempts") == true)
        }
    }

    @Test("2: a refused connection with --no-reconnect")
    func refusedWithoutReconnect() async throws {
        let result = try await ListenProcess.run(["http://127.0.0.1:1/events", "--no-reconnect"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("sse-listen: error: connection to http://127.0.0.1:1/events failed"))
    }

    @Test("--retry-initial and --retry-max bound the backoff delays")
    func retryDelays() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 2).failing(with: 503, times: 3))
            let result = try await ListenProcess.run([
                url, "--retry-initial", "40", "--retry-max", "60", "--max-events", "2",
            ])
            #expect(result.status == 0)
            #expect(result.ids == ["1", "2"])
            let delays = result.stderrLines.compactMap { line -> Int? in
                guard let range = line.range(of: #"reconnecting in \d+ ms"#, options: .regularExpression) else {
                    return nil
                }
                return Int(line[range].split(separator: " ")[2])
            }
            #expect(delays.count == 3, "\(result.stderrLines)")
            // Attempt 1: 40 ms less up to half jitter; then doubled but capped at 60 ms.
            #expect((20...40).contains(delays.first ?? -1))
            #expect(delays.dropFirst().allSatisfy { (30...60).contains($0) }, "\(delays)")
            let times = server.requests.map(\.receivedAt)
            #expect(times.count == 4)
            for (earlier, later) in zip(times, times.dropFirst()) {
                #expect(later - earlier >= .milliseconds(20))
            }
        }
    }

    @Test("--idle-timeout drops a silent connection and reconnects")
    func idleTimeout() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run(
                [server.url(for: .hangAfterHeaders), "--idle-timeout", "0.2", "--max-retries", "1"] + fastRetries)
            #expect(result.status == 2)
            #expect(server.requests.count == 2)
            #expect(result.stderr.contains("no data for 200 ms (idle timeout); reconnecting in"))
            #expect(result.stderr.contains("gave up"))
        }
    }

    // MARK: 130 and 143: signals

    @Test("130 on SIGINT and 143 on SIGTERM, with stdout and the state file flushed", arguments: [SIGINT, SIGTERM])
    func signals(number: Int32) async throws {
        try await TestServer.withRunning { server in
            let directory = try TemporaryDirectory()
            let state = directory.file("state")
            let process = try ListenProcess([
                server.url(for: .numbered(interval: .milliseconds(20))), "--state-file", state,
            ])
            try await process.waitForStdoutLines(5)
            process.send(number)
            let result = try await process.finish()
            #expect(result.status == 128 + number)
            let ids = result.ids
            #expect(ids.count >= 5)
            #expect(ids == (1...ids.count).map(String.init), "every line complete and in order")
            #expect(try String(contentsOfFile: state, encoding: .utf8) == "\(ids.count)\n")
            #expect(result.stderr.contains("interrupted by \(number == SIGINT ? "SIGINT" : "SIGTERM")"))
        }
    }
}
