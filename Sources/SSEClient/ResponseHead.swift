/// The status line and headers of the response that answered a connection attempt (after redirects).
public struct ResponseHead: Sendable, Hashable {
    /// The HTTP status code.
    public var status: Int
    /// The response headers, in the order received.
    public var headers: [HTTPHeader]
    /// The URL that answered, after any redirects.
    public var url: String
    /// The protocol version of the response: `HTTP/1.0`, `HTTP/1.1`, `HTTP/2` or `HTTP/3`
    /// (empty when unknown).
    public var httpVersion: String
    /// The request head exactly as libcurl sent it for this response (after redirects), when
    /// ``EventSource/Configuration/recordsSentRequests`` asks for it; `nil` otherwise.
    public var sentRequest: SentRequestHead?

    /// Creates a response head.
    public init(
        status: Int,
        headers: [HTTPHeader],
        url: String,
        httpVersion: String = "",
        sentRequest: SentRequestHead? = nil
    ) {
        self.status = status
        self.headers = headers
        self.url = url
        self.httpVersion = httpVersion
        self.sentRequest = sentRequest
    }
}

/// A request head as it went on the wire: what libcurl added (`Host`, `User-Agent`,
/// `Accept-Encoding`, credentials from the URL) included. Values are as sent, secrets too:
/// redact before showing them.
public struct SentRequestHead: Sendable, Hashable {
    /// The request line, such as `GET /events HTTP/1.1` (for HTTP/2, libcurl's rendering of
    /// the pseudo-headers as such a line).
    public var line: String
    /// The header fields, in the order sent.
    public var headers: [HTTPHeader]

    /// Creates a request head.
    public init(line: String, headers: [HTTPHeader]) {
        self.line = line
        self.headers = headers
    }

    /// Parses the text libcurl reports for an outgoing head: a request line, header lines, a
    /// blank line, with CRLF or LF endings.
    init(text: String) {
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\r\n" || $0 == "\n" })
            .map(String.init)
        line = lines.isEmpty ? "" : lines.removeFirst()
        headers = lines.compactMap { field in
            guard let colon = field.firstIndex(of: ":") else { return nil }
            return HTTPHeader(String(field[..<colon]), field[field.index(after: colon)...].trimmingASCIISpaces())
        }
    }
}

extension ResponseHead {
    /// The standard reason phrase of a status code ("Not Found" for 404), or an empty string
    /// for codes without a well-known one.
    public static func reasonPhrase(for status: Int) -> String {
        switch status {
        case 200: "OK"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 408: "Request Timeout"
        case 410: "Gone"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: ""
        }
    }
}
