import ArgumentParser
import Dispatch
import SSEClient
import SSEParser
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `sse-listen` program: ``prepare(arguments:environment:)`` parses the command line and
/// resolves it (synchronously, before any task runs, because `-d @-` reads standard input), then
/// ``run(_:)`` listens until the stream, a limit, a signal or the reader of standard output ends it.
///
/// ```swift
/// switch SSEListenMain.prepare(arguments: Array(CommandLine.arguments.dropFirst())) {
/// case .exit(let status): exit(status)
/// case .run(let plan): exit(await SSEListenMain.run(plan))
/// case .verify(let plan): exit(await plan.run())
/// case .load(let plan): exit(await plan.run())
/// }
/// ```
///
/// A first argument `verify` or `load` selects that subcommand (a URL always has a scheme, so it cannot
/// be mistaken for one).
public enum SSEListenMain {
    /// What to do after parsing the command line.
    public enum Preparation: Sendable {
        /// Listen as planned.
        case run(ListenPlan)
        /// Run `sse-listen verify` as planned.
        case verify(VerifyPlan)
        /// Run `sse-listen load` as planned.
        case load(LoadPlan)
        /// Exit with this status: 0 after `--help`, 1 after a usage error (the message is written).
        case exit(Int32)
    }

    /// Parses and resolves the command line. Writes `--help` to standard output, and a usage error
    /// as one line plus a hint to standard error.
    ///
    /// ArgumentParser would exit with 64 (`EX_USAGE`) on Linux for a usage error; the contract of
    /// `sse-listen` is 1, so errors are caught here.
    public static func prepare(
        arguments: [String],
        environment: TerminalEnvironment = .current()
    ) -> Preparation {
        let style = TerminalStyle.resolve(
            .auto, isTerminal: environment.stderrIsTerminal, environment: environment.variables)
        switch arguments.first {
        case "verify":
            return prepare(SSEVerify.self, Array(arguments.dropFirst()), help: "sse-listen verify --help", style: style)
            { command throws(ListenError) in
                .verify(try VerifyPlan.resolve(command, environment: environment))
            }
        case "load":
            return prepare(SSELoad.self, Array(arguments.dropFirst()), help: "sse-listen load --help", style: style) {
                command throws(ListenError) in
                .load(try LoadPlan.resolve(command, environment: environment))
            }
        default:
            return prepare(SSEListen.self, arguments, help: "sse-listen --help", style: style) {
                command throws(ListenError) in
                .run(try ListenPlan.resolve(command, environment: environment))
            }
        }
    }

    /// Parses `arguments` as `Command` and resolves it: `--help` to standard output (status 0),
    /// a usage error as one line naming `help` (status 1).
    private static func prepare<Command: ParsableCommand>(
        _ type: Command.Type,
        _ arguments: [String],
        help: String,
        style: TerminalStyle,
        resolve: (Command) throws(ListenError) -> Preparation
    ) -> Preparation {
        let command: Command
        do {
            command = try Command.parse(arguments)
        } catch {
            if Command.exitCode(for: error) == .success {
                writeSynchronously(Command.fullMessage(for: error) + "\n", to: STDOUT_FILENO)
                return .exit(0)
            }
            usageError(Command.message(for: error), style: style, help: help)
            return .exit(1)
        }
        do {
            return try resolve(command)
        } catch {
            usageError(error.message, style: style, help: help)
            return .exit(1)
        }
    }

    /// Listens as `plan` says and returns the exit status (see ``ListenOutcome/exitCode``).
    ///
    /// The program: start the source, feed each update to a ``ListenSession``, write what it
    /// returns, stop when it (or a signal, `--timeout`, or the reader of standard output) says so.
    public static func run(_ plan: ListenPlan) async -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let stop = StopRequest()
        let notes = HookNotes()
        let source = EventSource(url: plan.url, configuration: plan.configuration, hooks: hooks(plan, notes: notes))
        let output = OutputWriter(stateFile: plan.stateFile, savedID: plan.configuration.lastEventID) {
            if stop.request(.outputClosed) { source.close() }
        }
        // The reader of a pipe may leave while the stream is quiet: end then, not at the next event.
        let hangUp = HangUpWatcher.start {
            if stop.request(.outputClosed) { source.close() }
        }
        defer { hangUp?.cancel() }
        let signals = SignalWatcher([SIGINT, SIGTERM]) { number in
            guard stop.request(.interrupted(signal: number)) else {
                // A second signal, or one during shutdown: the person means it.
                _exit(128 + number)
            }
            source.close()
            // The orderly path flushes and exits at once; if standard output is stuck (a reader
            // that neither reads nor exits), leave anyway: the state file is always whole.
            DispatchQueue.global().asyncAfter(deadline: .now() + 3) { _exit(128 + number) }
        }
        defer { signals.cancel() }
        let timeoutTask = plan.timeout.map { timeout in
            Task {
                do { try await Task.sleep(for: timeout) } catch { return }
                if stop.request(.timedOut(timeout)) { source.close() }
            }
        }
        defer { timeoutTask?.cancel() }

