import SSEClient

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Everything one `sse-listen load` run needs, resolved from its command line.
public struct LoadPlan: Sendable {
    /// The stream's URL.
    public var url: String
    /// The request and transport settings every stream uses.
    public var configuration: EventSource.Configuration
    /// The options of the run, as parsed.
    public var options: Options
    /// Colours for standard output.
    public var stdoutStyle: TerminalStyle
    /// Colours for standard error.
    public var stderrStyle: TerminalStyle
    /// Whether standard error is a terminal (one rewritten progress line) or not (a line each).
    public var stderrIsTerminal: Bool

    /// The options of a `load` run (see ``SSELoad``).
    public struct Options: Sendable {
        /// `--connections`.
        public var connections: Int
        /// `--ramp`, streams per second.
        public var ramp: Double?
        /// `--duration`, seconds.
        public var duration: Double
        /// `--drop-after-events`.
        public var dropAfterEvents: Int?
        /// `--reset`.
        public var reset: Bool
        /// `--timestamp-field`.
        public var timestampField: String?
        /// `--json`.
        public var json: Bool
        /// `--quiet`.
        public var quiet: Bool
        /// `--verbose`.
        public var verbose: Bool
    }

    /// Descriptors the process needs besides one per stream (libcurl, the epoll thread, stdio).
    static let spareDescriptors = 64

    /// Resolves a parsed `load` command, raising the open-files limit as far as it needs.
    ///
    /// - Throws: ``ListenError`` when an option is malformed, a file cannot be read, or even the
    ///   hard limit on open files is too low for `--connections`.
    public static func resolve(
        _ command: SSELoad,
        environment: TerminalEnvironment,
        readStandardInput: (() throws -> [UInt8])? = nil
    ) throws(ListenError) -> LoadPlan {
        var configuration = try ListenPlan.requestConfiguration(
            command.request, transport: command.transport, readStandardInput: readStandardInput)
        // Every stream sends the same request: a POST is repeated too, or a churning run would end.
        configuration.replaysNonIdempotentRequests = true
        try raiseOpenFilesLimit(to: command.connections + spareDescriptors, connections: command.connections)
        return LoadPlan(
            url: command.url,
            configuration: configuration,
            options: Options(
                connections: command.connections, ramp: command.ramp, duration: command.duration,
                dropAfterEvents: command.dropAfterEvents, reset: command.reset, timestampField: command.timestampField,
                json: command.json, quiet: command.quiet, verbose: command.verbose),
            stdoutStyle: TerminalStyle.resolve(
                command.color, isTerminal: environment.stdoutIsTerminal, environment: environment.variables),
            stderrStyle: TerminalStyle.resolve(
                command.color, isTerminal: environment.stderrIsTerminal, environment: environment.variables),
            stderrIsTerminal: environment.stderrIsTerminal
        )
    }

    /// Raises the soft limit on open files to `needed`, up to the hard limit.
    static func raiseOpenFilesLimit(to needed: Int, connections: Int) throws(ListenError) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        guard limit.rlim_cur < rlim_t(needed) else { return }
        guard limit.rlim_max >= rlim_t(needed) else {
            throw .usage(
                "--connections \(connections) needs about \(needed) open files, but the hard limit is "
                    + "\(limit.rlim_max) (ulimit -Hn); raise it, or ask for at most "
                    + "\(max(1, Int(limit.rlim_max) - spareDescriptors)) connections")
        }
        limit.rlim_cur = rlim_t(needed)
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// Runs the load, writes the report to standard output and progress to standard error, and
    /// returns the exit status: 0, or 2 when not a single stream opened.
    public func run() async -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let command = options
        let style = stderrStyle
        let onTerminal = stderrIsTerminal
        var progress: (@Sendable (String, Bool) -> Void)?
        if !command.quiet {
            progress = { line, final in
                if onTerminal {
                    // One line, rewritten in place; the last one stays, ended by a line feed.
                    let text = final ? "\n" : "\r\u{1B}[K" + style.paint("sse-listen:", .dim) + " " + line
                    SSEListenMain.writeSynchronously(text, to: STDERR_FILENO)
                } else if !final {
                    SSEListenMain.writeSynchronously(StatusLine(.info, line).rendered(style: style), to: STDERR_FILENO)
                }
            }
        }
        if !command.quiet {
            let ramp = command.ramp.map { "\(String(format3: $0)) per second" } ?? "all at once"
            let churn =
                command.dropAfterEvents.map {
                    " each dropping after about \($0) events (\(command.reset ? "RST" : "FIN")),"
                } ?? ""
            SSEListenMain.writeSynchronously(
                StatusLine(
                    .info,
                    "loading \(StatusReporter.redactedURL(url)) with \(command.connections) stream\(command.connections == 1 ? "" : "s"), opened \(ramp),"
                        + "\(churn) for \(String(format3: command.duration)) s"
                ).rendered(style: style), to: STDERR_FILENO)
        }
        let runner = LoadRunner(
            url: url,
            configuration: configuration,
            connections: command.connections,
            ramp: command.ramp,
            duration: .milliseconds(Int64((command.duration * 1000).rounded())),
            dropAfterEvents: command.dropAfterEvents,
            reset: command.reset,
            timestampField: command.timestampField.flatMap(JSONPath.init) ?? JSONPath("sent_us"),
            timestampFieldIsDefault: command.timestampField == nil,
            progress: progress
        )
        let report = await runner.run()
        SSEListenMain.writeSynchronously(
            command.json ? report.json + "\n" : report.table(style: stdoutStyle, verbose: command.verbose),
            to: STDOUT_FILENO)
        if command.verbose, let reason = report.unknownLossReason {
            SSEListenMain.writeSynchronously(
                StatusLine(.info, "lost and duplicated unknown: \(reason)").rendered(style: style), to: STDERR_FILENO)
        }
        if report.opened == 0 {
            let reasons = report.failures.keys.sorted().map { "\($0) ×\(report.failures[$0]!)" }.joined(separator: ", ")
            SSEListenMain.writeSynchronously(
                StatusLine(.error, "not a single stream opened (\(reasons))").rendered(style: style), to: STDERR_FILENO)
        }
        return report.exitCode
    }
}
