import SSEClient
import SSEListenCore
import SSEParser
import Testing

/// The pure core of a run: updates in, output bytes, status lines, saves and the outcome out.
/// No process, no socket, no clock.
@Suite("listen session")
struct ListenSessionTests {
    static let pipes = TerminalEnvironment(stdoutIsTerminal: false, stderrIsTerminal: false, variables: [:])
    static let url = "http://127.0.0.1:9/s"

    static func session(_ arguments: [String]) throws -> ListenSession {
        let command = try SSEListen.parse([url] + arguments)
        return ListenSession(plan: try ListenPlan.resolve(command, environment: pipes, readStandardInput: { [] }))
    }

    static let connecting = EventSourceUpdate.state(.connecting(attempt: 0, lastEventID: ""))
    static let open = EventSourceUpdate.state(
        .open(ResponseHead(status: 200, headers: [HTTPHeader("Content-Type", "text/event-stream")], url: url)))
    static let refused = EventSourceError.transport("Couldn't connect to server", url: url)
    static let unavailable = EventSourceError.unexpectedStatus(503, url: url)

    @Test("events: formatted onto standard output, each ID saved, --event filters but still saves")
    func events() throws {
        var session = try Self.session(["--event", "keep"])
        var stdout: [UInt8] = []
        let kept = session.handle(.event(ServerSentEvent(id: "1", type: "keep", data: "a")), stdout: &stdout)
        let skipped = session.handle(.event(ServerSentEvent(id: "2", type: "skip", data: "b")), stdout: &stdout)
        #expect(String(decoding: stdout, as: UTF8.self) == #"{"id":"1","event":"keep","data":"a"}"# + "\n")
        #expect(kept == ListenSession.Reaction(savedID: "1"))
        #expect(skipped == ListenSession.Reaction(savedID: "2"))
        #expect(session.printedEvents == 1)
    }

    @Test("--max-events: the event that reaches it asks to stop, after it is written")
    func maxEvents() throws {
        var session = try Self.session(["--max-events", "2"])
        var stdout: [UInt8] = []
        #expect(session.handle(.event(ServerSentEvent(id: "1", data: "a")), stdout: &stdout).stop == nil)
        let second = session.handle(.event(ServerSentEvent(id: "2", data: "b")), stdout: &stdout)
        #expect(second.stop == .maxEventsReached(2))
        #expect(second.savedID == "2")
        #expect(String(decoding: stdout, as: UTF8.self).split(separator: "\n").count == 2)
    }

    @Test("print: the per-event path formats and filters as handle does, and says when --max-events is reached")
    func printPath() throws {
        var session = try Self.session(["--event", "keep", "--max-events", "2"])
        var printed: [UInt8] = []
        #expect(!session.print(ServerSentEvent(id: "1", type: "keep", data: "a"), stdout: &printed))
        #expect(!session.print(ServerSentEvent(id: "2", type: "skip", data: "b"), stdout: &printed))
        #expect(session.print(ServerSentEvent(id: "3", type: "keep", data: "c"), stdout: &printed))
        #expect(session.printedEvents == 2)

        var handled = try Self.session(["--event", "keep", "--max-events", "2"])
        var expected: [UInt8] = []
        for (id, type, data) in [("1", "keep", "a"), ("2", "skip", "b"), ("3", "keep", "c")] {
            _ = handled.handle(.event(ServerSentEvent(id: id, type: type, data: data)), stdout: &expected)
        }
        #expect(printed == expected)
    }

