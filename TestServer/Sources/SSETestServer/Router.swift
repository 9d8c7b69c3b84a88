import Foundation
import NIOCore
import SSEParser

/// A response written in one piece and followed by a close: statuses, the help text, `/publish`.
struct StatusResponse: Equatable, Sendable {
    /// The status code, such as `503`.
    var status: Int
    /// The header fields, in the order they are sent (`Connection: close` and CORS included).
    var headers: [HTTPResponseParts.Field]
    /// The body; empty for 204 and 304.
    var body: [UInt8]

    /// The status line, the header fields and the body, as they go on the wire.
    var bytes: [UInt8] {
        HTTPResponseParts.head(status: status, headers: headers.map { ($0.name, $0.value) }) + body
    }
}

/// What the server does with a request, before any state but the registered route is consulted.
enum Route: Equatable, Sendable {
    /// Answer with this response and close.
    case respond(StatusResponse)
    /// Publish the body to the broadcast hub, then answer with the event's ID and the subscriber count.
    case publish(data: String, type: String?)
    /// Serve `scenario`; `live` for the broadcast hub's `/subscribe`.
    case scenario(Scenario, live: Bool)
}

/// How the response to a scenario goes on the wire, once its attempt has been counted.
enum ResponsePlan: Sendable {
    /// Answer with this response and close.
    case respond(StatusResponse)
    /// Read the request and never answer (``Scenario/Hang/beforeHeaders``).
    case hangBeforeHeaders
    /// Send `start` (a status line and the first fields), then one field every `interval`, forever.
    case endlessHeaders(start: [UInt8], interval: Duration)
    /// Send a head and stream a body.
    case stream(StreamPlan)
}

/// A streamed `200` response: the head, where the body comes from, and its limits and faults.
struct StreamPlan: Sendable {
    /// Where the body's text comes from.
    enum Source: Sendable {
        /// A scripted timeline: numbered events, the echo event, or raw bytes.
        case script(StreamScript)
        /// The broadcast hub: `prefix` (a `retry:` field or nothing), the replay after `cursor`
        /// (none when `nil`), then every message published (above `cursor`), with a heartbeat
        /// comment every `heartbeat` when set; every `earlyIDEvery`-th ID sent early when set.
        case live(prefix: [UInt8], cursor: Int?, heartbeat: Duration?, earlyIDEvery: Int?)
    }

    /// The status line and header fields.
    var head: [UInt8]
    /// Whether nothing follows the head (``Scenario/Hang/afterHeaders``).
    var hangsAfterHeaders: Bool
    /// The body's limits, encoding and endings.
    var body: ResponseBody
    /// Where the body's text comes from.
    var source: Source
    /// The counter key under which numbered events sent are recorded (for `history` resumes);
    /// `nil` for anything but the numbered stream.
    var numberedKey: String?
    /// The number of the first numbered event the body sends.
    var firstNumber = 1
    /// For a live numbered stream, the moment the script's clock starts: its waits end at this
    /// moment plus the script's clock, so connections do not drift from the shared timeline.
    var anchor: NIODeadline?
}

/// The clock of a live numbered stream (``Scenario/isLive``): when the first request under its
/// key arrived, and now.
struct LiveClock: Sendable, Equatable {
    /// When the first request under the key arrived: the timeline's zero.
    var epoch: NIODeadline
    /// When this request arrived.
    var now: NIODeadline

    /// The time since the epoch.
    var elapsed: Duration {
        .nanoseconds((now - epoch).nanoseconds)
    }
}

/// Maps requests to what the server should do. Pure: the server's state (registered routes, the
/// chaos generator, per-key attempt counters) is read by the caller and passed in.
struct Router {
    /// The server-wide settings.
    var configuration: TestServer.Configuration

