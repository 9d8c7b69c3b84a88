import Tracing

/// One span per connection attempt through swift-distributed-tracing, a child of the context
/// the source was created in; no-ops unless the application bootstraps an instrument.
///
/// The span (kind `client`, named after the method, as OpenTelemetry's HTTP client conventions
/// say) carries `http.request.method`, `url.full` without credentials or query values,
/// `server.address`, `server.port`, `sse.attempt`, `sse.last_event_id.sent`; once answered
/// `http.response.status_code` and `network.protocol.version`; at its end
/// `sse.connection.ending` (as the connection-duration metric's dimension), and the error as
/// the span's error status. What the instrument injects (`traceparent` for W3C trace context)
/// is added to every request, the reconnects included.
struct AttemptTracing: Sendable {
    private let tracer: any Tracer
    private let parent: InstrumentationContext

    init(tracer: any Tracer, parent: InstrumentationContext) {
        self.tracer = tracer
        self.parent = parent
    }

    /// Starts the span of an attempt that sends `request`, and injects its context into the
    /// request's headers.
    func start(_ request: inout EventSource.Request, sendsLastEventID: Bool) -> any Span {
        let span = tracer.startSpan(request.method, context: parent, ofKind: .client)
        span.attributes["http.request.method"] = request.method
        span.attributes["url.full"] = Self.redacted(request.url)
        if let (host, port) = Self.hostAndPort(request.url) {
            span.attributes["server.address"] = host
            if let port { span.attributes["server.port"] = port }
        }
        span.attributes["sse.attempt"] = request.attempt
        span.attributes["sse.last_event_id.sent"] = sendsLastEventID
        tracer.inject(span.context, into: &request.headers, using: HeaderInjector())
        return span
    }

    /// The response head arrived.
    static func answered(_ span: any Span, by head: ResponseHead) {
        span.attributes["http.response.status_code"] = head.status
        // OpenTelemetry's form: "1.1", "2".
        let version = head.httpVersion
        span.attributes["network.protocol.version"] =
            version.hasPrefix("HTTP/") ? String(version.dropFirst(5)) : version
    }

    /// The attempt is over, as `ending`.
    static func end(_ span: any Span, as ending: ConnectionEnding) {
        span.attributes["sse.connection.ending"] = ending.metricName
        switch ending {
        case .failure(let error, _), .fatal(let error):
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error, message: error.code.description))
        default:
            break
        }
        span.end()
    }

    /// The attempt failed before it was sent (a hook threw, libcurl refused the request).
    static func end(_ span: any Span, failing error: EventSourceError) {
        end(span, as: .fatal(error))
    }

    /// `url` without user information, and with query values removed (the keys stay).
    static func redacted(_ url: String) -> String {
        // A fragment is never sent.
        var url = Substring(url)
        if let hash = url.firstIndex(of: "#") { url = url[..<hash] }
        var query: Substring?
        if let mark = url.firstIndex(of: "?") {
            query = url[url.index(after: mark)...]
            url = url[..<mark]
        }
        var text = URLText.withoutUserInformation(String(url))
        if let query {
            let keys = query.split(separator: "&", omittingEmptySubsequences: true).map {
                $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            }
            text += "?" + keys.map { $0 + "=" }.joined(separator: "&")
        }
        return text
    }

    /// The host and port of `url`, if it has an authority.
    static func hostAndPort(_ url: String) -> (String, Int?)? {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        var authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            let host = String(authority[authority.index(after: authority.startIndex)..<close])
            let rest = authority[authority.index(after: close)...]
            return (host, rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil)
        }
        if let colon = authority.lastIndex(of: ":") {
            return (String(authority[..<colon]), Int(authority[authority.index(after: colon)...]))
        }
        return (String(authority), nil)
    }
}

/// Writes an instrument's values (such as `traceparent`) into request headers, replacing any
/// header of the same name.
private struct HeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into headers: inout [HTTPHeader]) {
        headers.removeAll { $0.name.lowercased() == key.lowercased() }
        headers.append(HTTPHeader(key, value))
    }
}
