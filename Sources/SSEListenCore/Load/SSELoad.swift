import ArgumentParser

/// The `sse-listen load` command line: how many streams, how fast they open, for how long, the
/// churn, and how to report.
public struct SSELoad: ParsableCommand {
    /// The name, summary and the help's closing sections (the report, exit codes, examples).
    public static let configuration = CommandConfiguration(
        commandName: "sse-listen load",
        abstract: "Load an SSE server with many concurrent streams: delivery latency and exact loss accounting.",
        discussion: """
            Opens --connections streams to URL from one process (on one I/O thread), keeps
            them open for --duration seconds (the ramp included), then closes them all and
            reports: streams opened, failed and at most open at once; events and events per
            second; reconnects; events lost and duplicated per stream, from the event ids when
            they are integers (a gap or a repeat in a stream's sequence across its
            reconnects); connect and first-event times; the delivery latency when each event
            carries its send time (--timestamp-field), over all events and over those that
            arrived once every stream had been open (without the ramp's connect storm); and
            this process's memory, CPU time and threads. Progress goes to standard error once a second.

            EXIT STATUS
              0    the run completed (the figures are figures, not a verdict)
              1    usage error, or too few open files allowed for --connections
              2    not a single stream could be opened

            EXAMPLES
              sse-listen load --connections 1000 --duration 30 http://127.0.0.1:8080/events
              sse-listen load --connections 200 --drop-after-events 20 --json \\
                  http://127.0.0.1:8080/subscribe | jq .lost
              sse-listen load --ramp 100 --timestamp-field sent_ms https://example.com/feed
            """
    )

    /// The stream's URL.
    @Argument(help: "The http or https URL of the event stream.")
    public var url: String

    /// The request options, as for listening.
    @OptionGroup(title: "Request")
    public var request: RequestOptions

    /// The transport options, as for listening.
    @OptionGroup(title: "Transport")
    public var transport: TransportOptions

    /// How many streams.
    @Option(
        parsing: .unconditional, help: ArgumentHelp("Concurrent streams to keep open (default: 100).", valueName: "n"))
    public var connections: Int = 100

    /// How fast they open.
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Open this many streams per second (default: all at once).", valueName: "per-second"))
    public var ramp: Double?

    /// How long the run lasts.
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Seconds from the start (the ramp included) until all are closed (default: 30).", valueName: "seconds"))
    public var duration: Double = 30

    /// The churn.
    @Option(
        name: .customLong("drop-after-events"),
        parsing: .unconditional,
        help: ArgumentHelp(
            "Each stream drops its own connection after about this many events (jittered per stream) and "
                + "reconnects with Last-Event-ID, to exercise the server's resume under churn.",
            valueName: "k"))
    public var dropAfterEvents: Int?

    /// RST instead of FIN.
    @Flag(help: "With --drop-after-events: drop with a TCP reset instead of a FIN.")
    public var reset = false

    /// Where each event's send time is.
    @Option(
        name: .customLong("timestamp-field"),
        help: ArgumentHelp(
            "The dot path of the send time in each event's JSON data, in milliseconds or microseconds since "
                + "the epoch (told apart by size), for the delivery latency (default: sent_us, where "
                + "sse-test-server puts it with stamp=1, when a stream's first event has it).",
            valueName: "path"))
    public var timestampField: String?

    /// The report as JSON.
    @Flag(help: "Print the report as one JSON object on standard output.")
    public var json = false

    /// No progress lines.
    @Flag(name: .shortAndLong, help: "No progress lines on standard error.")
    public var quiet = false

    /// Reasons for unknown figures.
    @Flag(name: .shortAndLong, help: "Also say why a figure is unknown (ids that are not integers).")
    public var verbose = false

    /// When to use colours.
    @Option(help: ArgumentHelp("Colour output: auto (a terminal without NO_COLOR), always, never.", valueName: "when"))
    public var color: ColorChoice = .auto

    /// Creates an empty command; the parser fills it in.
    public init() {}

    /// Checks the URL and the numbers.
    public func validate() throws {
        if let problem = ListenPlan.problem(withURL: url) { throw ValidationError(problem) }
        try LimitOptions.check("--connections", connections, allowsZero: false)
        if connections > 1_000_000 {
            throw ValidationError("--connections must be at most 1000000, got \(connections)")
        }
        try LimitOptions.check("--ramp", ramp, allowsZero: false, unit: "streams per second")
        try LimitOptions.check("--duration", duration, allowsZero: false, unit: "seconds")
        try LimitOptions.check("--drop-after-events", dropAfterEvents, allowsZero: false)
        if reset && dropAfterEvents == nil { throw ValidationError("--reset needs --drop-after-events") }
        if let timestampField, let problem = JSONPath.problem(with: timestampField) {
            throw ValidationError("--timestamp-field \(problem)")
        }
        if quiet && verbose { throw ValidationError("--quiet and --verbose cannot be used together") }
    }
}
