import SSEClient

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One line for standard error.
public struct StatusLine: Sendable, Hashable {
    /// How the line is shown.
    public enum Level: Sendable, Hashable {
        /// Progress: connecting, resuming.
        case info
        /// Connected.
        case success
        /// A drop and the reconnect after it.
        case warning
        /// What ended the run with a failure. Shown even with `--quiet`.
        case error
        /// `--verbose` details: headers, heartbeats, `retry:`.
        case detail
    }

    /// How the line is shown.
    public var level: Level
    /// The text, without the `sse-listen:` prefix or a line feed.
    public var text: String

    /// Creates a line.
    public init(_ level: Level, _ text: String) {
        self.level = level
        self.text = text
    }

    /// The line as written: `sse-listen: ` and the text (error lines say `error:`), coloured by
    /// level when `style` has colours, ending with a line feed. Every line carries the prefix, so
    /// that `-v` output mixed with another program's is still attributable.
    public func rendered(style: TerminalStyle) -> String {
        let text = style.sanitized(self.text)
        switch level {
        case .info: return style.paint("sse-listen:", .dim) + " " + text + "\n"
        case .success: return style.paint("sse-listen:", .dim) + " " + style.paint(text, .green) + "\n"
        case .warning: return style.paint("sse-listen:", .dim) + " " + style.paint(text, .yellow) + "\n"
        case .error: return style.paint("sse-listen: error:", .red) + " " + text + "\n"
        case .detail: return style.paint("sse-listen:", .dim) + " " + style.paint(text, .dim) + "\n"
        }
    }
}

/// Turns what the source reports into status lines. Pure: it only remembers what it needs to
/// phrase the next line (the first connection, the last disconnect).
public struct StatusReporter: Sendable {
    /// The URL as shown: with any password replaced by `***`.
    public let displayURL: String
    /// Whether heartbeats and `retry:` get lines.
    public let verbose: Bool

    private var connections = 0
    private var lastDisconnect: DisconnectReason?
    /// Whether the current connection got as far as an open stream.
    private var isOpen = false

    /// Whether requests go through an `https://` proxy, whose certificate may be the one that
    /// failed verification.
    private let throughHTTPSProxy: Bool

    /// Creates a reporter for `url`; `throughHTTPSProxy` when `-x https://…` is in use.
    public init(url: String, verbose: Bool, throughHTTPSProxy: Bool = false) {
        self.displayURL = Self.redactedURL(url)
        self.verbose = verbose
        self.throughHTTPSProxy = throughHTTPSProxy
    }

    /// The lines for one update of the source (often none).
    public mutating func lines(for update: EventSourceUpdate) -> [StatusLine] {
        switch update {
        case .event:
            return []
        case .comment(let text):
            return verbose ? [StatusLine(.detail, "comment:\(text)")] : []
        case .retry(let delay):
            return verbose
                ? [StatusLine(.detail, "server set the reconnection time to \(delay.secondsDescription)")] : []
        case .state(let state):
            return lines(for: state)
        }
    }

    private mutating func lines(for state: ConnectionState) -> [StatusLine] {
        switch state {
        case .connecting(let attempt, let lastEventID):
            connections += 1
            isOpen = false
            var text = connections == 1 ? "connecting to \(displayURL)" : "reconnecting"
            if attempt > 0 { text += " (attempt \(attempt))" }
            if !lastEventID.isEmpty { text += ", resuming after Last-Event-ID \(lastEventID)" }
            return [StatusLine(.info, text)]
        case .open(let head):
            isOpen = true
            var text = "connected: \(head.status) \(Self.reasonPhrase(head.status))"
                .trimmingTrailingSpaces()
            if let type = head.headers.value(for: "Content-Type") { text += " (\(type))" }
            return (verbose ? Self.wireLines(head) : []) + [StatusLine(.success, text)]
        case .disconnected(let reason):
            lastDisconnect = reason
            // An answer that did not open a stream (a 404, a 503, a wrong Content-Type): what
            // went out and what came back, and the start of its body in full.
            guard verbose, case .failure(let error) = reason, let head = error.response else { return [] }
            var lines = Self.wireLines(head)
            if let body = error.responseBodyExcerpt(limit: .max), let size = error.responseBody?.count {
                lines.append(StatusLine(.detail, "< (body, \(size) byte\(size == 1 ? "" : "s") shown) \(body)"))
            }
            return lines
        case .waitingToReconnect(let delay, let attempt, let reason):
            return [
                StatusLine(
                    .warning,
                    "\(describe(reason)); reconnecting in \(delay.secondsDescription) (attempt \(attempt))"
                )
            ]
        case .finished:
            return []
        }
    }

