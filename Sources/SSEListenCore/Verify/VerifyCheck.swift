/// One check's verdict in a `verify` report.
public struct VerifyCheck: Sendable, Hashable {
    /// How the check came out.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// The server keeps this promise.
        case pass
        /// Works, but something in front of it or a client may suffer.
        case warn
        /// Broken: clients lose or repeat events, or cannot use the stream.
        case fail
        /// Could not be judged from what was seen (the detail says why).
        case skip
    }

    /// The stable id, such as `resume.fin`.
    public var id: String
    /// How it came out.
    public var status: Status
    /// What was seen, in a sentence.
    public var detail: String
    /// What to do about it, for a warning or a failure.
    public var hint: String?

    /// Creates a verdict.
    public init(_ id: String, _ status: Status, _ detail: String, hint: String? = nil) {
        self.id = id
        self.status = status
        self.detail = detail
        self.hint = hint
    }
}

/// A whole `verify` report: the URL and every check, in the order of ``VerifyReport/checkIDs``.
public struct VerifyReport: Sendable, Hashable {
    /// Every check's id, in report order.
    public static let checkIDs = [
        "http.status", "http.cache-control", "http.content-length", "http.compression", "http.x-accel-buffering",
        "stream.ids", "stream.heartbeat", "stream.buffering", "resume.fin", "resume.rst", "resume.unknown-id",
        "retry.field",
    ]

    /// The URL checked, with any password replaced by `***`.
    public var url: String
    /// The verdicts.
    public var checks: [VerifyCheck]
    /// Whether the server could be checked at all (it answered the first request with a stream).
    public var reachedStream: Bool

    /// Creates a report.
    public init(url: String, checks: [VerifyCheck], reachedStream: Bool) {
        self.url = url
        self.checks = checks
        self.reachedStream = reachedStream
    }

    /// How many checks came out as `status`.
    public func count(_ status: VerifyCheck.Status) -> Int {
        checks.count { $0.status == status }
    }

    /// 2 when the server could not be checked at all, 4 when a check failed, else 0.
    public var exitCode: Int32 {
        if !reachedStream { return 2 }
        return count(.fail) > 0 ? 4 : 0
    }

    /// The report as one JSON object, without a line feed: `url`, `checks` (`id`, `status`,
    /// `detail`, `hint` or null), `summary` (`pass`, `warn`, `fail`, `skip`).
    public var json: String {
        var text = "{\"url\":" + JSONText.quoted(url) + ",\"checks\":["
        text += checks.map { check in
            "{\"id\":" + JSONText.quoted(check.id) + ",\"status\":" + JSONText.quoted(check.status.rawValue)
                + ",\"detail\":" + JSONText.quoted(check.detail) + ",\"hint\":"
                + (check.hint.map(JSONText.quoted) ?? "null") + "}"
        }.joined(separator: ",")
        text += "],\"summary\":{"
        text += VerifyCheck.Status.allCases.map { "\"\($0.rawValue)\":\(count($0))" }.joined(separator: ",")
        return text + "}}"
    }

    /// The report for people: one block per check (status, id, detail, hint), then a summary line.
    public func table(style: TerminalStyle) -> String {
        let width = checks.map(\.id.count).max() ?? 0
        var text = style.paint("verify \(url)", .bold) + "\n\n"
        for check in checks {
            let padded = check.id + String(repeating: " ", count: width - check.id.count)
            text +=
                "  " + Self.badge(check.status, style: style) + "  " + padded + "  "
                + style.sanitized(check.detail) + "\n"
            if let hint = check.hint {
                text +=
                    "  " + String(repeating: " ", count: 4 + 2 + width + 2)
                    + style.paint("→ " + style.sanitized(hint), .dim)
                    + "\n"
            }
        }
        text += "\n" + VerifyCheck.Status.allCases.map { "\(count($0)) \($0.rawValue)" }.joined(separator: ", ") + "\n"
        return text
    }

    private static func badge(_ status: VerifyCheck.Status, style: TerminalStyle) -> String {
        switch status {
        case .pass: style.paint("PASS", .green)
        case .warn: style.paint("WARN", .yellow)
        case .fail: style.paint("FAIL", .red)
        case .skip: style.paint("SKIP", .dim)
        }
    }
}