    /// Routes `request`; `registered` is the scenario ``TestServer/route(_:_:)`` set for its path.
    func route(_ request: RecordedRequest, registered: Scenario?) -> Route {
        if request.method == "OPTIONS" {
            return .respond(preflight())
        }
        if let token = configuration.authToken,
            !HTTPResponseParts.hasBearerToken(request.header("Authorization"), token: token)
        {
            return .respond(status(401))
        }
        switch request.path {
        case "/publish":
            guard request.method == "POST" else {
                return .respond(status(405, extraHeaders: [.init("Allow", "POST")]))
            }
            return .publish(data: request.bodyText, type: request.queryValue("event"))
        case "/" where registered == nil && request.query.isEmpty:
            return .respond(status(200, body: HTTPResponseParts.help))
        default:
            if let registered {
                return .scenario(registered, live: request.path == "/subscribe")
            }
            do {
                var scenario = try Scenario(query: request.query)
                if request.path == "/echo" { scenario.content = .echo }
                if let (api, responseID) = Self.modelAPI(impliedBy: request.path) {
                    scenario.content = .model(api)
                    if let responseID { scenario.modelStream.responseID = responseID }
                }
                return .scenario(scenario, live: request.path == "/subscribe")
            } catch {
                return .respond(status(400, body: "400 Bad Request: \(error)\n"))
            }
        }
    }

    /// The answer to a scenario whose bearer token the request lacks, or `nil` when it may proceed.
    func refusal(of scenario: Scenario, for request: RecordedRequest) -> StatusResponse? {
        guard let token = scenario.bearerToken,
            !HTTPResponseParts.hasBearerToken(request.header("Authorization"), token: token)
        else { return nil }
        return status(401)
    }

    /// The key that counts attempts (for ``Scenario/statusTimes``) and numbered heads: the
    /// scenario's ``Scenario/key``, or the request target without `starting_after`, so that a
    /// Responses stream resumed at the same URL shares the counters of the request it continues.
    static func counterKey(of scenario: Scenario, for request: RecordedRequest) -> String {
        if let key = scenario.key { return key }
        let pairs = request.query.split(separator: "&", omittingEmptySubsequences: false)
        let kept = pairs.filter { $0 != "starting_after" && !$0.hasPrefix("starting_after=") }
        guard kept.count != pairs.count else { return request.target }
        return kept.isEmpty ? request.path : "\(request.path)?\(kept.joined(separator: "&"))"
    }