    /// The closing lines for `outcome`.
    public func finalLines(for outcome: ListenOutcome) -> [StatusLine] {
        switch outcome {
        case .maxEventsReached(let count):
            return [StatusLine(.info, "printed \(count) event\(count == 1 ? "" : "s") (--max-events); done")]
        case .streamEnded:
            if lastDisconnect == .completed {
                return [StatusLine(.info, "the stream is complete (its terminator arrived); done")]
            }
            if case .finishedByServer? = lastDisconnect, let lastDisconnect {
                return [StatusLine(.info, lastDisconnect.description)]
            }
            if lastDisconnect == .endOfStream {
                return [StatusLine(.info, "the server ended the stream; done")]
            }
            return [StatusLine(.info, "the stream is over")]
        case .timedOut(let duration):
            return [StatusLine(.info, "the --timeout of \(duration.secondsDescription) is up; done")]
        case .timedOutBeforeOpen(let duration, let lastFailure):
            // Nothing worked: a script must not mistake this for a run that received events.
            let failure = lastFailure.map { "; last failure: \(describe(.failure($0)))" } ?? " (still connecting)"
            return [
                StatusLine(
                    .error,
                    "no stream from \(displayURL) within the --timeout of \(duration.secondsDescription)\(failure)")
            ]
        case .outputClosed:
            return []
        case .interrupted(let signal):
            return [StatusLine(.info, "interrupted by \(signal == SIGTERM ? "SIGTERM" : "SIGINT")")]
        case .failed(let error):
            switch FailureKind(error) {
            case .gaveUp:
                // The library's sentence words the last failure as one among retries.
                return [StatusLine(.error, redacting(error.description, url: error.url))]
            case .tlsVerification(let message):
                let text = Self.tlsFailure(
                    url: error.url, message: message, wrongHost: false, throughHTTPSProxy: throughHTTPSProxy)
                return [StatusLine(.error, redacting(text, url: error.url))]
            case .tlsHostNameMismatch(let message):
                let text = Self.tlsFailure(
                    url: error.url, message: message, wrongHost: true, throughHTTPSProxy: throughHTTPSProxy)
                return [StatusLine(.error, redacting(text, url: error.url))]
            case .truncated(let expected, let lastFailure):
                // The answer is incomplete: say what was awaited, and what cut it.
                let cause = lastFailure.map { "; " + describe(.failure($0)) } ?? "; the server ended the stream"
                return [
                    StatusLine(
                        .error,
                        "stream ended before its terminator (\(expected ?? "none declared") expected)\(cause)")
                ]
            case .serverError(let type, let data):
                return [StatusLine(.error, "the server sent an error (event \(type)): \(data)")]
            default:
                break
            }
            if error.status == 407 {
                let text = error.description + " (give the proxy's credentials with -U USER:PASSWORD)"
                return [StatusLine(.error, redacting(text, url: error.url))]
            }
            return [StatusLine(.error, redacting(error.description, url: error.url))]
        case .usageError(let error):
            return [StatusLine(.error, error.message)]
        }
    }

    /// A TLS verification failure in the command's terms: the library's sentence names its API
    /// (a CA file, insecure mode); this one names `--cacert FILE` and `-k`, and does not suggest
    /// a CA when the certificate is for another host name, where a CA would not help. Through an
    /// `https://` proxy either certificate may be the one (libcurl does not say which), so it
    /// names the proxy's options too.
    static func tlsFailure(url: String, message: String, wrongHost: Bool, throughHTTPSProxy: Bool = false) -> String {
        var hint =
            wrongHost
            ? "the certificate is for another host name: connect with a name it was issued for, "
                + "or use -k to skip verification (for testing only)"
            : "pass the issuing CA with --cacert FILE, or use -k to skip verification (for testing only)"
        if throughHTTPSProxy {
            hint += "; or the https:// proxy's: --proxy-cacert FILE, --proxy-insecure"
        }
        return "TLS certificate of \(url) could not be verified: \(message) (\(hint))"
    }

