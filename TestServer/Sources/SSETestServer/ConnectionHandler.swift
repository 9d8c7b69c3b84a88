import Foundation
import NIOCore
import NIOHTTP1
import SSEParser

/// Serves one connection: reads one request, records it, and answers as its ``Scenario`` says.
///
/// The handler writes the response as raw bytes (there is no HTTP encoder in the pipeline) so that
/// a scenario controls every byte on the wire and exactly how the connection ends. A streaming body
/// is a queue of steps (write, wait, end) that ``pump()`` runs one at a time: the next write starts
/// only when the previous one reached the kernel, which keeps an endless stream within bounds for a
/// slow reader, and waits are tasks scheduled on the event loop.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        case reading
        case responding
        case done
    }

    private enum Output {
        case write([UInt8])
        case wait(Duration)
        case end(Scenario.Ending)
    }

    private let server: ServerContext
    private var phase = Phase.reading
    private var connection = 0
    private var requestHead: HTTPRequestHead?
    private var requestBody: [UInt8] = []

    // The streaming response.
    private var context: ChannelHandlerContext?
    private var queue = CircularBuffer<Output>()
    private var script: StreamScript?
    private var encoder = BodyEncoder(scenario: Scenario(), gzip: false)
    private var serializer = EventStreamSerializer()
    private var isBusy = false
    private var isEnding = false
    private var eventsLeft: Int?
    private var naturalEnding = Scenario.Ending.finish
    private var cutEnding = Scenario.Ending.close
    private var pendingWait: Scheduled<Void>?
    private var heartbeat: Scheduled<Void>?
    private var isSubscribed = false
    private var numberedKey: String?
    private var nextNumber = 1
    /// Set for ``Scenario/Hang/endlessHeaders``: the pause between two header fields.
    private var endlessHeaderInterval: Duration?
    private var endlessHeaderCount = 0

    init(server: ServerContext) {
        self.server = server
    }

    // MARK: Channel events

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        connection = server.state.update { state in
            state.connectionCount += 1
            state.openChannels[ObjectIdentifier(channel)] = channel
            state.acceptedConnections[state.connectionCount] = ContinuousClock.now
            return state.connectionCount
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        phase = .done
        pendingWait?.cancel()
        heartbeat?.cancel()
        queue.removeAll()
        if isSubscribed {
            server.hub.value.unsubscribe(ObjectIdentifier(self))
            isSubscribed = false
            let count = server.hub.value.subscriberCount
            server.state.update { $0.subscriberCount = count }
        }
        let id = ObjectIdentifier(context.channel)
        let number = connection
        let closedAt = ContinuousClock.now
        server.state.update { state in
            state.openChannels[id] = nil
            state.closedConnections[number] = closedAt
        }
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .reading = phase else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            requestHead = head
        case .body(var buffer):
            requestBody += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            phase = .responding
            self.context = context
            respond(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .reading = phase, error is HTTPParserError {
            phase = .responding
            self.context = context
            sendStatus(400, body: "400 Bad Request: \(error)\n")
        } else {
            context.close(promise: nil)
        }
    }

    // MARK: Routing

    private func respond(context: ChannelHandlerContext) {
        guard let head = requestHead else { return }
        let (path, query) = Self.split(head.uri)
        let request = RecordedRequest(
            method: head.method.rawValue,
            path: path,
            query: query,
            headers: head.headers.map { RecordedRequest.Header(name: $0.name, value: $0.value) },
            body: requestBody,
            connection: connection,
            receivedAt: .now
        )
        server.onRequest?(request)
        let route = server.state.update { state in
            state.requests.append(request)
            return state.routes[path]
        }

        if head.method == .OPTIONS {
            sendPreflight()
            return
        }
        if let token = server.configuration.authToken,
            !HTTPResponseParts.hasBearerToken(request.header("Authorization"), token: token)
        {
            sendStatus(401)
            return
        }
        switch path {
        case "/publish":
            guard head.method == .POST else {
                sendStatus(405, extraHeaders: [("Allow", "POST")])
                return
            }
            publish(request)
        case "/" where route == nil && query.isEmpty:
            sendStatus(200, body: HTTPResponseParts.help)
        default:
            var scenario: Scenario
            if let route {
                scenario = route
            } else {
                do {
                    scenario = try Scenario(query: query)
                } catch {
                    sendStatus(400, body: "400 Bad Request: \(error)\n")
                    return
                }
                if path == "/echo" { scenario.content = .echo }
            }
            serve(scenario, request: request, live: path == "/subscribe")
        }
    }

    private func publish(_ request: RecordedRequest) {
        let event = server.hub.value.publish(data: request.bodyText, type: request.queryValue("event"))
        let subscribers = server.hub.value.subscriberCount
        sendStatus(
            200, body: "{\"id\":\"\(event.id)\",\"subscribers\":\(subscribers)}\n", contentType: "application/json")
    }

    // MARK: Scenarios

    private func serve(_ scenario: Scenario, request: RecordedRequest, live: Bool) {
        var scenario = scenario
        if live, let chaos = server.configuration.chaos {
            server.state.update { state in
                var random = state.chaosRandom ?? SeededRandom(seed: chaos.seed)
                let fault = chaos.apply(to: &scenario, random: &random)
                state.chaosRandom = random
                state.injectedFaults[fault, default: 0] += 1
                state.injectedFaultSequence.append(fault)
            }
        }
        if let token = scenario.bearerToken,
            !HTTPResponseParts.hasBearerToken(request.header("Authorization"), token: token)
        {
            sendStatus(401)
            return
        }
        let key = scenario.key ?? request.target
        let (attempt, numberedHead) = server.state.update { state in
            state.attempts[key, default: 0] += 1
            return (state.attempts[key]!, state.numberedHeads[key])
        }
        if let status = scenario.status, status != 200, attempt <= scenario.statusTimes ?? Int.max {
            sendScenarioStatus(status, scenario: scenario)
            return
        }
        if scenario.hang == .beforeHeaders {
            return
        }
        if scenario.hang == .endlessHeaders {
            let contentType = scenario.contentType ?? "text/event-stream"
            queue.append(.write(Array("HTTP/1.1 200 OK\r\nContent-Type: \(contentType)\r\n".utf8)))
            endlessHeaderInterval = scenario.interval ?? server.configuration.tickInterval
            pump()
            return
        }
        if scenario.declaredContentLength != nil {
            // The body goes out as is; the declared length, not the framing, delimits it.
            scenario.framing = .connectionClose
        }

        let gzip =
            switch scenario.compression {
            case .none: false
            case .always: true
            case .whenAccepted: HTTPResponseParts.acceptsGzip(request.header("Accept-Encoding"))
            }
        var headers: [(name: String, value: String)] = []
        let contentType = scenario.contentType ?? "text/event-stream"
        if !contentType.isEmpty { headers.append(("Content-Type", contentType)) }
        headers.append(("Cache-Control", "no-cache"))
        if gzip { headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")] }
        if let length = scenario.declaredContentLength {
            headers.append(("Content-Length", String(length)))
        } else if scenario.framing == .chunked {
            headers.append(("Transfer-Encoding", "chunked"))
        }
        headers += commonHeaders
        queue.append(.write(HTTPResponseParts.head(status: 200, headers: headers)))
        if scenario.hang == .afterHeaders {
            queue.append(.end(.hang))
            pump()
            return
        }

        encoder = BodyEncoder(scenario: scenario, gzip: gzip)
        eventsLeft = scenario.dropAfterEvents
        naturalEnding = scenario.ending ?? .finish
        cutEnding = scenario.ending ?? .close
        let prefix = scenario.retry.map { Array(EventStreamSerializer.retry($0).utf8) } ?? []
        let heartbeatInterval = scenario.heartbeat ?? server.configuration.heartbeatInterval
        let interval = scenario.interval ?? server.configuration.tickInterval
        let lastEventID = request.header("Last-Event-ID")

        if live {
            enqueueText(prefix, isEvent: false)
            subscribe(lastEventID: lastEventID)
            if let heartbeatInterval { scheduleHeartbeat(every: heartbeatInterval) }
        } else {
            switch scenario.content {
            case .numbered:
                let start = HTTPResponseParts.resumePoint(
                    lastEventID: lastEventID,
                    head: numberedHead,
                    history: scenario.history
                )
                numberedKey = key
                nextNumber = start
                script = StreamScript(
                    prefix: prefix,
                    events: .numbered(next: start, last: scenario.count, scenario: scenario),
                    interval: interval,
                    heartbeat: heartbeatInterval
                )
            case .echo:
                let event = ServerSentEvent(type: scenario.eventType ?? "echo", data: Self.echoJSON(request))
                script = StreamScript(prefix: prefix, events: .fixed([event]), interval: interval, heartbeat: nil)
            case .raw(let bytes):
                script = StreamScript(prefix: bytes, events: .fixed([]), interval: interval, heartbeat: nil)
            }
        }
        if encoder.isCut { endStream(cut: true) }
        pump()
    }

    private func subscribe(lastEventID: String?) {
        let hub = server.hub.value
        let replay = hub.subscribe(ObjectIdentifier(self), lastEventID: lastEventID) { [weak self] event in
            self?.deliver(event)
        }
        isSubscribed = true
        let count = hub.subscriberCount
        server.state.update { $0.subscriberCount = count }
        for event in replay { deliver(event) }
    }

    private func deliver(_ event: ServerSentEvent) {
        guard !isEnding, case .responding = phase else { return }
        enqueueText(Array(serializer.serialize(event).utf8), isEvent: true)
        pump()
    }

    private func scheduleHeartbeat(every interval: Duration) {
        guard let eventLoop = context?.eventLoop else { return }
        heartbeat = eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(interval)) { [weak self] in
            guard let self, !self.isEnding, case .responding = self.phase else { return }
            self.enqueueText(Array(EventStreamSerializer.comment("").utf8), isEvent: false)
            self.scheduleHeartbeat(every: interval)
            self.pump()
        }
    }

    // MARK: The body queue

    /// Encodes body text into the queue, and ends the stream when a limit is reached.
    private func enqueueText(_ text: [UInt8], isEvent: Bool) {
        guard !isEnding else { return }
        for step in encoder.encode(text) {
            switch step {
            case .write(let bytes): queue.append(.write(bytes))
            case .wait(let duration): queue.append(.wait(duration))
            }
        }
        if isEvent {
            if let numberedKey {
                let number = nextNumber
                nextNumber += 1
                server.state.update { $0.numberedHeads[numberedKey] = max($0.numberedHeads[numberedKey] ?? 0, number) }
            }
            if let left = eventsLeft {
                eventsLeft = left - 1
            }
        }
        if encoder.isCut || eventsLeft == 0 {
            endStream(cut: true)
        }
    }

    private func endStream(cut: Bool) {
        guard !isEnding else { return }
        isEnding = true
        heartbeat?.cancel()
        let ending = cut ? cutEnding : naturalEnding
        if ending == .finish {
            let bytes = encoder.finish()
            if !bytes.isEmpty { queue.append(.write(bytes)) }
        }
        queue.append(.end(ending))
    }

    /// Runs the queued steps until one has to wait for a write or a timer; refills from the script.
    private func pump() {
        guard let context else { return }
        while !isBusy, case .responding = phase {
            if queue.isEmpty, let interval = endlessHeaderInterval {
                endlessHeaderCount += 1
                queue.append(
                    .write(Array("X-Endless-\(endlessHeaderCount): \(String(repeating: "h", count: 64))\r\n".utf8)))
                queue.append(.wait(interval))
            }
            if queue.isEmpty, !isEnding, var script {
                switch script.next() {
                case .text(let bytes, let isEvent): enqueueText(bytes, isEvent: isEvent)
                case .wait(let duration): queue.append(.wait(duration))
                case .end: endStream(cut: false)
                }
                self.script = script
            }
            guard let output = queue.popFirst() else { return }
            switch output {
            case .write(let bytes):
                isBusy = true
                let buffer = context.channel.allocator.buffer(bytes: bytes)
                context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { [weak self] result in
                    guard let self else { return }
                    self.isBusy = false
                    switch result {
                    case .success:
                        // Not pump() directly: a write that completes at once would recurse.
                        context.eventLoop.assumeIsolated().execute { self.pump() }
                    case .failure:
                        self.phase = .done
                        context.close(promise: nil)
                    }
                }
            case .wait(let duration):
                isBusy = true
                pendingWait = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(duration)) {
                    [weak self] in
                    self?.isBusy = false
                    self?.pump()
                }
            case .end(let ending):
                phase = .done
                finish(context: context, with: ending)
            }
        }
    }

    private func finish(context: ChannelHandlerContext, with ending: Scenario.Ending) {
        switch ending {
        case .finish, .close:
            context.close(promise: nil)
        case .reset:
            // SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            if let provider = context.channel as? any SocketOptionProvider {
                provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            } else {
                context.close(promise: nil)
            }
        case .hang:
            break
        }
    }

    // MARK: Status responses

    private var commonHeaders: [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [("Connection", "close")]
        if let origin = server.configuration.corsOrigin {
            headers.append(("Access-Control-Allow-Origin", origin))
        }
        return headers
    }

    private func sendScenarioStatus(_ status: Int, scenario: Scenario) {
        var headers: [(name: String, value: String)] = []
        if let retryAfter = scenario.retryAfter { headers.append(("Retry-After", retryAfter)) }
        if [301, 302, 303, 307, 308].contains(status) {
            headers.append(("Location", scenario.location ?? "/events"))
        }
        if let body = scenario.statusBody {
            let type = body.hasPrefix("{") ? "application/json" : "text/plain; charset=utf-8"
            sendStatus(status, body: body, contentType: type, extraHeaders: headers)
        } else {
            sendStatus(status, extraHeaders: headers)
        }
    }

    private func sendPreflight() {
        var headers: [(name: String, value: String)] = [("Allow", "GET, POST, OPTIONS")]
        if server.configuration.corsOrigin != nil {
            headers += [
                ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
                ("Access-Control-Allow-Headers", "Authorization, Last-Event-ID, Cache-Control, Content-Type, Accept"),
                ("Access-Control-Max-Age", "600"),
            ]
        }
        sendStatus(204, extraHeaders: headers)
    }

    /// Answers `status` with a short body (none for 204 and 304), then closes the connection.
    private func sendStatus(
        _ status: Int,
        body: String? = nil,
        contentType: String = "text/plain; charset=utf-8",
        extraHeaders: [(name: String, value: String)] = []
    ) {
        var headers = extraHeaders
        let bodyBytes = status == 204 || status == 304 ? [] : Array((body ?? HTTPResponseParts.statusBody(status)).utf8)
        if status == 401 { headers.append(("WWW-Authenticate", "Bearer realm=\"sse-test-server\"")) }
        if status != 204 && status != 304 {
            headers += [("Content-Type", contentType), ("Content-Length", String(bodyBytes.count))]
        }
        headers += commonHeaders
        queue.append(.write(HTTPResponseParts.head(status: status, headers: headers) + bodyBytes))
        isEnding = true
        queue.append(.end(.finish))
        pump()
    }

    // MARK: Helpers

    private static func split(_ uri: String) -> (path: String, query: String) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, "") }
        return (String(uri[..<mark]), String(uri[uri.index(after: mark)...]))
    }

    private struct Echo: Encodable {
        var method: String
        var path: String
        var query: String
        var headers: [String: String]
        var body: String
    }

    private static func echoJSON(_ request: RecordedRequest) -> String {
        var headers: [String: String] = [:]
        for header in request.headers {
            let name = header.name.lowercased()
            headers[name] = headers[name].map { "\($0), \(header.value)" } ?? header.value
        }
        let echo = Echo(
            method: request.method,
            path: request.path,
            query: request.query,
            headers: headers,
            body: request.bodyText
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(echo)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
