/// An error that ends an ``EventSource``, or one connection attempt of it.
///
/// Errors are values of one type so that new kinds never break callers. Inspect ``code`` to
/// tell them apart, and ``description`` for a sentence a person can act on.
public struct EventSourceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kinds of failure.
    public enum Code: Sendable, Hashable {
        /// The server answered with a status that is not retried (for example 401 or 404).
        case unexpectedStatus(Int)
        /// The server answered 200 with a `Content-Type` other than `text/event-stream`.
        case wrongContentType(String?)
        /// The connection could not be made or broke (refused, reset, DNS, timeout), with
        /// libcurl's message.
        case transport(String)
        /// The server's TLS certificate could not be verified, with libcurl's message.
        case tlsVerification(String)
        /// Redirects exceeded the configured maximum, or pointed to a scheme other than HTTP(S).
        case redirect(String)
        /// No byte arrived within the idle timeout.
        case idleTimeout(Duration)
        /// An event was larger than the configured maximum event size.
        case eventTooLarge(limit: Int)
        /// The request could not be built (for example a URL libcurl does not accept), or the
        /// request hook threw.
        case invalidRequest(String)
        /// Reconnecting was given up after too many attempts or too long; the last failure is attached.
        case gaveUp(attempts: Int, lastFailure: String)
    }

    /// What went wrong.
    public let code: Code

    /// The URL of the request that failed.
    public let url: String

    /// Creates an error.
    public init(_ code: Code, url: String) {
        self.code = code
        self.url = url
    }

    /// Whether reconnecting after this error may succeed (network trouble, timeouts) rather than
    /// repeat the same answer (a 404, a wrong content type).
    public var isTransient: Bool {
        switch code {
        case .transport, .idleTimeout: true
        case .unexpectedStatus(let status): status == 408 || status == 429 || (500...599).contains(status)
        default: false
        }
    }

    /// A sentence saying what came back and what happens next.
    public var description: String {
        switch code {
        case .unexpectedStatus(let status):
            "server answered \(status) \(ResponseHead.reasonPhrase(for: status)) for \(url)"
                + (isTransient ? "" : "; not retrying")
        case .wrongContentType(let type):
            "server answered 200 for \(url) but with Content-Type \(type.map { "'\($0)'" } ?? "(none)"), "
                + "not text/event-stream; not retrying"
        case .transport(let message):
            "connection to \(url) failed: \(message)"
        case .tlsVerification(let message):
            "TLS certificate of \(url) could not be verified: \(message) "
                + "(pass the issuing CA with a CA file, or opt into insecure mode)"
        case .redirect(let message):
            "redirect from \(url) refused: \(message)"
        case .idleTimeout(let timeout):
            "no data from \(url) for \(timeout.secondsDescription) (idle timeout)"
        case .eventTooLarge(let limit):
            "an event from \(url) is larger than the maximum event size of \(limit) bytes; not retrying"
        case .invalidRequest(let message):
            "request to \(url) could not be made: \(message)"
        case .gaveUp(let attempts, let lastFailure):
            "gave up on \(url) after \(attempts) failed attempt\(attempts == 1 ? "" : "s"); last failure: \(lastFailure)"
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

extension Duration {
    /// "1.5 s", "250 ms": for messages.
    package var secondsDescription: String {
        let milliseconds = Self.milliseconds(of: self)
        if milliseconds < 1000 { return "\(milliseconds) ms" }
        let tenths = (milliseconds + 50) / 100
        return tenths % 10 == 0 ? "\(tenths / 10) s" : "\(tenths / 10).\(tenths % 10) s"
    }

    /// Whole milliseconds, rounded down, saturating at `Int64.max`; negative durations give 0.
    package static func milliseconds(of duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 { return 0 }
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return .max }
        return product + attoseconds / 1_000_000_000_000_000
    }
}
