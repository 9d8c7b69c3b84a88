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
        /// The server's TLS certificate does not name the host that was asked for, with libcurl's message.
        case tlsHostNameMismatch(String)
        /// Redirects exceeded the configured maximum, or pointed to a scheme other than HTTP(S).
        case redirect(String)
        /// No byte arrived within the idle timeout.
        case idleTimeout(Duration)
        /// The response head did not arrive within ``EventSource/Configuration/connectTimeout``.
        case responseTimeout(Duration)
        /// An event was larger than the configured maximum event size.
        case eventTooLarge(limit: Int)
        /// The request could not be built (for example a URL libcurl does not accept), or the
        /// request hook threw.
        case invalidRequest(String)
        /// Reconnecting was given up after too many attempts or too long; the last failure is attached.
        case gaveUp(attempts: Int, lastFailure: String)
        /// A second iterator of ``EventSource/events`` or ``EventSource/updates`` was made: a
        /// source is consumed through one.
        case alreadyIterated
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
        case .transport, .idleTimeout, .responseTimeout: true
        case .unexpectedStatus(let status): ResponseClassifier.isRetryable(status: status)
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
        case .tlsHostNameMismatch(let message):
            "TLS certificate of \(url) does not name its host: \(message)"
        case .responseTimeout(let timeout):
            "\(url) sent no response within \(timeout.secondsDescription) (connect timeout)"
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
        case .alreadyIterated:
            "the events of \(url) are already being consumed: a source is consumed through one iterator"
        }
    }

}