        var session = ListenSession(plan: plan)
        // Events are formatted here and handed to the writer once the source's batch is used up
        // (or 64 KiB are waiting): one lock round trip per batch instead of per event, and no
        // added latency, since the batch ends exactly when the next event would have to wait.
        var staged: [UInt8] = []
        var stagedID: String?
        func flushStaged() async {
            if !staged.isEmpty {
                let mustWait = output.append(to: .stdout) { $0.append(contentsOf: staged) }
                staged.removeAll(keepingCapacity: true)
                if mustWait { await output.waitForSpace() }
            }
            if let id = stagedID {
                output.saveState(id)
                stagedID = nil
            }
        }
        func report(_ lines: [StatusLine]) async {
            guard !lines.isEmpty else { return }
            await output.write(lines.map { $0.rendered(style: plan.stderrStyle) }.joined(), to: .stderr)
        }

        let runStart = ContinuousClock.now
        var stats = plan.gathersStats ? ListenStats(start: runStart) : nil
        var failure: EventSourceError?
        do throws(EventSourceError) {
            var updates = source.updates.makeAsyncIterator()
            while let update = try await updates.next() {
                stats?.record(update, at: .now)
                if case .event(let event) = update {
                    let reachedMax = session.print(event, stdout: &staged)
                    stagedID = event.id
                    if reachedMax || updates.bufferedCount == 0 || staged.count >= 64 * 1024 {
                        await flushStaged()
                    }
                    if let stateFailure = output.stateFailure {
                        if stop.request(.usageError(stateFailure)) { source.close() }
                        break
                    }
                    if reachedMax {
                        if stop.request(.maxEventsReached(session.printedEvents)) { source.close() }
                        break
                    }
                    continue
                }
                // Not an event: status lines at most, never a reason to stop or an ID to save.
                let lines = session.handle(update, stdout: &staged, hookLines: notes.take).lines
                if !lines.isEmpty || updates.bufferedCount == 0 {
                    await flushStaged()
                    await report(lines)
                }
                if let stateFailure = output.stateFailure {
                    if stop.request(.usageError(stateFailure)) { source.close() }
                    break
                }
            }
        } catch {
            failure = error
        }
        // The line feed that ends --join'ed output, on every ending.
        session.finishOutput(stdout: &staged)
        await flushStaged()
        source.close()
        await output.drain()

        let (outcome, lines) = session.finish(
            stop: stop.reason, failure: failure, stateFailure: output.stateFailure, hookLines: notes.take())
        var statsLines: [StatusLine] = []
        if let stats {
            let figures = stats.report(metrics: source.metrics, end: .now)
            if plan.printsStats { statsLines = figures.lines }
            if let path = plan.statsJSONPath, let problem = Self.write(figures.json, to: path) {
                statsLines.append(StatusLine(.error, "cannot write --stats-json \(path): \(problem)"))
            }
        }
        await report(session.fieldSummaryLines + lines + statsLines)
        await output.drain()
        return outcome.exitCode
    }

    /// The hook that feeds `--verbose`: the body of a POST is not part of the head libcurl
    /// reports, so its size is noted before each request. It runs on another thread, so it leaves
    /// lines for the loop, which prints them in order with the states that follow.
    private static func hooks(_ plan: ListenPlan, notes: HookNotes) -> EventSource.Hooks {
        var hooks = EventSource.Hooks()
        guard plan.verbose, plan.configuration.body != nil else { return hooks }
        hooks.prepareRequest = { request in
            if let body = request.body {
                notes.append([StatusLine(.detail, "> (body: \(body.count) byte\(body.count == 1 ? "" : "s"))")])
            }
            return request
        }
        return hooks
    }

    /// Writes `text` to the file at `path` (created or truncated); the problem, if it failed.
    private static func write(_ text: String, to path: String) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return FileIO.errorText() }
        defer { close(fd) }
        do {
            try FileIO.writeAll(fd: fd, Array(text.utf8))
        } catch {
            return error.message
        }
        return nil
    }

    private static func usageError(_ message: String, style: TerminalStyle, help: String) {
        let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        let text =
            StatusLine(.error, oneLine).rendered(style: style)
            + StatusLine(.info, "see '\(help)' for the options").rendered(style: style)
        writeSynchronously(text, to: STDERR_FILENO)
    }

    /// Writes `text` whole to `fd`, ignoring a failure (a closed standard error has no one to tell).
    static func writeSynchronously(_ text: String, to fd: Int32) {
        try? FileIO.writeAll(fd: fd, Array(text.utf8))
    }
}

/// The first reason to stop, whoever asks first: a signal, the timeout, `--max-events`, or the
/// reader of standard output going away.
final class StopRequest: Sendable {
    private let first = Mutex<ListenOutcome?>(nil)

    /// Records `reason` unless another came first; returns whether it was the first.
    func request(_ reason: ListenOutcome) -> Bool {
        first.withLock { first in
            guard first == nil else { return false }
            first = reason
            return true
        }
    }

    /// The recorded reason, if any.
    var reason: ListenOutcome? { first.withLock { $0 } }
}

/// The lines the `--verbose` hooks left, waiting for the consumer loop to print them in order.
final class HookNotes: Sendable {
    private let lines = Mutex<[StatusLine]>([])

    func append(_ more: [StatusLine]) {
        lines.withLock { $0 += more }
    }

    func take() -> [StatusLine] {
        lines.withLock { lines in
            defer { lines.removeAll() }
            return lines
        }
    }
}
