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
