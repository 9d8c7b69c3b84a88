import ArgumentParser
import SSEParser

/// The `sse-listen` command line: every option, its help, and the checks that need no I/O.
///
/// Parsing only: ``ListenPlan/resolve(_:environment:readStandardInput:)`` turns the parsed
/// command into what to run, and ``SSEListenMain`` runs it.
public struct SSEListen: ParsableCommand {
    /// The name, summary and the help's closing sections (exit codes, examples).
    public static let configuration = CommandConfiguration(
        commandName: "sse-listen",
        abstract: "Listen to a Server-Sent Events stream: print its events, survive drops, resume where it left off.",
        discussion: """
            Events go to standard output as soon as they arrive; status lines (connecting,
            connected, reconnecting, resuming, giving up) go to standard error. When the
            connection drops, sse-listen reconnects with exponential backoff and sends
            Last-Event-ID, so a server that replays from it loses nothing.

            SUBCOMMANDS
              verify  check that an SSE server keeps its promises: headers, heartbeats,
                      buffering, replay after drops (see 'sse-listen verify --help')
              load    many concurrent streams from one process: delivery latency, loss
                      accounting, reconnect churn (see 'sse-listen load --help')

            EXIT STATUS
              0    ended as asked: --max-events reached, the --until or --until-event
                   terminator arrived, the stream ended with
                   --no-reconnect (or after a POST), the server answered 204 No Content,
                   --timeout reached after the stream was open at some point, or
                   standard output was closed (| head; noticed on a pipe even while
                   the stream is quiet)
              1    usage error: a bad option or URL (no scheme, a port outside 1-65535),
                   a negative or non-finite number, an unreadable @file, a --cacert file
                   that is not PEM, an unreadable state file, or one that is not a
                   regular file or cannot be written
              2    gave up (--max-retries exhausted) or a fatal answer: 401, 404 and
                   other 4xx, a wrong Content-Type, a TLS verification failure, or any
                   failure with --no-reconnect; an --error-event from the server; or
                   --timeout reached without the stream ever opening (refused, 503
                   throughout, no answer); the message says what came back
              3    the stream ended before its --until or --until-event terminator and
                   could not continue (a POST, or --no-reconnect): the answer is
                   incomplete
              130  interrupted by SIGINT (Ctrl-C), after flushing output and state file
              143  terminated by SIGTERM, likewise

            EXAMPLES
              sse-listen http://127.0.0.1:8080/events
              sse-listen --format data https://example.com/stream | jq .
              sse-listen -H "Authorization: Bearer $TOKEN" -d @prompt.json \\
                  https://api.example.com/v1/chat/stream
              sse-listen --state-file feed.state https://example.com/feed
              sse-listen -d @body.json --until '[DONE]' --format data \\
                  https://api.example.com/v1/chat/completions
              sse-listen -X POST -d @body.json --until '[DONE]' \\
                  --field choices.0.delta.content --join \\
                  https://api.example.com/v1/chat/completions
            """,
        version: SwiftSSEVersion.current
    )

    /// The stream's URL.
    @Argument(help: "The http or https URL of the event stream.")
    public var url: String

    /// `-H`, `-X`, `-d`, `-u`, `-k`, `--cacert`, `--compressed`.
    @OptionGroup(title: "Request")
    public var request: RequestOptions

    /// `--http1.1`, `--http2`, `--http2-prior-knowledge`, `--http3`, `-x`, `--noproxy`, `-U`,
    /// `--unix-socket`, `--resolve`, `--connect-to`, `-4`, `-6`.
    @OptionGroup(title: "Transport")
    public var transport: TransportOptions

    /// `--format`, `--field`, `--join`, `--event`, `--quiet`, `--verbose`, `--color`.
    @OptionGroup(title: "Output")
    public var output: OutputOptions

    /// `--last-event-id`, `--state-file`.
    @OptionGroup(title: "Resuming")
    public var resume: ResumeOptions

    /// `--until`, `--until-event`, `--error-event`.
    @OptionGroup(title: "Request-scoped streams (model APIs)")
    public var ending: EndingOptions

