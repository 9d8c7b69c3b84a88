import SSEClient

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Everything one `sse-listen verify` run needs, resolved from its command line.
public struct VerifyPlan: Sendable {
    /// The stream's URL.
    public var url: String
    /// The request settings shared with listening (method, headers, body, TLS, compression).
    public var configuration: EventSource.Configuration
    /// How long to observe.
    public var duration: Duration
    /// Whether the report is JSON on standard output.
    public var json: Bool
    /// The seed of the random drop points.
    public var seed: UInt64
    /// No status lines.
    public var quiet: Bool
    /// Colours for standard output.
    public var stdoutStyle: TerminalStyle
    /// Colours for standard error.
    public var stderrStyle: TerminalStyle

    /// Resolves a parsed `verify` command.
    ///
    /// - Throws: ``ListenError`` when a header is malformed or a file cannot be read.
    public static func resolve(
        _ command: SSEVerify,
        environment: TerminalEnvironment,
        readStandardInput: (() throws -> [UInt8])? = nil
    ) throws(ListenError) -> VerifyPlan {
        let configuration = try ListenPlan.requestConfiguration(
            command.request, transport: command.transport, readStandardInput: readStandardInput)
        return VerifyPlan(
            url: command.url,
            configuration: configuration,
            duration: .milliseconds(Int64((command.duration * 1000).rounded())),
            json: command.json,
            seed: command.seed ?? UInt64.random(in: 0...UInt64.max),
            quiet: command.quiet,
            stdoutStyle: TerminalStyle.resolve(
                command.color, isTerminal: environment.stdoutIsTerminal, environment: environment.variables),
            stderrStyle: TerminalStyle.resolve(
                command.color, isTerminal: environment.stderrIsTerminal, environment: environment.variables)
        )
    }

    /// Runs the checks, writes the report to standard output (status lines to standard error),
    /// and returns the exit status: 0, 4 when a check failed, 2 when the server could not be
    /// checked at all.
    public func run() async -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let displayURL = StatusReporter.redactedURL(url)
        if !quiet {
            let seconds = duration.secondsDescription
            SSEListenMain.writeSynchronously(
                StatusLine(
                    .info,
                    "verifying \(displayURL) for \(seconds): one stream watched, two dropped and resumed "
                        + "(FIN, reset), one unknown Last-Event-ID (--seed \(seed))"
                ).rendered(style: stderrStyle), to: STDERR_FILENO)
        }
        let unknownID = "sse-listen-verify-\(String(seed, radix: 16))-unknown"
        let probe = VerifyProbe(
            url: url, configuration: configuration, duration: duration, seed: seed, unknownID: unknownID)
        let observations = await probe.run()
        let report = VerifyJudgement.report(url: displayURL, observations, unknownID: unknownID)
        SSEListenMain.writeSynchronously(
            json ? report.json + "\n" : report.table(style: stdoutStyle), to: STDOUT_FILENO)
        if !report.reachedStream {
            let reason = report.checks.first?.detail ?? "no event stream"
            SSEListenMain.writeSynchronously(
                StatusLine(.error, "could not check \(displayURL): \(reason)").rendered(style: stderrStyle),
                to: STDERR_FILENO)
        }
        return report.exitCode
    }
}
