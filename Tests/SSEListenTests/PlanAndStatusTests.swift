import Foundation
import SSEClient
import SSEListenCore
import Testing

/// Options to configuration, outcomes to exit statuses, and the wording of status lines.
@Suite("plan and status lines")
struct PlanAndStatusTests {
    static let pipes = TerminalEnvironment(stdoutIsTerminal: false, stderrIsTerminal: false, variables: [:])

    func plan(_ arguments: [String], stdin: [UInt8] = []) throws -> ListenPlan {
        let command = try SSEListen.parse(arguments)
        return try ListenPlan.resolve(command, environment: Self.pipes, readStandardInput: { stdin })
    }

    @Test("defaults: GET, the library's reconnect policy and timeouts, jsonl into a pipe")
    func defaults() throws {
        let plan = try plan(["http://example.com/s"])
        #expect(plan.configuration.method == "GET")
        #expect(plan.configuration.headers.isEmpty)
        #expect(plan.configuration.body == nil)
        #expect(plan.configuration.reconnect == .default)
        #expect(plan.configuration.idleTimeout == .seconds(300))
        #expect(plan.configuration.tls == EventSource.TLS())
        #expect(!plan.configuration.acceptsCompression)
        #expect(plan.format == .jsonl)
        #expect(plan.maxEvents == nil && plan.timeout == nil && plan.stateFile == nil)
        #expect(!plan.stdoutStyle.colors)
    }

    @Test("pretty and colours on a terminal, unless NO_COLOR")
    func terminalDefaults() throws {
        let command = try SSEListen.parse(["http://example.com/s"])
        let terminal = TerminalEnvironment(stdoutIsTerminal: true, stderrIsTerminal: true, variables: [:])
        let plan = try ListenPlan.resolve(command, environment: terminal)
        #expect(plan.format == .pretty)
        #expect(plan.stdoutStyle.colors && plan.stderrStyle.colors)
        var noColor = terminal
        noColor.variables["NO_COLOR"] = "1"
        #expect(!(try ListenPlan.resolve(command, environment: noColor)).stdoutStyle.colors)
    }