    /// `--max-events`, `--timeout`, `--no-reconnect`, `--max-retries`, `--retry-*`, `--idle-timeout`,
    /// `--connect-timeout`, `--max-event-size`.
    @OptionGroup(title: "Stopping and reconnecting")
    public var limits: LimitOptions

    /// Creates an empty command; the parser fills it in.
    public init() {}

    /// Checks the URL: an absolute `http` or `https` URL with a host.
    public func validate() throws {
        if let problem = ListenPlan.problem(withURL: url) {
            throw ValidationError(problem)
        }
    }
}

/// The options that shape the HTTP request.
public struct RequestOptions: ParsableArguments {
    /// Extra request headers, `Name: value`.
    @Option(
        name: [.customShort("H"), .customLong("header")],
        help: ArgumentHelp("Add a request header (repeatable).", valueName: "name: value")
    )
    public var headers: [String] = []

    /// The HTTP method.
    @Option(
        name: [.customShort("X"), .customLong("method")],
        help: ArgumentHelp("The HTTP method (default: GET, or POST with --data).", valueName: "method")
    )
    public var method: String?

    /// The body, `@file` or `@-`.
    @Option(
        name: [.customShort("d"), .customLong("data")],
        help: ArgumentHelp(
            "Send a request body: the text itself, @FILE for a file's contents, @- for standard input. "
                + "Content-Type defaults to application/json when the body is JSON.",
            valueName: "body"
        )
    )
    public var data: String?

    /// Basic authentication credentials.
    @Option(
        name: [.customShort("u"), .customLong("user")],
        help: ArgumentHelp("Send HTTP Basic credentials.", valueName: "user:password")
    )
    public var user: String?

    /// Skip TLS verification.
    @Flag(
        name: [.customShort("k"), .customLong("insecure")],
        help: "Accept any TLS certificate and host name (for testing only)."
    )
    public var insecure = false

    /// A CA bundle.
    @Option(
        name: .customLong("cacert"),
        help: ArgumentHelp(
            "Verify the server against the CA certificates in this PEM file (checked before connecting).",
            valueName: "file"
        )
    )
    public var caFile: String?

    /// Ask for a compressed response.
    @Flag(help: "Ask for a compressed response (gzip, deflate, …) and decompress it.")
    public var compressed = false

    /// Creates empty options; the parser fills them in.
    public init() {}

    /// Checks header syntax, the method and the `--user` form.
    public func validate() throws {
        for header in headers {
            if let problem = ListenPlan.problem(withHeader: header) { throw ValidationError(problem) }
        }
        if let method, method.isEmpty || !method.utf8.allSatisfy(ListenPlan.isTokenCharacter) {
            throw ValidationError("-X/--method '\(method)' is not an HTTP method name")
        }
        if let user, !user.contains(":") {
            throw ValidationError("-u/--user needs USER:PASSWORD (no password prompt), got '\(user)'")
        }
    }
}

/// The options that shape what is printed.
public struct OutputOptions: ParsableArguments {
    /// The output format.
    @Option(
        help: ArgumentHelp(
            "How to print events: jsonl (one JSON object per line: id, event, data), data (the data only), "
                + "raw (text/event-stream), pretty (for people). Default: data with --field or --join, "
                + "else pretty on a terminal, jsonl otherwise.",
            valueName: "format"
        )
    )
    public var format: OutputFormat?

    /// The dot path of the value to print from each event's JSON data (`--field`).
    @Option(
        help: ArgumentHelp(
            "Print the value at this dot path in each event's JSON data instead of the whole data, "
                + "e.g. choices.0.delta.content (a number indexes an array; of duplicate keys the first wins). "
                + "Strings print as their text, other values as compact JSON. An event whose data is not JSON, "
                + "or has nothing there, prints nothing and does not count for --max-events (-v counts them). "
                + "With --format data one value per line; with jsonl the value's text is the data field.",
            valueName: "path"
        )
    )
    public var field: String?

    /// No line feed between events (`-j`, `--join`).
    @Flag(
        name: [.customShort("j"), .customLong("join")],
        help: ArgumentHelp(
            "With --field or --format data: no line feed between events, so streamed tokens join into one "
                + "text as they arrive; one line feed at the end."
        )
    )
    public var join = false

