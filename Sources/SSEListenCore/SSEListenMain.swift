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
/// }
/// ```
public enum SSEListenMain {
    /// What to do after parsing the command line.
    public enum Preparation: Sendable {
        /// Listen as planned.
        case run(ListenPlan)
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
        let command: SSEListen
        do {
            command = try SSEListen.parse(arguments)
        } catch {
            if SSEListen.exitCode(for: error) == .success {
                writeSynchronously(SSEListen.fullMessage(for: error) + "\n", to: STDOUT_FILENO)
                return .exit(0)
            }
            usageError(SSEListen.message(for: error), style: style)
            return .exit(1)
        }
        do {
            return .run(try ListenPlan.resolve(command, environment: environment))
        } catch {
            usageError(error.message, style: style)
            return .exit(1)
        }
    }

    /// Listens as `plan` says and returns the exit status (see ``ListenOutcome/exitCode``).
    public static func run(_ plan: ListenPlan) async -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let stop = StopRequest()
        let notes = HookNotes()
        let source = EventSource(url: plan.url, configuration: plan.configuration, hooks: hooks(plan, notes: notes))
        let output = OutputWriter(stateFile: plan.stateFile, savedID: plan.configuration.lastEventID) {
            if stop.request(.outputClosed) { source.close() }
        }
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

        var reporter = StatusReporter(url: plan.url, verbose: plan.verbose)
        var formatter = EventFormatter(format: plan.format, style: plan.stdoutStyle)
        var printed = 0
        var failure: EventSourceError?

        func report(_ lines: [StatusLine]) async {
            var text = ""
            for line in lines where !plan.quiet || line.level == .error {
                text += line.rendered(style: plan.stderrStyle)
            }
            await output.write(text, to: .stderr)
        }
        func takeNotes() -> [StatusLine] {
            var lines: [StatusLine] = []
            for note in notes.take() {
                switch note {
                case .lines(let more): lines += more
                case .status(let status): reporter.record(status: status)
                }
            }
            return lines
        }

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

        do throws(EventSourceError) {
            var updates = source.updates.makeAsyncIterator()
            events: while let update = try await updates.next() {
                guard case .event(let event) = update else {
                    await flushStaged()
                    if case .state(.connecting) = update {
                        // The request hook runs after this state is reported: its lines follow.
                        let lines = reporter.lines(for: update)
                        await report(lines + takeNotes())
                    } else {
                        await report(takeNotes() + reporter.lines(for: update))
                    }
                    continue
                }
                if plan.eventTypes.isEmpty || plan.eventTypes.contains(event.type) {
                    formatter.append(event, to: &staged)
                    printed += 1
                }
                stagedID = event.id
                let reachedMax = plan.maxEvents.map { printed >= $0 } ?? false
                if updates.bufferedCount == 0 || staged.count >= 64 * 1024 || reachedMax {
                    await flushStaged()
                }
                if let stateFailure = output.stateFailure {
                    if stop.request(.usageError(stateFailure)) { source.close() }
                    break events
                }
                if let maxEvents = plan.maxEvents, printed >= maxEvents {
                    if stop.request(.maxEventsReached(printed)) { source.close() }
                    break events
                }
            }
        } catch {
            failure = error
        }
        await flushStaged()
        source.close()
        await output.drain()

        var outcome = stop.reason ?? failure.map(ListenOutcome.failed) ?? .streamEnded
        if let stateFailure = output.stateFailure, outcome.exitCode == 0 || outcome == .outputClosed {
            outcome = .usageError(stateFailure)
        }
        await report(takeNotes() + reporter.finalLines(for: outcome))
        await output.drain()
        return outcome.exitCode
    }

    /// The hooks that feed `--verbose` and the 204 status line: they run on other threads, so
    /// they leave notes for the loop, which prints them in order with the states that follow.
    private static func hooks(_ plan: ListenPlan, notes: HookNotes) -> EventSource.Hooks {
        var hooks = EventSource.Hooks()
        let verbose = plan.verbose
        let userAgent = plan.configuration.userAgent
        if verbose {
            hooks.prepareRequest = { request in
                notes.append(
                    .lines(
                        StatusReporter.requestLines(
                            method: request.method,
                            url: request.url,
                            headers: request.headers,
                            body: request.body,
                            userAgent: userAgent
                        )
                    )
                )
                return request
            }
        }
        hooks.classifyResponse = { head in
            notes.append(.status(head.status))
            if verbose { notes.append(.lines(StatusReporter.responseLines(head))) }
            return nil
        }
        return hooks
    }

    private static func usageError(_ message: String, style: TerminalStyle) {
        let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        let text =
            StatusLine(.error, oneLine).rendered(style: style)
            + StatusLine(.info, "see 'sse-listen --help' for the options").rendered(style: style)
        writeSynchronously(text, to: STDERR_FILENO)
    }

    private static func writeSynchronously(_ text: String, to fd: Int32) {
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

/// What the hooks saw, waiting for the consumer loop to print it in order.
final class HookNotes: Sendable {
    enum Note: Sendable {
        case lines([StatusLine])
        case status(Int)
    }

    private let notes = Mutex<[Note]>([])

    func append(_ note: Note) {
        notes.withLock { $0.append(note) }
    }

    func take() -> [Note] {
        notes.withLock { notes in
            defer { notes.removeAll() }
            return notes
        }
    }
}