    /// What ended a connection, for a reconnect line.
    func describe(_ reason: DisconnectReason) -> String {
        switch reason {
        case .endOfStream:
            return "the server ended the stream"
        case .finishedByServer:
            return reason.description
        case .failure(let error):
            // The library's sentence for a status ends with "not retrying", which is not true of
            // the 408/429/5xx answers that reach a reconnect line.
            switch FailureKind(error) {
            case .status(let status):
                return "the server answered \(status) \(Self.reasonPhrase(status))".trimmingTrailingSpaces()
            case .transport(let message):
                return isOpen ? "connection lost: \(message)" : "cannot connect: \(message)"
            case .idleTimeout(let timeout):
                return "no data for \(timeout.secondsDescription) (idle timeout)"
            default:
                return redacting(error.description, url: error.url)
            }
        case .restart:
            return "a reconnect was requested"
        case .closed:
            return "closed"
        case .completed:
            return reason.description
        }
    }

    private func redacting(_ text: String, url: String) -> String {
        let shown = Self.redactedURL(url)
        return shown == url ? text : text.replacing(url, with: shown)
    }

    // MARK: Verbose headers

    /// The `--verbose` lines for one exchange, curl style: the request head exactly as libcurl
    /// sent it (`> `, with `Host`, `Accept-Encoding` and credentials from the URL), then the
    /// response's status line with its protocol version and its headers (`< `); secrets redacted.
    public static func wireLines(_ head: ResponseHead) -> [StatusLine] {
        var lines: [StatusLine] = []
        if let sent = head.sentRequest {
            lines.append(StatusLine(.detail, "> \(redactedRequestLine(sent.line))"))
            for header in sent.headers {
                lines.append(StatusLine(.detail, "> " + redacted(header).description))
            }
        }
        let version = head.httpVersion.isEmpty ? "" : head.httpVersion + " "
        // HTTP/2 and later have no reason phrase on the wire, so none is shown (as curl does).
        let reason =
            head.httpVersion.hasPrefix("HTTP/2") || head.httpVersion.hasPrefix("HTTP/3")
            ? "" : reasonPhrase(head.status)
        lines.append(StatusLine(.detail, "< \(version)\(head.status) \(reason)".trimmingTrailingSpaces()))
        for header in head.headers {
            lines.append(StatusLine(.detail, "< " + redacted(header).description))
        }
        return lines
    }

    /// A request line whose target carries user information (a proxy's absolute form) shows no password.
    private static func redactedRequestLine(_ line: String) -> String {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return line }
        return "\(parts[0]) \(redactedURL(String(parts[1]))) \(parts[2])"
    }

    /// The `--verbose` lines for a response head (`< `), cookies redacted.
    public static func responseLines(_ head: ResponseHead) -> [StatusLine] {
        var lines = [StatusLine(.detail, "< \(head.status) \(reasonPhrase(head.status))".trimmingTrailingSpaces())]
        for header in head.headers {
            lines.append(StatusLine(.detail, "< " + redacted(header).description))
        }
        return lines
    }

    /// `header` with its value replaced when it carries a secret: `Authorization` and
    /// `Proxy-Authorization` keep their scheme (`Bearer [redacted]`); `Cookie` and `Set-Cookie`
    /// lose their value.
    public static func redacted(_ header: HTTPHeader) -> HTTPHeader {
        switch header.name.lowercased() {
        case "authorization", "proxy-authorization":
            let scheme = header.value.split(separator: " ", maxSplits: 1).first.map(String.init)
            let hasCredentials = header.value.contains(" ")
            return HTTPHeader(header.name, hasCredentials ? "\(scheme ?? "") [redacted]" : "[redacted]")
        case "cookie", "set-cookie":
            return HTTPHeader(header.name, "[redacted]")
        default:
            return header
        }
    }

    /// `url` with the password of its user information, if any, replaced by `***`.
    public static func redactedURL(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return url }
        let userInfo = authority[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    // MARK: Wording

    /// The reason phrase of common statuses; empty for others.
    public static func reasonPhrase(_ status: Int) -> String {
        ResponseHead.reasonPhrase(for: status)
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var result = self
        while result.last == " " { result.removeLast() }
        return result
    }
}
