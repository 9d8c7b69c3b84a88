/// What a connection attempt's response means for the stream.
public enum ResponseDisposition: Sendable, Hashable {
    /// A stream: read events from the body.
    case open
    /// The server has nothing more to send (204 No Content): end the source, without reconnecting.
    case finish
    /// A passing failure (408, 429, 5xx): reconnect with backoff, waiting at least `after` when given.
    case retry(after: Duration?)
    /// A failure that would repeat (401, 404, a wrong `Content-Type`): end the source with the error.
    case fail(EventSourceError)
}

/// Decides what a response means, as a pure function of its head. ``EventSource/Hooks`` can
/// override it per response.
enum ResponseClassifier {
    /// The standard's rules plus the usual HTTP semantics for retrying:
    /// - 204: finish for good;
    /// - 2xx with `Content-Type: text/event-stream` (parameters allowed): open; other types: fail;
    /// - 408, 429, 5xx: retry, honouring `Retry-After` (seconds or an HTTP date);
    /// - anything else (other 4xx, an unfollowed 3xx, 1xx): fail.
    ///
    /// - Parameter now: The current Unix time in seconds, for `Retry-After` dates.
    static func classify(_ head: ResponseHead, requestURL: String, now: Double) -> ResponseDisposition {
        switch head.status {
        case 204:
            return .finish
        case 200...299:
            let contentType = head.headers.value(for: "Content-Type")
            guard isEventStream(contentType: contentType) else {
                return .fail(.wrongContentType(contentType, url: requestURL, response: head))
            }
            return .open
        case let status where isRetryable(status: status):
            let retryAfter = head.headers.value(for: "Retry-After").flatMap { parseRetryAfter($0, now: now) }
            return .retry(after: retryAfter)
        default:
            return .fail(.unexpectedStatus(head.status, url: requestURL, response: head))
        }
    }

    /// Whether an answer with `status` is a passing failure worth retrying: 408, 429 and 5xx.
    /// The one place that decides it.
    static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || (500...599).contains(status)
    }

    /// Whether a `Content-Type` value names `text/event-stream`, ignoring case, spaces and parameters.
    static func isEventStream(contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return mediaType.trimmingASCIISpaces().lowercased() == "text/event-stream"
    }

    /// A `Retry-After` value: delta-seconds, or an HTTP date (IMF-fixdate, RFC 850 or asctime)
    /// relative to `now` (Unix seconds). Dates in the past give zero; anything else gives `nil`.
    static func parseRetryAfter(_ value: String, now: Double) -> Duration? {
        let value = value.trimmingASCIISpaces()
        if !value.isEmpty, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            // Saturate rather than overflow: "99999999999999999999" is "a very long time".
            return .seconds(Int64(value) ?? Int64.max / 1_000_000)
        }
        guard let date = HTTPDate.parse(value) else { return nil }
        return .seconds(max(0, Double(date) - now))
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingASCIISpaces() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