    @Test("every option reaches the configuration")
    func options() throws {
        let plan = try plan([
            "https://example.com/s", "-H", "X-A: 1", "-H", "x-b:2", "-X", "PATCH", "-d", "k=v", "-u", "u:p", "-k",
            "--compressed", "--last-event-id", "5", "--max-events", "3", "--event", "a", "--event", "b",
            "--max-retries", "4", "--retry-initial", "250", "--retry-max", "9000", "--idle-timeout", "1.5",
            "--timeout", "2.25", "--format", "raw", "--verbose",
        ])
        let configuration = plan.configuration
        #expect(configuration.method == "PATCH")
        #expect(
            configuration.headers == [
                HTTPHeader("X-A", "1"), HTTPHeader("x-b", "2"), HTTPHeader("Authorization", "Basic dTpw"),
                HTTPHeader("Content-Type", "application/x-www-form-urlencoded"),
            ]
        )
        #expect(configuration.body == Array("k=v".utf8))
        #expect(!configuration.tls.verifiesPeer)
        #expect(configuration.acceptsCompression)
        #expect(configuration.lastEventID == "5")
        #expect(configuration.reconnect.maximumAttempts == 4)
        #expect(configuration.reconnect.initialDelay == .milliseconds(250))
        #expect(configuration.reconnect.maximumDelay == .milliseconds(9000))
        #expect(configuration.idleTimeout == .milliseconds(1500))
        #expect(plan.timeout == .milliseconds(2250))
        #expect(plan.maxEvents == 3)
        #expect(plan.eventTypes == ["a", "b"])
        #expect(plan.format == .raw)
        #expect(plan.verbose && !plan.quiet)
    }

    @Test("-d makes a POST with a JSON Content-Type for JSON; @- reads standard input; -H Authorization beats -u")
    func bodies() throws {
        let json = try plan(
            ["http://h/", "-d", "@-", "-u", "a:b", "-H", "Authorization: Bearer t"], stdin: Array("[1]".utf8))
        #expect(json.configuration.method == "POST")
        #expect(json.configuration.body == Array("[1]".utf8))
        #expect(json.configuration.headers.value(for: "Content-Type") == "application/json")
        #expect(json.configuration.headers.value(for: "Authorization") == "Bearer t")
        #expect(json.configuration.headers.filter { $0.name == "Authorization" }.count == 1)
    }

    @Test("--no-reconnect disables reconnects; --idle-timeout 0 turns the check off")
    func noReconnect() throws {
        let plan = try plan(["http://h/", "--no-reconnect", "--idle-timeout", "0"])
        #expect(plan.configuration.reconnect == .disabled)
        #expect(plan.configuration.idleTimeout == nil)
    }

    @Test("--cacert sets the CA file when it can be read")
    func caFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("ca.pem")
        try UsageErrorEndToEndTests.certificate.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try plan(["https://h/", "--cacert", path]).configuration.tls.caFile == path)
        #expect(throws: ListenError.self) { try plan(["https://h/", "--cacert", directory.file("none.pem")]) }
    }

    @Test("exit statuses: one mapping for every outcome")
    func exitCodes() {
        #expect(ListenOutcome.maxEventsReached(3).exitCode == 0)
        #expect(ListenOutcome.streamEnded.exitCode == 0)
        #expect(ListenOutcome.timedOut(.seconds(1)).exitCode == 0)
        #expect(ListenOutcome.outputClosed.exitCode == 0)
        #expect(ListenOutcome.usageError(.usage("x")).exitCode == 1)
        #expect(ListenOutcome.failed(EventSourceError.unexpectedStatus(404, url: "u")).exitCode == 2)
        #expect(ListenOutcome.interrupted(signal: SIGINT).exitCode == 130)
        #expect(ListenOutcome.interrupted(signal: SIGTERM).exitCode == 143)
    }

    @Test("secrets are redacted from headers and URLs")
    func redaction() {
        #expect(StatusReporter.redacted(HTTPHeader("authorization", "Bearer abc")).value == "Bearer [redacted]")
        #expect(StatusReporter.redacted(HTTPHeader("Authorization", "abc")).value == "[redacted]")
        #expect(StatusReporter.redacted(HTTPHeader("Proxy-Authorization", "Basic xyz")).value == "Basic [redacted]")
        #expect(StatusReporter.redacted(HTTPHeader("Cookie", "a=b")).value == "[redacted]")
        #expect(StatusReporter.redacted(HTTPHeader("Set-Cookie", "a=b; HttpOnly")).value == "[redacted]")
        #expect(StatusReporter.redacted(HTTPHeader("X-Other", "v")).value == "v")
        #expect(StatusReporter.redactedURL("https://u:pw@h:1/p?q=@") == "https://u:***@h:1/p?q=@")
        #expect(StatusReporter.redactedURL("https://u@h/p") == "https://u@h/p")
        #expect(StatusReporter.redactedURL("http://h/p?a=b@c") == "http://h/p?a=b@c")
        let response = StatusReporter.responseLines(
            ResponseHead(status: 200, headers: [HTTPHeader("Set-Cookie", "sid=1")], url: "u"))
        #expect(response.map(\.text) == ["< 200 OK", "< Set-Cookie: [redacted]"])
    }

    @Test("status lines: connecting, resuming, reconnecting with the delay, attempt and reason")
    func statusLines() {
        var reporter = StatusReporter(url: "http://u:pw@h/s", verbose: false)
        func texts(_ update: EventSourceUpdate) -> [String] { reporter.lines(for: update).map(\.text) }
        #expect(
            texts(.state(.connecting(attempt: 0, lastEventID: "3"))) == [
                "connecting to http://u:***@h/s, resuming after Last-Event-ID 3"
            ])
        #expect(
            texts(
                .state(
                    .open(
                        ResponseHead(status: 200, headers: [HTTPHeader("Content-Type", "text/event-stream")], url: "")))
            ) == [
                "connected: 200 OK (text/event-stream)"
            ])
        let dropped = DisconnectReason.failure(EventSourceError.transport("connection reset", url: "http://u:pw@h/s"))
        #expect(texts(.state(.disconnected(dropped))).isEmpty)
        #expect(
            texts(.state(.waitingToReconnect(delay: .milliseconds(1500), attempt: 2, reason: dropped))) == [
                "connection lost: connection reset; reconnecting in 1.5 s (attempt 2)"
            ])
        #expect(
            texts(.state(.connecting(attempt: 2, lastEventID: "9"))) == [
                "reconnecting (attempt 2), resuming after Last-Event-ID 9"
            ])
        let refused = DisconnectReason.failure(EventSourceError.transport("refused", url: "u"))
        #expect(
            texts(.state(.waitingToReconnect(delay: .milliseconds(250), attempt: 3, reason: refused))) == [
                "cannot connect: refused; reconnecting in 250 ms (attempt 3)"
            ])
        let unavailable = DisconnectReason.failure(EventSourceError.unexpectedStatus(503, url: "u"))
        #expect(
            texts(.state(.waitingToReconnect(delay: .seconds(2), attempt: 4, reason: unavailable))) == [
                "the server answered 503 Service Unavailable; reconnecting in 2 s (attempt 4)"
            ])
        #expect(texts(.comment("ping")).isEmpty, "heartbeats only with --verbose")
        #expect(texts(.event(.init(data: "x"))).isEmpty)
    }

    @Test("closing lines: errors keep their URL, with any password hidden")
    func finalLines() {
        var reporter = StatusReporter(url: "http://u:pw@h/s", verbose: true)
        let error = EventSourceError.unexpectedStatus(404, url: "http://u:pw@h/s")
        #expect(
            reporter.finalLines(for: .failed(error)) == [
                StatusLine(.error, "server answered 404 Not Found for http://u:***@h/s; not retrying")
            ])
        let gaveUp = EventSourceError.gaveUp(
            attempts: 3, lastFailure: .unexpectedStatus(503, url: "http://u:pw@h/s"), url: "http://u:pw@h/s"
        )
        #expect(
            reporter.finalLines(for: .failed(gaveUp)).map(\.text) == [
                "gave up on http://u:***@h/s after 3 failed attempts; "
                    + "last failure: server answered 503 Service Unavailable for http://u:***@h/s"
            ])
        _ = reporter.lines(for: .state(.disconnected(.finishedByServer(status: 204))))
        #expect(
            reporter.finalLines(for: .streamEnded).map(\.text) == [
                "the server answered 204 No Content: the stream is over"
            ])
        #expect(reporter.finalLines(for: .outputClosed).isEmpty)
        #expect(reporter.finalLines(for: .interrupted(signal: SIGTERM)).map(\.text) == ["interrupted by SIGTERM"])
        #expect(StatusLine(.error, "x").rendered(style: .plain) == "sse-listen: error: x\n")
        #expect(
            StatusLine(.warning, "w").rendered(style: TerminalStyle(colors: true))
                == "\u{1B}[2msse-listen:\u{1B}[0m \u{1B}[33mw\u{1B}[0m\n")
    }

    @Test("header syntax: a token name and a colon; values trimmed")
    func headerSyntax() {
        #expect(ListenPlan.problem(withHeader: "X-Ok:  v ") == nil)
        #expect(ListenPlan.problem(withHeader: "X-Empty:") == nil)
        #expect(ListenPlan.problem(withHeader: "no colon") != nil)
        #expect(ListenPlan.problem(withHeader: ": value") != nil)
        #expect(ListenPlan.problem(withHeader: "Bad Name: v") != nil)
    }

    @Test("URLs: absolute http or https with a host")
    func urls() {
        #expect(ListenPlan.problem(withURL: "http://127.0.0.1:8080/events?x=1") == nil)
        #expect(ListenPlan.problem(withURL: "HTTPS://example.com") == nil)
        #expect(ListenPlan.problem(withURL: "http://[::1]:80/") == nil)
        for bad in ["", "example.com/x", "ftp://h/", "http://", "http://h /x", "file:///etc/passwd", "/relative"] {
            #expect(ListenPlan.problem(withURL: bad) != nil, "\(bad)")
        }
    }
}