    /// Plans the response to `scenario`.
    ///
    /// - Parameters:
    ///   - attempt: How many requests (this one included) came under the scenario's counter key.
    ///   - numberedHead: The highest numbered event sent before under that key, if any.
    ///   - live: Whether the body comes from the broadcast hub.
    ///   - hubNewest: The hub's newest ID (0 before the first message); for `live` plans.
    ///   - clock: The shared clock of a live numbered stream under that key; `nil` (the default)
    ///     reads as its epoch.
    func plan(
        _ scenario: Scenario,
        for request: RecordedRequest,
        live: Bool,
        attempt: Int,
        numberedHead: Int?,
        hubNewest: Int = 0,
        clock: LiveClock? = nil
    ) -> ResponsePlan {
        var scenario = scenario
        if let code = scenario.status, code != 200, attempt <= scenario.statusTimes ?? Int.max {
            return .respond(scenarioStatus(code, scenario: scenario))
        }
        switch scenario.hang {
        case .beforeHeaders:
            return .hangBeforeHeaders
        case .endlessHeaders:
            let contentType = scenario.contentType ?? "text/event-stream"
            return .endlessHeaders(
                start: Array("HTTP/1.1 200 OK\r\nContent-Type: \(contentType)\r\n".utf8),
                interval: scenario.interval ?? configuration.tickInterval
            )
        case .afterHeaders, nil:
            break
        }
        if request.http2StreamID != nil {
            // HTTP/2 frames the body itself: the bytes after the head are exactly the body.
            scenario.framing = .connectionClose
        }
        if let length = scenario.declaredContentLength {
            // The body goes out as is; the declared length, not the framing, delimits it, and
            // nothing goes past it.
            scenario.framing = .connectionClose
            scenario.dropAfterBytes = min(scenario.dropAfterBytes ?? length, length)
        }
        let gzip =
            switch scenario.compression {
            case .none: false
            case .always: true
            case .whenAccepted: HTTPResponseParts.acceptsGzip(request.header("Accept-Encoding"))
            }
        var headers: [HTTPResponseParts.Field] = []
        let contentType = scenario.contentType ?? "text/event-stream"
        if !contentType.isEmpty { headers.append(.init("Content-Type", contentType)) }
        if let value = Self.value(of: scenario.cacheControl, standard: "no-cache") {
            headers.append(.init("Cache-Control", value))
        }
        if let value = Self.value(of: scenario.accelBuffering, standard: "no") {
            headers.append(.init("X-Accel-Buffering", value))
        }
        if gzip { headers += [.init("Content-Encoding", "gzip"), .init("Vary", "Accept-Encoding")] }
        if let length = scenario.declaredContentLength {
            headers.append(.init("Content-Length", String(length)))
        } else if scenario.framing == .chunked {
            headers.append(.init("Transfer-Encoding", "chunked"))
        }
        headers += commonHeaders
        let head = HTTPResponseParts.head(
            status: scenario.streamStatus ?? 200, headers: headers.map { ($0.name, $0.value) })

        let prefix: [UInt8] =
            if let text = scenario.retryText {
                Array("retry: \(text)\n".utf8)
            } else {
                scenario.retry.map { Array(EventStreamSerializer.retry($0).utf8) } ?? []
            }
        let heartbeat = scenario.heartbeat == .zero ? nil : scenario.heartbeat ?? configuration.heartbeatInterval
        let interval = scenario.interval ?? configuration.tickInterval
        let lastEventID = request.header("Last-Event-ID")
        var numberedKey: String?
        var firstNumber = 1
        var anchor: NIODeadline?
        let source: StreamPlan.Source
        if live {
            let cursor: Int?
            switch Resumption.hubStart(lastEventID: lastEventID, scenario: scenario, newest: hubNewest) {
            case .after(let id): cursor = id
            case .newOnly: cursor = nil
            case .refused: return .respond(unknownID(lastEventID, status: scenario.unknownIDStatus ?? 500))
            }
            source = .live(prefix: prefix, cursor: cursor, heartbeat: heartbeat, earlyIDEvery: scenario.earlyIDEvery)
        } else {
            switch scenario.content {
            case .numbered:
                let timeline = NumberedTimeline(
                    interval: interval, silence: scenario.silence ?? .zero, silenceEvery: scenario.silenceEvery)
                var due: Int?
                if scenario.isLive {
                    guard interval > .zero else {
                        return .respond(
                            status(400, body: "400 Bad Request: live=1 needs an interval above zero (interval=MS)\n"))
                    }
                    due = min(timeline.dueCount(at: clock?.elapsed ?? .zero), scenario.count ?? Int.max)
                    anchor = clock?.now
                }
                guard
                    let start = Resumption.firstNumber(
                        lastEventID: lastEventID, scenario: scenario, head: numberedHead, due: due)
                else {
                    return .respond(unknownID(lastEventID, status: scenario.unknownIDStatus ?? 500))
                }
                numberedKey = Self.counterKey(of: scenario, for: request)
                firstNumber = start
                source = .script(
                    StreamScript(
                        prefix: prefix,
                        events: .numbered(next: start, last: scenario.count, scenario: scenario),
                        timeline: timeline,
                        heartbeat: heartbeat,
                        offset: scenario.isLive ? clock?.elapsed ?? .zero : nil
                    ))
            case .echo:
                let event = ServerSentEvent(
                    type: scenario.eventType ?? "echo", data: HTTPResponseParts.echoJSON(request))
                source = .script(
                    StreamScript(prefix: prefix, events: .fixed([event]), interval: interval, heartbeat: nil))
            case .raw(let bytes):
                source = .script(StreamScript(prefix: bytes, events: .fixed([]), interval: interval, heartbeat: nil))
            case .model(let api):
                switch modelAnswer(api, scenario.modelStream, for: request) {
                case .respond(let response):
                    return .respond(response)
                case .events(let events):
                    let pieces = Self.pieces(of: events, processingComments: scenario.modelStream.processingComments)
                    source = .script(
                        StreamScript(
                            prefix: prefix, events: .rendered(pieces), interval: interval, heartbeat: heartbeat)
                    )
                }
            }
        }
        return .stream(
            StreamPlan(
                head: head,
                hangsAfterHeaders: scenario.hang == .afterHeaders,
                body: ResponseBody(scenario: scenario, gzip: gzip),
                source: source,
                numberedKey: numberedKey,
                firstNumber: firstNumber,
                anchor: anchor
            ))
    }

