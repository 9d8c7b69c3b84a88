/// The status line and headers of the response that answered a connection attempt (after redirects).
public struct ResponseHead: Sendable, Hashable {
    /// The HTTP status code.
    public var status: Int
    /// The response headers, in the order received.
    public var headers: [HTTPHeader]
    /// The URL that answered, after any redirects.
    public var url: String

    /// Creates a response head.
    public init(status: Int, headers: [HTTPHeader], url: String) {
        self.status = status
        self.headers = headers
        self.url = url
    }
}

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
                return .fail(EventSourceError(.wrongContentType(contentType), url: requestURL))
            }
            return .open
        case 408, 429, 500...599:
            let retryAfter = head.headers.value(for: "Retry-After").flatMap { parseRetryAfter($0, now: now) }
            return .retry(after: retryAfter)
        default:
            return .fail(EventSourceError(.unexpectedStatus(head.status), url: requestURL))
        }
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

/// Parsing of the three HTTP date formats (RFC 9110, section 5.6.7), without Foundation.
enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Unix seconds of `Sun, 06 Nov 1994 08:49:37 GMT`, `Sunday, 06-Nov-94 08:49:37 GMT` or
    /// `Sun Nov  6 08:49:37 1994`; `nil` when `text` is none of them.
    static func parse(_ text: String) -> Int64? {
        parseFields(text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init))
    }

    private static func parseFields(_ parts: [String]) -> Int64? {
        var day: Int?
        var month: Int?
        var year: Int?
        var time: (Int, Int, Int)?
        switch parts.count {
        case 6 where parts[5].uppercased() == "GMT":
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            day = Int(parts[1])
            month = monthNumber(parts[2])
            year = Int(parts[3])
            time = clock(parts[4])
        case 4 where parts[3].uppercased() == "GMT":
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            let date = parts[1].split(separator: "-").map(String.init)
            guard date.count == 3 else { return nil }
            day = Int(date[0])
            month = monthNumber(date[1])
            if let shortYear = Int(date[2]) {
                year = date[2].count == 2 ? (shortYear < 70 ? 2000 + shortYear : 1900 + shortYear) : shortYear
            }
            time = clock(parts[2])
        case 5:
            // asctime: Sun Nov  6 08:49:37 1994
            month = monthNumber(parts[1])
            day = Int(parts[2])
            time = clock(parts[3])
            year = Int(parts[4])
        default:
            return nil
        }
        // The year is bounded so the arithmetic below cannot overflow on a hostile value.
        guard let day, let month, let year, let (hour, minute, second) = time, (1...9999).contains(year),
            (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        return daysFromCivil(year: year, month: month, day: day) * 86_400
            + Int64(hour * 3600 + minute * 60 + second)
    }

    private static func monthNumber(_ name: String) -> Int? {
        months.firstIndex(of: name.lowercased()).map { $0 + 1 }
    }

    private static func clock(_ text: String) -> (Int, Int, Int)? {
        let fields = text.split(separator: ":").compactMap { Int($0) }
        guard fields.count == 3 else { return nil }
        return (fields[0], fields[1], fields[2])
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
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