    /// The event types to print.
    @Option(
        name: .customLong("event"),
        help: ArgumentHelp("Print only events of this type (repeatable).", valueName: "type")
    )
    public var eventTypes: [String] = []

    /// No status lines.
    @Flag(name: .shortAndLong, help: "No status lines on standard error (errors are still reported).")
    public var quiet = false

    /// A summary of the run's figures on standard error when it ends.
    @Flag(
        name: .customLong("stats"),
        help: ArgumentHelp(
            "When the run ends (any ending, SIGINT included), print on standard error: time to the response head "
                + "and to the first event, events and bytes, events per second, the gap between events (p50, p95, "
                + "p99, max), the longest silence, reconnects by cause, time paused, the HTTP version."
        )
    )
    public var stats = false

    /// The same figures as JSON, in a file.
    @Option(
        name: .customLong("stats-json"),
        help: ArgumentHelp(
            "When the run ends, write the --stats figures to PATH as one JSON object (times in milliseconds: "
                + "events, bytes, reconnects, time_to_first_event_ms, gap_ms {p50, p95, p99, max}, "
                + "longest_silence_ms, …).",
            valueName: "path"
        )
    )
    public var statsJSON: String?

    /// Headers in the status lines.
    @Flag(
        name: .shortAndLong,
        help: "Also show request and response headers on standard error (Authorization and cookies redacted)."
    )
    public var verbose = false

    /// When to use colours.
    @Option(help: ArgumentHelp("Colour output: auto (a terminal without NO_COLOR), always, never.", valueName: "when"))
    public var color: ColorChoice = .auto

    /// Creates empty options; the parser fills them in.
    public init() {}

    /// Rejects `--quiet` with `--verbose`, a `--field` that is not a dot path, `--field` with a
    /// format that shows whole events, and `--join` with one that has no data to join.
    public func validate() throws {
        if quiet && verbose {
            throw ValidationError("--quiet and --verbose cannot be used together")
        }
        if let field, let problem = JSONPath.problem(with: field) {
            throw ValidationError("--field \(problem)")
        }
        if field != nil, let format, format == .raw || format == .pretty {
            throw ValidationError(
                "--field prints one value per event; use it with --format data or jsonl, not \(format.rawValue)")
        }
        if join, field == nil, let format, format != .data {
            throw ValidationError(
                "-j/--join joins the data of events; use it with --format data or --field, not --format "
                    + format.rawValue)
        }
    }
}

/// The options that say where to resume.
public struct ResumeOptions: ParsableArguments {
    /// The first Last-Event-ID.
    @Option(
        name: .customLong("last-event-id"),
        help: ArgumentHelp(
            "Resume after this event ID (sent as Last-Event-ID); a saved --state-file takes precedence.",
            valueName: "id"
        )
    )
    public var lastEventID: String?

    /// Where to keep the last event ID.
    @Option(
        name: .customLong("state-file"),
        help: ArgumentHelp(
            "Resume from the event ID saved in this file, and save the latest ID there once its event is "
                + "written (atomically, mode 0600). Must be a regular file or missing; a symbolic link is "
                + "followed (its target is updated).",
            valueName: "path"
        )
    )
    public var stateFile: String?

    /// Creates empty options; the parser fills them in.
    public init() {}

    /// Rejects IDs that cannot be sent in a header.
    public func validate() throws {
        if let lastEventID, lastEventID.unicodeScalars.contains(where: { $0 == "\0" || $0 == "\n" || $0 == "\r" }) {
            throw ValidationError("--last-event-id cannot contain NUL, CR or LF")
        }
    }
}

/// The options that say when to stop and how to reconnect.
public struct LimitOptions: ParsableArguments {
    /// Stop after this many printed events.
    @Option(
        name: .customLong("max-events"),
        parsing: .unconditional,
        help: ArgumentHelp("Exit (status 0) after printing this many events.", valueName: "n")
    )
    public var maxEvents: Int?