    /// A header's value as a scenario sets it; `nil` for none.
    private static func value(of header: Scenario.HeaderValue, standard: String) -> String? {
        switch header {
        case .standard: standard
        case .omitted: nil
        case .custom(let value): value
        }
    }

    /// The answer to a `Last-Event-ID` the stream never issued, under ``Scenario/unknownIDStatus``.
    private func unknownID(_ lastEventID: String?, status code: Int) -> StatusResponse {
        let reason = HTTPResponseParts.statusBody(code).dropLast()
        let id = lastEventID ?? ""
        return status(code, body: "\(reason): Last-Event-ID '\(id)' is not an ID this stream issued\n")
    }

    /// The answer to `POST /publish`, once the hub has published `id` to `subscribers`.
    func published(id: String, subscribers: Int) -> StatusResponse {
        status(200, body: "{\"id\":\"\(id)\",\"subscribers\":\(subscribers)}\n", contentType: "application/json")
    }

    /// The answer to a request that is not HTTP/1.1 the decoder understands.
    func badRequest(_ error: any Error) -> StatusResponse {
        status(400, body: "400 Bad Request: \(error)\n")
    }

    // MARK: Status responses

    private var commonHeaders: [HTTPResponseParts.Field] {
        var headers: [HTTPResponseParts.Field] = [.init("Connection", "close")]
        if let origin = configuration.corsOrigin {
            headers.append(.init("Access-Control-Allow-Origin", origin))
        }
        return headers
    }

    private func scenarioStatus(_ code: Int, scenario: Scenario) -> StatusResponse {
        var headers: [HTTPResponseParts.Field] = []
        if let retryAfter = scenario.retryAfter { headers.append(.init("Retry-After", retryAfter)) }
        if [301, 302, 303, 307, 308].contains(code) {
            headers.append(.init("Location", scenario.location ?? "/events"))
        }
        guard let body = scenario.statusBody else { return status(code, extraHeaders: headers) }
        let type = body.hasPrefix("{") ? "application/json" : "text/plain; charset=utf-8"
        return status(code, body: body, contentType: type, extraHeaders: headers)
    }

    private func preflight() -> StatusResponse {
        var headers: [HTTPResponseParts.Field] = [.init("Allow", "GET, POST, OPTIONS")]
        if configuration.corsOrigin != nil {
            headers += [
                .init("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
                .init(
                    "Access-Control-Allow-Headers", "Authorization, Last-Event-ID, Cache-Control, Content-Type, Accept"
                ),
                .init("Access-Control-Max-Age", "600"),
            ]
        }
        return status(204, extraHeaders: headers)
    }

    /// `status` with a short body (none for 204 and 304).
    func status(
        _ status: Int,
        body: String? = nil,
        contentType: String = "text/plain; charset=utf-8",
        extraHeaders: [HTTPResponseParts.Field] = []
    ) -> StatusResponse {
        var headers = extraHeaders
        let hasBody = status != 204 && status != 304
        let bodyBytes = hasBody ? Array((body ?? HTTPResponseParts.statusBody(status)).utf8) : []
        if status == 401 { headers.append(.init("WWW-Authenticate", "Bearer realm=\"sse-test-server\"")) }
        if hasBody {
            headers += [.init("Content-Type", contentType), .init("Content-Length", String(bodyBytes.count))]
        }
        headers += commonHeaders
        return StatusResponse(status: status, headers: headers, body: bodyBytes)
    }
}
