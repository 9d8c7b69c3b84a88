import SSEParser

/// An error that ends an ``EventSource``, or one connection attempt of it.
///
/// One type with a ``code`` whose kinds can grow without breaking callers: compare it with the
/// static members (`error.code == .unexpectedStatus`), read the details from the properties
/// that go with the kind (``status``, ``message``, ``timeout``, ``limit``, ``attempts`` and
/// ``lastFailure``), and show ``description``, a sentence a person can act on.
public struct EventSourceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of an ``EventSourceError``.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: String, Sendable, Hashable {
            case unexpectedStatus, wrongContentType, transport, tlsVerification, tlsHostNameMismatch, redirect
            case idleTimeout, responseTimeout, eventTooLarge, invalidRequest, gaveUp, alreadyIterated
            case truncated, serverError, undecodableEvent, unsupported
        }

        private let kind: Kind

        private init(_ kind: Kind) {
            self.kind = kind
        }

        /// The server answered with a status that is not a stream (``EventSourceError/status``):
        /// retried for 408, 429 and 5xx, fatal for others such as 401 or 404.
        public static let unexpectedStatus = Code(.unexpectedStatus)
        /// The server answered 2xx with a `Content-Type` (``EventSourceError/contentType``) other
        /// than `text/event-stream`.
        public static let wrongContentType = Code(.wrongContentType)
        /// The connection could not be made or broke (refused, reset, DNS, a TCP connect
        /// timeout), with libcurl's ``EventSourceError/message``. Retried.
        public static let transport = Code(.transport)
        /// The server's TLS certificate is not trusted (or a CA file could not be used), with
        /// libcurl's ``EventSourceError/message``.
        public static let tlsVerification = Code(.tlsVerification)
        /// The server's TLS certificate does not name the host that was asked for, with
        /// libcurl's ``EventSourceError/message``.
        public static let tlsHostNameMismatch = Code(.tlsHostNameMismatch)
        /// Redirects exceeded the configured maximum, or pointed to a scheme other than HTTP(S).
        public static let redirect = Code(.redirect)
        /// No byte arrived within the idle timeout (``EventSourceError/timeout``). Retried.
        public static let idleTimeout = Code(.idleTimeout)
        /// The response head did not arrive within the connect timeout
        /// (``EventSourceError/timeout``). Retried.
        public static let responseTimeout = Code(.responseTimeout)
        /// An event was larger than the configured maximum event size (``EventSourceError/limit``).
        public static let eventTooLarge = Code(.eventTooLarge)
        /// The request could not be made (a URL libcurl does not accept, a request hook that
        /// threw), with the reason in ``EventSourceError/message``.
        public static let invalidRequest = Code(.invalidRequest)
        /// Reconnecting was given up after ``EventSourceError/attempts`` failed attempts or too
        /// long; the ``EventSourceError/lastFailure`` is attached.
        public static let gaveUp = Code(.gaveUp)
        /// A second iterator of ``EventSource/events`` or ``EventSource/updates`` was made: a
        /// source is consumed through one.
        public static let alreadyIterated = Code(.alreadyIterated)

        /// The stream ended before its ``EventSource/Configuration/terminator`` and could not be
        /// continued (a request that must not be repeated and no
        /// ``EventSource/Hooks/resumeRequest``, reconnecting disabled, or the resume hook
        /// declined): the answer is incomplete. ``EventSourceError/expectedTerminator`` says what
        /// was awaited, ``EventSourceError/lastFailure`` what ended the last connection.
        public static let truncated = Code(.truncated)
        /// The server sent an error in the stream: an event matching
        /// ``EventSource/Configuration/errorEvents`` (``EventSourceError/event``; its data is the
        /// ``EventSourceError/message``). Retried like a 503 when it came before any other event
        /// and the request may be repeated; otherwise it ends the source.
        public static let serverError = Code(.serverError)
        /// An event's data could not be decoded (``EventSource/DecodedEvents``): the
        /// ``EventSourceError/event``, and the decoder's explanation in ``EventSourceError/message``.
        public static let undecodableEvent = Code(.undecodableEvent)

        /// The configuration asks for what the system libcurl was built without (HTTP/3, HTTP/2,
        /// Unix domain sockets), named in ``EventSourceError/message``. Raised by the first
        /// attempt, before anything is sent; never retried.
        public static let unsupported = Code(.unsupported)

        /// The kind's name, such as `unexpectedStatus`.
        public var description: String { kind.rawValue }
    }

    /// The details that go with a kind.
    private indirect enum Detail: Sendable, Hashable {
        case none
        case status(Int)
        case contentType(String?)
        case message(String)
        case timeout(Duration)
        case limit(Int)
        case gaveUp(attempts: Int, lastFailure: EventSourceError?)
        case truncated(expected: String?, lastFailure: EventSourceError?)
        case event(ServerSentEvent, message: String)
    }

    /// What went wrong.
    public let code: Code

    /// The URL of the request that failed.
    public let url: String

    /// The head of the answer that caused the error (a status that is not a stream, a wrong
    /// `Content-Type`), if there was one.
    public var response: ResponseHead? {
        guard case .received(let head, _) = answer else { return nil }
        return head
    }

    /// The start of that answer's body: its only explanation, often (`{"error": {"message": …}}`
    /// from a model API, an HTML page from a proxy). At most 4 KiB, read for at most a second
    /// after the head; `nil` when there was no answer or it had no body.
    public var responseBody: [UInt8]? {
        guard case .received(_, let body) = answer else { return nil }
        return body
    }

    /// The answer behind the error, boxed like ``Detail``: errors travel inside every
    /// ``EventSourceUpdate``, so their size is the size of each update a consumer copies.
    private indirect enum Answer: Sendable, Hashable {
        case none
        case received(ResponseHead?, body: [UInt8]?)
    }

    private let detail: Detail
    private let answer: Answer

    private init(
        _ code: Code, _ detail: Detail, url: String, response: ResponseHead? = nil, responseBody: [UInt8]? = nil
    ) {
        self.code = code
        self.detail = detail
        self.url = url
        self.answer = response == nil && responseBody == nil ? .none : .received(response, body: responseBody)
    }

    // MARK: Making errors

    /// The server answered `status` for `url` instead of a stream; `response` is its head.
    public static func unexpectedStatus(_ status: Int, url: String, response: ResponseHead? = nil) -> Self {
        Self(.unexpectedStatus, .status(status), url: url, response: response)
    }

    /// The server answered 2xx for `url` with `contentType` instead of `text/event-stream`.
    public static func wrongContentType(_ contentType: String?, url: String, response: ResponseHead? = nil) -> Self {
        Self(.wrongContentType, .contentType(contentType), url: url, response: response)
    }

    /// The connection to `url` could not be made or broke, as `message` says.
    public static func transport(_ message: String, url: String) -> Self {
        Self(.transport, .message(message), url: url)
    }

    /// The server's certificate is not trusted, as `message` says.
    public static func tlsVerification(_ message: String, url: String) -> Self {
        Self(.tlsVerification, .message(message), url: url)
    }

    /// The server's certificate is for another host name, as `message` says.
    public static func tlsHostNameMismatch(_ message: String, url: String) -> Self {
        Self(.tlsHostNameMismatch, .message(message), url: url)
    }

    /// A redirect from `url` was not followed, as `message` says.
    public static func redirect(_ message: String, url: String) -> Self {
        Self(.redirect, .message(message), url: url)
    }

    /// Nothing arrived from `url` for `timeout`.
    public static func idleTimeout(_ timeout: Duration, url: String) -> Self {
        Self(.idleTimeout, .timeout(timeout), url: url)
    }

    /// `url` sent no response head within `timeout`.
    public static func responseTimeout(_ timeout: Duration, url: String) -> Self {
        Self(.responseTimeout, .timeout(timeout), url: url)
    }

    /// An event from `url` was larger than `limit` bytes.
    public static func eventTooLarge(limit: Int, url: String) -> Self {
        Self(.eventTooLarge, .limit(limit), url: url)
    }

    /// The request to `url` could not be made, as `message` says.
    public static func invalidRequest(_ message: String, url: String) -> Self {
        Self(.invalidRequest, .message(message), url: url)
    }

    /// The configuration asks for `feature`, which the system libcurl was built without.
    public static func unsupported(_ feature: String, url: String) -> Self {
        Self(.unsupported, .message(feature), url: url)
    }

    /// Reconnecting to `url` was given up after `attempts` failed attempts, the last of them
    /// failing with `lastFailure` (`nil` when it ended cleanly without sending an event).
    public static func gaveUp(attempts: Int, lastFailure: EventSourceError?, url: String) -> Self {
        Self(.gaveUp, .gaveUp(attempts: attempts, lastFailure: lastFailure), url: url)
    }

    /// The stream from `url` ended before `expectedTerminator` (a pattern's description) and could
    /// not be continued; `lastFailure` ended its last connection (`nil` for a clean end).
    public static func truncated(expectedTerminator: String?, lastFailure: EventSourceError?, url: String) -> Self {
        Self(.truncated, .truncated(expected: expectedTerminator, lastFailure: lastFailure), url: url)
    }

    /// `url` sent `event`, an error event, in its stream.
    public static func serverError(_ event: ServerSentEvent, url: String) -> Self {
        Self(.serverError, .event(event, message: event.data), url: url)
    }

    /// The data of `event` from `url` could not be decoded, as `message` says.
    public static func undecodableEvent(_ event: ServerSentEvent, message: String, url: String) -> Self {
        Self(.undecodableEvent, .event(event, message: message), url: url)
    }

    /// A second iterator of the source for `url` was made.
    public static func alreadyIterated(url: String) -> Self {
        Self(.alreadyIterated, .none, url: url)
    }

    // MARK: Details

    /// The HTTP status of an ``Code/unexpectedStatus``, or of the answer behind another kind.
    public var status: Int? {
        if case .status(let status) = detail { return status }
        return response?.status
    }

    /// The `Content-Type` of a ``Code/wrongContentType`` answer (`nil` when it had none).
    public var contentType: String? {
        if case .contentType(let type) = detail { return type }
        return nil
    }

    /// libcurl's message, the reason a request could not be made, the data of a
    /// ``Code/serverError``'s event, or why an ``Code/undecodableEvent`` could not be decoded.
    public var message: String? {
        switch detail {
        case .message(let message), .event(_, let message): message
        default: nil
        }
    }

    /// The event of a ``Code/serverError`` or an ``Code/undecodableEvent``.
    public var event: ServerSentEvent? {
        if case .event(let event, _) = detail { return event }
        return nil
    }

    /// What a ``Code/truncated`` stream was waiting for, such as `data "[DONE]"`.
    public var expectedTerminator: String? {
        if case .truncated(let expected, _) = detail { return expected }
        return nil
    }

    /// The timeout of an ``Code/idleTimeout`` or ``Code/responseTimeout``.
    public var timeout: Duration? {
        if case .timeout(let timeout) = detail { return timeout }
        return nil
    }

    /// The maximum event size of an ``Code/eventTooLarge``.
    public var limit: Int? {
        if case .limit(let limit) = detail { return limit }
        return nil
    }

    /// How many consecutive attempts failed before ``Code/gaveUp``.
    public var attempts: Int? {
        if case .gaveUp(let attempts, _) = detail { return attempts }
        return nil
    }

    /// The failure of the last attempt before ``Code/gaveUp``, or of the connection that left a
    /// stream ``Code/truncated``; `nil` when it ended cleanly (or for other kinds).
    public var lastFailure: EventSourceError? {
        switch detail {
        case .gaveUp(_, let last), .truncated(_, let last): last
        default: nil
        }
    }

    /// The same error with the body of its answer.
    func withResponseBody(_ body: [UInt8]?) -> EventSourceError {
        guard let body, !body.isEmpty else { return self }
        return EventSourceError(code, detail, url: url, response: response, responseBody: body)
    }

    /// The same error with the head of the answer that caused it.
    func withResponse(_ head: ResponseHead) -> EventSourceError {
        EventSourceError(code, detail, url: url, response: head, responseBody: responseBody)
    }

    /// Whether reconnecting after this error may succeed (network trouble, timeouts, 408, 429,
    /// 5xx) rather than repeat the same answer (a 404, a wrong content type).
    public var isTransient: Bool {
        switch code {
        case .transport, .idleTimeout, .responseTimeout: true
        case .unexpectedStatus: status.map(ResponseClassifier.isRetryable(status:)) ?? false
        default: false
        }
    }

    // MARK: Wording

    /// A sentence saying what came back and what happens next, with the start of the answer's
    /// body when it had one.
    public var description: String {
        sentence(sayingWhatNext: true)
    }

    /// What went wrong, without "not retrying" (for a failure among retries) but with the
    /// start of the answer's body.
    package var summary: String {
        sentence(sayingWhatNext: false)
    }

    private func sentence(sayingWhatNext: Bool) -> String {
        let notRetrying = sayingWhatNext ? "; not retrying" : ""
        let text: String
        switch (code, detail) {
        case (.unexpectedStatus, .status(407)):
            // Only a proxy says 407: the server was never reached.
            text = "the proxy answered 407 Proxy Authentication Required for \(url): it wants credentials\(notRetrying)"
        case (.unexpectedStatus, .status(let status)):
            let phrase = ResponseHead.reasonPhrase(for: status)
            text =
                "server answered \(status)\(phrase.isEmpty ? "" : " " + phrase) for \(url)"
                + (isTransient ? "" : notRetrying)
        case (.wrongContentType, .contentType(let type)):
            text =
                "server answered \(status ?? 200) for \(url) but with Content-Type "
                + "\(type.map { "'\($0)'" } ?? "(none)"), not text/event-stream\(notRetrying)"
        case (.transport, .message(let message)):
            text = "connection to \(url) failed: \(message)"
        case (.tlsVerification, .message(let message)):
            text =
                "TLS certificate of \(url) could not be verified: \(message) "
                + "(pass the issuing CA with a CA file, or opt into insecure mode)"
        case (.tlsHostNameMismatch, .message(let message)):
            text = "TLS certificate of \(url) does not name its host: \(message)"
        case (.redirect, .message(let message)):
            text = "redirect from \(url) refused: \(message)"
        case (.idleTimeout, .timeout(let timeout)):
            text = "no data from \(url) for \(timeout.secondsDescription) (idle timeout)"
        case (.responseTimeout, .timeout(let timeout)):
            text = "\(url) sent no response within \(timeout.secondsDescription) (connect timeout)"
        case (.eventTooLarge, .limit(let limit)):
            text = "an event from \(url) is larger than the maximum event size of \(limit) bytes\(notRetrying)"
        case (.invalidRequest, .message(let message)):
            text = "request to \(url) could not be made: \(message)"
        case (.unsupported, .message(let feature)):
            text =
                "request to \(url) needs \(feature), which this libcurl (\(CurlGlobal.version)) was built without\(notRetrying)"
        case (.gaveUp, .gaveUp(let attempts, let last)):
            text =
                "gave up on \(url) after \(attempts) failed attempt\(attempts == 1 ? "" : "s"); last failure: "
                + (last?.summary ?? "the server ended the stream without sending an event")
        case (.truncated, .truncated(let expected, let last)):
            text =
                "the stream from \(url) ended before "
                + (expected.map { "its terminator (\($0))" } ?? "it was complete")
                + (last.map { ": \($0.summary)" } ?? "")
        case (.serverError, .event(let event, let message)):
            text =
                "\(url) sent an error event\(event.type == "message" ? "" : " (\(event.type))")"
                + (message.isEmpty ? "" : ": " + message)
        case (.undecodableEvent, .event(let event, let message)):
            text =
                "an event from \(url) could not be decoded"
                + (event.id.isEmpty ? "" : " (id \(event.id))") + ": " + message
        case (.alreadyIterated, _):
            text = "the events of \(url) are already being consumed: a source is consumed through one iterator"
        default:
            text = "\(code) for \(url)"
        }
        guard let excerpt = responseBodyExcerpt() else { return text }
        return text + ": " + excerpt
    }

    /// The start of ``responseBody`` as one line for a message: control characters and line
    /// breaks escaped, invalid UTF-8 replaced, cut at `limit` characters with "…"; `nil`
    /// without a body.
    package func responseBodyExcerpt(limit: Int = 200) -> String? {
        guard let responseBody, !responseBody.isEmpty else { return nil }
        let text = String(decoding: responseBody, as: UTF8.self)
        // Leading and trailing white space says nothing and would show as escapes.
        let trimmed = text.unicodeScalars.drop { $0.properties.isWhitespace }.reversed()
            .drop { $0.properties.isWhitespace }.reversed()
        guard !trimmed.isEmpty else { return nil }
        var excerpt = ""
        var count = 0
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
}