    @Test("status lines: a request's hook lines follow 'connecting', a response's precede 'connected'")
    func hookLineOrder() throws {
        var session = try Self.session([])
        var stdout: [UInt8] = []
        let request = [StatusLine(.detail, "> GET \(Self.url)")]
        let response = [StatusLine(.detail, "< 200 OK")]
        #expect(
            session.handle(Self.connecting, stdout: &stdout, hookLines: { request }).lines
                == [StatusLine(.info, "connecting to \(Self.url)")] + request)
        #expect(
            session.handle(Self.open, stdout: &stdout, hookLines: { response }).lines
                == response + [StatusLine(.success, "connected: 200 OK (text/event-stream)")])
        #expect(stdout.isEmpty)
    }

    @Test("--quiet keeps only error lines")
    func quiet() throws {
        var session = try Self.session(["--quiet", "--timeout", "1"])
        var stdout: [UInt8] = []
        #expect(session.handle(Self.connecting, stdout: &stdout).lines.isEmpty)
        #expect(session.handle(.state(.disconnected(.failure(Self.refused))), stdout: &stdout).lines.isEmpty)
        let (outcome, lines) = session.finish(stop: .timedOut(.seconds(1)), failure: nil, stateFailure: nil)
        #expect(outcome.exitCode == 2)
        #expect(lines.map(\.level) == [.error])
    }

    @Test("--timeout before any stream opened: exit 2 with the last failure")
    func timeoutWithoutStream() throws {
        var session = try Self.session(["--timeout", "3"])
        var stdout: [UInt8] = []
        for update in [
            Self.connecting, .state(.disconnected(.failure(Self.refused))),
            .state(.waitingToReconnect(delay: .seconds(1), attempt: 1, reason: .failure(Self.refused))),
            .state(.connecting(attempt: 1, lastEventID: "")), .state(.disconnected(.failure(Self.unavailable))),
        ] {
            _ = session.handle(update, stdout: &stdout)
        }
        #expect(!session.hasBeenOpen)
        let (outcome, lines) = session.finish(stop: .timedOut(.seconds(3)), failure: nil, stateFailure: nil)
        #expect(outcome == .timedOutBeforeOpen(.seconds(3), lastFailure: Self.unavailable))
        #expect(outcome.exitCode == 2)
        #expect(
            lines == [
                StatusLine(
                    .error,
                    "no stream from \(Self.url) within the --timeout of 3 s; "
                        + "last failure: the server answered 503 Service Unavailable")
            ])
    }

    @Test("--timeout while still connecting the first time: exit 2, still connecting")
    func timeoutWhileConnecting() throws {
        var session = try Self.session(["--timeout", "0.5"])
        var stdout: [UInt8] = []
        _ = session.handle(Self.connecting, stdout: &stdout)
        let (outcome, lines) = session.finish(stop: .timedOut(.milliseconds(500)), failure: nil, stateFailure: nil)
        #expect(outcome == .timedOutBeforeOpen(.milliseconds(500), lastFailure: nil))
        #expect(lines.map(\.text) == ["no stream from \(Self.url) within the --timeout of 500 ms (still connecting)"])
    }

    @Test("--timeout after the stream was open once: exit 0, even if it fails now")
    func timeoutAfterStream() throws {
        var session = try Self.session(["--timeout", "3"])
        var stdout: [UInt8] = []
        for update in [Self.connecting, Self.open, .state(.disconnected(.failure(Self.unavailable)))] {
            _ = session.handle(update, stdout: &stdout)
        }
        let (outcome, lines) = session.finish(stop: .timedOut(.seconds(3)), failure: nil, stateFailure: nil)
        #expect(outcome == .timedOut(.seconds(3)))
        #expect(outcome.exitCode == 0)
        #expect(lines.map(\.text) == ["the --timeout of 3 s is up; done"])
    }

    @Test("the end: 204 from the disconnect reason, a failure, a state file that failed")
    func endings() throws {
        var session = try Self.session([])
        var stdout: [UInt8] = []
        _ = session.handle(Self.connecting, stdout: &stdout)
        _ = session.handle(.state(.disconnected(.finishedByServer(status: 204))), stdout: &stdout)
        let noContent = session.finish(stop: nil, failure: nil, stateFailure: nil)
        #expect(noContent.outcome == .streamEnded)
        #expect(noContent.lines.map(\.text) == ["the server answered 204 No Content: the stream is over"])

        let failed = session.finish(stop: nil, failure: Self.unavailable, stateFailure: nil)
        #expect(failed.outcome == .failed(Self.unavailable))
        #expect(failed.outcome.exitCode == 2)

        let stateFailure = ListenError.stateFile("cannot write state file 's': No space left on device")
        let closed = session.finish(stop: .outputClosed, failure: nil, stateFailure: stateFailure)
        #expect(closed.outcome == .usageError(stateFailure))
        #expect(closed.lines == [StatusLine(.error, "cannot write state file 's': No space left on device")])
        // A signal's status stands.
        let interrupted = session.finish(stop: .interrupted(signal: 2), failure: nil, stateFailure: stateFailure)
        #expect(interrupted.outcome.exitCode == 130)
    }

    @Test("hook lines left at the end come before the closing line")
    func finalHookLines() throws {
        let session = try Self.session([])
        let response = StatusLine(.detail, "< 404 Not Found")
        let failure = EventSourceError.unexpectedStatus(404, url: Self.url)
        let (_, lines) = session.finish(stop: nil, failure: failure, stateFailure: nil, hookLines: [response])
        #expect(lines.first == response)
        #expect(lines.last?.level == .error)
    }
}
