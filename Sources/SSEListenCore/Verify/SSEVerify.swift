import ArgumentParser

/// The `sse-listen verify` command line: the request options of listening, how long to observe,
/// and how to report.
public struct SSEVerify: ParsableCommand {
    /// The name, summary and the help's closing sections (the checks, exit codes, examples).
    public static let configuration = CommandConfiguration(
        commandName: "sse-listen verify",
        abstract: "Check that an SSE server keeps its promises: headers, liveness, buffering, replay.",
        discussion: """
            For --duration seconds, verify watches one uninterrupted stream, and alongside it
            drops a second connection mid-stream with a FIN and a third with a TCP reset, each
            reconnecting with Last-Event-ID, and asks once with an ID the server never issued.
            It then compares what arrived with the uninterrupted stream and reports every check
            as pass, warn, fail or skip. All requests go to URL (and its redirects) only.

            CHECKS
              http.status             200 with Content-Type: text/event-stream
              http.cache-control      Cache-Control: no-cache or no-store (warn)
              http.content-length     no Content-Length on an open stream (warn)
              http.compression        no Content-Encoding unless asked for (--compressed)
              http.x-accel-buffering  X-Accel-Buffering: no, for nginx in front (warn)
              stream.ids              events carry ids (warn); no id on a block without
                                      data that moves the cursor past a real event (fail)
              stream.heartbeat        the longest silence, no byte at all, against proxy
                                      idle limits (warn above 30 s, or quiet without
                                      heartbeat comments)
              stream.buffering        events are not held back and delivered in bursts
              resume.fin              after a drop (FIN) and a reconnect with
                                      Last-Event-ID: no event lost or repeated, in order
              resume.rst              the same after a TCP reset
              resume.unknown-id       an unknown Last-Event-ID gets an answer, not a 5xx
                                      or a hang
              retry.field             every retry: value is ASCII digits

            EXIT STATUS
              0    no check failed (warnings allowed)
              1    usage error
              2    the server could not be checked at all: refused, no answer, or a
                   fatal status (401, 404, a wrong Content-Type) on the first request
              4    at least one check failed

            EXAMPLES
              sse-listen verify http://127.0.0.1:8080/events
              sse-listen verify --duration 60 --json https://example.com/stream | jq .summary
              sse-listen verify -H "Authorization: Bearer $TOKEN" https://api.example.com/feed
            """
    )

    /// The stream's URL.
    @Argument(help: "The http or https URL of the event stream.")
    public var url: String

    /// `-H`, `-X`, `-d`, `-u`, `-k`, `--cacert`, `--compressed`, as for listening.
    @OptionGroup(title: "Request")
    public var request: RequestOptions

    /// The transport options, as for listening.
    @OptionGroup(title: "Transport")
    public var transport: TransportOptions

    /// How long to observe.
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "How long to observe the stream, in seconds (default: 20). A longer run sees longer silences.",
            valueName: "seconds"
        )
    )
    public var duration: Double = 20

    /// The report as JSON.
    @Flag(
        help: ArgumentHelp(
            "Print the report as one JSON object on standard output: url, checks [{id, status, detail, hint}], "
                + "summary {pass, warn, fail, skip}."
        )
    )
    public var json = false

    /// The seed of the random drop points.
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Seed the random points where connections are dropped, to repeat a run.", valueName: "n")
    )
    public var seed: UInt64?

    /// No status lines.
    @Flag(name: .shortAndLong, help: "No status lines on standard error (errors are still reported).")
    public var quiet = false

    /// When to use colours.
    @Option(help: ArgumentHelp("Colour output: auto (a terminal without NO_COLOR), always, never.", valueName: "when"))
    public var color: ColorChoice = .auto

    /// Creates an empty command; the parser fills it in.
    public init() {}

    /// Checks the URL and the duration.
    public func validate() throws {
        if let problem = ListenPlan.problem(withURL: url) {
            throw ValidationError(problem)
        }
        try LimitOptions.check("--duration", duration, allowsZero: false, unit: "seconds")
        if duration > 24 * 3600 {
            throw ValidationError("--duration must be at most 86400 seconds (a day), got \(duration)")
        }
    }
}
