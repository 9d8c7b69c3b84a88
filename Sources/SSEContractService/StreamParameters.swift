import SSEClient

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The body of `POST /`: how the test harness wants one client stream set up.
///
/// Every property but ``streamURL`` and ``callbackURL`` is optional; the harness sends `null` for
/// some of them, which counts as absent.
struct StreamParameters: Sendable, Hashable, Decodable {
    /// The harness's name for the test, for logs.
    var tag: String?
    /// The event stream to connect to.
    var streamURL: String
    /// The base URL callbacks are posted under, as `<callbackURL>/<n>`.
    var callbackURL: String
    /// The reconnect base delay in milliseconds.
    var initialDelayMs: Int?
    /// The idle (read) timeout in milliseconds.
    var readTimeoutMs: Int?
    /// The `Last-Event-ID` of the first request.
    var lastEventId: String?
    /// The HTTP method instead of `GET`.
    var method: String?
    /// The request body.
    var body: String?
    /// Extra request headers, names in lower case.
    var headers: [String: String]?

    enum CodingKeys: String, CodingKey {
        case tag
        case streamURL = "streamUrl"
        case callbackURL = "callbackUrl"
        case initialDelayMs
        case readTimeoutMs
        case lastEventId
        case method
        case body
        case headers
    }

    /// Decodes and validates a request body.
    ///
    /// - Throws: ``ContractServiceError/invalidRequest(_:)`` saying what is wrong.
    static func decode(_ body: [UInt8]) throws -> StreamParameters {
        let parameters: StreamParameters
        do {
            parameters = try JSONDecoder().decode(StreamParameters.self, from: Data(body))
        } catch {
            throw ContractServiceError.invalidRequest("the body is not a valid stream description: \(error)")
        }
        try parameters.validate()
        return parameters
    }

    /// The callback base URL, parsed.
    var callbackBase: HTTPURL? {
        HTTPURL(callbackURL)
    }

    /// Checks what decoding cannot: URLs, ranges, and what libcurl would refuse or misread.
    func validate() throws {
        let schemeEnd = streamURL.firstRange(of: "://")
        guard let schemeEnd, ["http", "https"].contains(streamURL[..<schemeEnd.lowerBound].lowercased()),
            schemeEnd.upperBound < streamURL.endIndex, !streamURL.contains(where: \.isWhitespace)
        else {
            throw ContractServiceError.invalidRequest(
                "streamUrl must be an http:// or https:// URL, got '\(streamURL)'")
        }
        guard callbackBase != nil else {
            throw ContractServiceError.invalidRequest(
                "callbackUrl must be an http:// URL with a host, got '\(callbackURL)'")
        }
        if let initialDelayMs, initialDelayMs < 0 {
            throw ContractServiceError.invalidRequest("initialDelayMs must not be negative, got \(initialDelayMs)")
        }
        if let readTimeoutMs, readTimeoutMs <= 0 {
            throw ContractServiceError.invalidRequest("readTimeoutMs must be positive, got \(readTimeoutMs)")
        }
        if let method, !Self.isToken(method) {
            throw ContractServiceError.invalidRequest("method must be an HTTP method name, got '\(method)'")
        }
        for (name, value) in headers ?? [:] {
            guard Self.isToken(name) else {
                throw ContractServiceError.invalidRequest("header name '\(name)' is not a valid HTTP field name")
            }
            guard !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw ContractServiceError.invalidRequest("the value of header '\(name)' contains a line break or NUL")
            }
        }
        if let lastEventId, lastEventId.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
            throw ContractServiceError.invalidRequest("lastEventId contains a line break or NUL")
        }
    }

    /// The client configuration these parameters ask for.
    ///
    /// Beyond the parameters: a request with a body is repeated on every reconnect (the suite
    /// checks that a POST stream resends its body), and a body without a `content-type` header is
    /// sent as `text/plain`, as the suite's description of the `post` capability allows.
    var configuration: EventSource.Configuration {
        var configuration = EventSource.Configuration()
        if let method {
            configuration.method = method
        }
        var headers = (headers ?? [:]).sorted { $0.key < $1.key }.map { HTTPHeader($0.key, $0.value) }
        if let body {
            configuration.body = Array(body.utf8)
            if headers.value(for: "Content-Type") == nil {
                headers.append(HTTPHeader("Content-Type", "text/plain; charset=utf-8"))
            }
        }
        configuration.headers = headers
        configuration.lastEventID = lastEventId ?? ""
        if let initialDelayMs {
            configuration.reconnect.initialDelay = .milliseconds(initialDelayMs)
        }
        if let readTimeoutMs {
            configuration.idleTimeout = .milliseconds(readTimeoutMs)
        }
        configuration.replaysNonIdempotentRequests = true
        return configuration
    }

    /// Whether `text` is an RFC 9110 token (a method or field name).
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"):
                    true
                default:
                    "!#$%&'*+-.^_`|~".utf8.contains(byte)
                }
            }
    }
}