    /// The overall deadline.
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Exit after this many seconds: status 0 if the stream was open at some point, else 2 with the last "
                + "failure.",
            valueName: "seconds"
        )
    )
    public var timeout: Double?

    /// Never reconnect.
    @Flag(
        name: .customLong("no-reconnect"),
        help: "Do not reconnect: exit 0 when the stream ends, 2 when the connection fails."
    )
    public var noReconnect = false

    /// Give up after this many consecutive failed attempts.
    @Option(
        name: .customLong("max-retries"),
        parsing: .unconditional,
        help: ArgumentHelp(
            "Give up (status 2) after this many consecutive failed reconnects (default: never give up).",
            valueName: "n"
        )
    )
    public var maxRetries: Int?

    /// The first backoff delay.
    @Option(
        name: .customLong("retry-initial"),
        parsing: .unconditional,
        help: ArgumentHelp(
            "The reconnect delay in milliseconds after a connection that delivered new events, "
                + "doubling with each attempt that delivers none (default: 1000, or the server's retry:, "
                + "which is never undercut).",
            valueName: "ms"
        )
    )
    public var retryInitial: Int?

    /// The largest backoff delay.
    @Option(
        name: .customLong("retry-max"),
        parsing: .unconditional,
        help: ArgumentHelp("The longest reconnect delay in milliseconds (default: 30000).", valueName: "ms")
    )
    public var retryMax: Int?

    /// The idle timeout.
    @Option(
        name: .customLong("idle-timeout"),
        parsing: .unconditional,
        help: ArgumentHelp(
            "Reconnect when nothing (not even a heartbeat) arrives for this many seconds (default: 300; 0: never).",
            valueName: "seconds"
        )
    )
    public var idleTimeout: Double?

    /// The connect timeout.
    @Option(
        name: .customLong("connect-timeout"),
        parsing: .unconditional,
        help: ArgumentHelp(
            "Fail a connection attempt (and retry) when connecting, or waiting for the response head, takes "
                + "longer than this many seconds (default: 30).",
            valueName: "seconds"
        )
    )
    public var connectTimeout: Double?

    /// The parser's event size limit.
    @Option(
        name: .customLong("max-event-size"),
        parsing: .unconditional,
        help: ArgumentHelp(
            "The largest event accepted, in bytes; a larger one ends the run with status 2 "
                + "(default: 16777216, 16 MiB).",
            valueName: "bytes"
        )
    )
    public var maxEventSize: Int?

    /// Creates empty options; the parser fills them in.
    public init() {}

    /// Checks ranges: whole numbers and finite numbers of seconds, positive (or 0 where 0 means
    /// something). Negative values reach here, not "Missing value": the options take the next
    /// argument whatever it looks like.
    public func validate() throws {
        try Self.check("--max-events", maxEvents, allowsZero: false)
        try Self.check("--timeout", timeout, allowsZero: false, unit: "seconds")
        try Self.check("--max-retries", maxRetries, allowsZero: true)
        try Self.check("--retry-initial", retryInitial, allowsZero: true, unit: "milliseconds")
        try Self.check("--retry-max", retryMax, allowsZero: false, unit: "milliseconds")
        try Self.check("--idle-timeout", idleTimeout, allowsZero: true, unit: "seconds; 0: never")
        try Self.check("--connect-timeout", connectTimeout, allowsZero: false, unit: "seconds")
        try Self.check("--max-event-size", maxEventSize, allowsZero: false, unit: "bytes")
        if noReconnect && maxRetries != nil {
            throw ValidationError("--max-retries has no effect with --no-reconnect")
        }
    }

    /// Rejects a negative (or zero, unless `allowsZero`) whole number.
    static func check(_ name: String, _ value: Int?, allowsZero: Bool, unit: String = "a whole number") throws {
        guard let value, value < (allowsZero ? 0 : 1) else { return }
        throw ValidationError("\(name) must be positive\(allowsZero ? " or 0" : "") (\(unit)), got \(value)")
    }

    /// Rejects a negative (or zero, unless `allowsZero`), infinite or NaN number.
    static func check(_ name: String, _ value: Double?, allowsZero: Bool, unit: String) throws {
        guard let value else { return }
        guard value.isFinite, value > 0 || (allowsZero && value == 0) else {
            let shown = value.isFinite && value == value.rounded() && abs(value) < 1e15 ? "\(Int(value))" : "\(value)"
            throw ValidationError(
                "\(name) must be positive\(allowsZero ? " or 0" : "") (a finite number of \(unit)), got \(shown)")
        }
    }
}
