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

    /// The head of the answer that caused the error (a status that is not retried or is, a
    /// wrong `Content-Type`), if there was one.
    public let response: ResponseHead?

    /// The start of that answer's body: its only explanation, often (`{"error": {"message": …}}`
    /// from a model API, an HTML page from a proxy). At most 4 KiB, read for at most a second
    /// after the head; `nil` when there was no answer or it had no body.
    public let responseBody: [UInt8]?

    /// Creates an error.
    public init(_ code: Code, url: String, response: ResponseHead? = nil, responseBody: [UInt8]? = nil) {
        self.code = code
        self.url = url
        self.response = response
        self.responseBody = responseBody
    }

    /// The same error with the body of its answer.
    func withResponseBody(_ body: [UInt8]?) -> EventSourceError {
        guard let body, !body.isEmpty else { return self }
        return EventSourceError(code, url: url, response: response, responseBody: body)
    }

    /// The start of ``responseBody`` as one line for a message: control characters and line
    /// breaks escaped, invalid UTF-8 replaced, cut at `limit` characters with "…"; `nil`
    /// without a body.
    package func responseBodyExcerpt(limit: Int = 200) -> String? {
        guard let responseBody, !responseBody.isEmpty else { return nil }
        var excerpt = ""
        var count = 0
        let text = String(decoding: responseBody, as: UTF8.self)
        // Leading and trailing white space says nothing and would show as escapes.
        let trimmed = text.unicodeScalars.drop { $0.properties.isWhitespace }.reversed()
            .drop { $0.properties.isWhitespace }.reversed()
        guard !trimmed.isEmpty else { return nil }
        for scalar in trimmed {
            if count >= limit {
                excerpt += "…"
                break
            }
            switch scalar {
            case "\n": excerpt += "\\n"
            case "\r": excerpt += "\\r"
            case "\t": excerpt += "\\t"
            case _ where scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value):
                excerpt += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: excerpt.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return excerpt
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

    /// A sentence saying what came back and what happens next, with the start of the answer's
    /// body when it had one.
    public var description: String {
        guard let excerpt = responseBodyExcerpt() else { return sentence }
        return sentence + ": " + excerpt
    }

    private var sentence: String {
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
