import SSEClient
import SSEParser

/// What one run of `sse-listen` prints and how it ends, as a pure function of what the source
/// reports: each update becomes bytes for standard output, status lines for standard error, an
/// event ID to save once those bytes are written, and perhaps a reason to stop; the end of the
/// updates becomes the ``ListenOutcome`` and its closing lines.
///
/// No I/O, no clock, no process: ``SSEListenMain/run(_:)`` feeds it and performs what it returns.
///
/// ```swift
/// var session = ListenSession(plan: plan)
/// var stdout: [UInt8] = []
/// let reaction = session.handle(.event(event), stdout: &stdout)
/// // write stdout, then save reaction.savedID; print reaction.lines; stop on reaction.stop
/// ```
public struct ListenSession: Sendable {
    /// What to do after one update.
    public struct Reaction: Sendable, Hashable {
        /// Lines for standard error, in order, already filtered by `--quiet`.
        public var lines: [StatusLine] = []
        /// The event ID to save in the state file once the bytes appended so far are written.
        /// Set for every event, printed or filtered out by `--event`.
        public var savedID: String?
        /// Stop listening, for this reason, once the bytes appended so far are written.
        public var stop: ListenOutcome?

        /// Creates a reaction; the default does nothing.
        public init(lines: [StatusLine] = [], savedID: String? = nil, stop: ListenOutcome? = nil) {
            self.lines = lines
            self.savedID = savedID
            self.stop = stop
        }
    }

    private var reporter: StatusReporter
    private var formatter: EventFormatter
    private let eventTypes: Set<String>
    private let maxEvents: Int?
    private let quiet: Bool

    /// How many events were printed (those `--event` let through and, with `--field`, that had
    /// a value at its path).
    public private(set) var printedEvents = 0

    /// How many events `--field` found no value in (their data is not JSON, or has nothing at
    /// the path), so they printed nothing; 0 without `--field`.
    public var eventsWithoutField: Int { formatter.eventsWithoutField }

    /// Whether a connection opened an event stream at some point of the run.
    public private(set) var hasBeenOpen = false

    /// The failure that ended the latest connection, if it failed.
    private var lastFailure: EventSourceError?

    /// Creates a session for `plan`: its output format and colours, filters, limits, `--quiet`
    /// and `--verbose`.
    public init(plan: ListenPlan) {
        reporter = StatusReporter(
            url: plan.url, verbose: plan.verbose,
            throughHTTPSProxy: plan.configuration.transport.proxy.description.lowercased().hasPrefix("https://"))
        formatter = EventFormatter(
            format: plan.format, style: plan.stdoutStyle, field: plan.field, joinsEvents: plan.joinsEvents)
        eventTypes = plan.eventTypes
        maxEvents = plan.maxEvents
        quiet = plan.quiet
    }

    /// Handles one update of the source.
    ///
    /// - Parameters:
    ///   - update: What the source reported.
    ///   - stdout: The output not written yet: an event's bytes are appended to it.
    ///   - hookLines: The `--verbose` lines the request and response hooks left since the last
    ///     call; only asked for on a change of state, and placed where they belong (a request's
    ///     lines after the "connecting" line they follow, a response's before the "connected").
    public mutating func handle(
        _ update: EventSourceUpdate,
        stdout: inout [UInt8],
        hookLines: () -> [StatusLine] = { [] }
    ) -> Reaction {
        guard case .event(let event) = update else {
            switch update {
            case .state(.open):
                hasBeenOpen = true
            case .state(.disconnected(.failure(let error))):
                lastFailure = error
            case .state(.disconnected):
                lastFailure = nil
            default:
                break
            }
            let lines =
                if case .state(.connecting) = update {
                    // The request hook runs after this state is reported: its lines follow.
                    reporter.lines(for: update) + hookLines()
                } else {
                    hookLines() + reporter.lines(for: update)
                }
            return Reaction(lines: shown(lines))
        }
        let reachedMax = print(event, stdout: &stdout)
        return Reaction(savedID: event.id, stop: reachedMax ? .maxEventsReached(printedEvents) : nil)
    }

    /// Handles one event, as ``handle(_:stdout:hookLines:)`` does, without building a
    /// ``Reaction``: the path every event takes, so it stays free of allocations and copies.
    ///
    /// Formats the event into `stdout` unless `--event` filters it out (or `--field` finds no
    /// value in it). The caller saves `event.id` once those bytes are written, printed or not.
    /// - Returns: Whether `--max-events` is now reached: stop with
    ///   ``ListenOutcome/maxEventsReached(_:)`` of ``printedEvents``.
    public mutating func print(_ event: ServerSentEvent, stdout: inout [UInt8]) -> Bool {
        guard eventTypes.isEmpty || eventTypes.contains(event.type) else { return false }
        guard formatter.append(event, to: &stdout) else { return false }
        printedEvents += 1
        guard let maxEvents else { return false }
        return printedEvents >= maxEvents
    }

    /// Appends what ends standard output, however the run ends: the line feed after `--join`ed
    /// output, if anything was printed. Call it once the updates are over, before the last flush
    /// and before the closing lines, so they start on a line of their own.
    public mutating func finishOutput(stdout: inout [UInt8]) {
        formatter.finish(to: &stdout)
    }

    /// The `--verbose` line about `--field`, for the end of the run: how many of the events it
    /// looked at had no value at its path. Empty without `--field` or `--verbose`.
    public var fieldSummaryLines: [StatusLine] {
        guard reporter.verbose, let field = formatter.field else { return [] }
        let missing = formatter.eventsWithoutField
        let seen = missing + printedEvents
        return [
            StatusLine(
                .detail,
                "--field \(field): \(missing) of \(seen) event\(seen == 1 ? "" : "s") had no value there "
                    + "(data not JSON, or no such path) and printed nothing")
        ]
    }

    /// How the run ended, and its closing lines.
    ///
    /// - Parameters:
    ///   - stop: The first reason to stop that was asked for (a signal, `--timeout`,
    ///     `--max-events`, a closed standard output, a state file that cannot be written), if any.
    ///   - failure: The error that ended the updates, if any.
    ///   - stateFailure: The first failure to write the state file, if any: it turns an outcome
    ///     that would exit 0 into a usage error, since the events it missed would be printed again.
    ///   - hookLines: `--verbose` lines the hooks left that were not printed yet.
    public func finish(
        stop: ListenOutcome?,
        failure: EventSourceError?,
        stateFailure: ListenError?,
        hookLines: [StatusLine] = []
    ) -> (outcome: ListenOutcome, lines: [StatusLine]) {
        var outcome = stop ?? failure.map(ListenOutcome.failed) ?? .streamEnded
        if case .timedOut(let timeout) = outcome, !hasBeenOpen {
            outcome = .timedOutBeforeOpen(timeout, lastFailure: lastFailure)
        }
        if let stateFailure, outcome.exitCode == 0 || outcome == .outputClosed {
            outcome = .usageError(stateFailure)
        }
        return (outcome, shown(hookLines + reporter.finalLines(for: outcome)))
    }

    private func shown(_ lines: [StatusLine]) -> [StatusLine] {
        quiet ? lines.filter { $0.level == .error } : lines
    }
}
