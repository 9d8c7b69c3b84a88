import Foundation
import NIOCore
import NIOHTTP1
import SSEParser

/// A connection as the server accepted it: its number (1-based, in accept order), and what it
/// speaks once its first bytes have told (see ``ProtocolSniffer``).
///
/// There is no HTTP encoder in the pipeline: a scenario controls every byte on the wire and exactly
/// how the connection ends, so responses go out as raw bytes (over HTTP/2, each stream translates
/// them, see ``HTTP2Bridge``). They are written through the channel, not an outbound writer, each
/// write awaited until it reaches the socket (see ``ServerContext/write(_:to:)``), so the async
/// channel has no outbound side.
struct AcceptedConnection: Sendable {
    let number: Int
    let negotiated: EventLoopFuture<NegotiatedProtocol>
}

/// What a connection does after the turn of the event loop that recorded its request.
enum Execution: Sendable {
    /// Everything has been written: close.
    case close
    /// Send nothing; wait until the client or ``TestServer/shutdown()`` closes the connection.
    case hang
    /// Send one more header field every `interval`, forever.
    case endlessHeaders(interval: Duration)
    /// Stream the body; `feed` carries the broadcast hub's messages for a live plan.
    case stream(StreamPlan, feed: LiveFeed?)
}

/// What a `/subscribe` connection receives: the hub's replay, then its messages and heartbeats.
struct LiveFeed: Sendable {
    enum Input: Sendable {
        case event(ServerSentEvent)
        case heartbeat
    }

    /// The held messages after the request's `Last-Event-ID`, to send first.
    var replay: [ServerSentEvent]
    /// The messages published since, and heartbeats; finishes when the connection closes.
    var inputs: AsyncStream<Input>
    var continuation: AsyncStream<Input>.Continuation
}

extension ServerContext {
    /// Serves one connection: reads one request, records it and starts the answer in one turn of the
    /// event loop (see ``commit(_:body:connection:channel:)``), then streams the rest as its plan says.
    ///
    /// All the state of a response lives in this call. One write is in flight at a time, so a slow
    /// reader holds an endless stream back instead of making the server buffer it.
    func serve(_ connection: AcceptedConnection) async {
        switch try? await connection.negotiated.get() {
        case .http1(let request):
            await serve(request)
        case .http2(let multiplexer):
            // Ends when the connection closes; each stream is served in its own task.
            try? await withThrowingDiscardingTaskGroup { group in
                for try await stream in multiplexer.inbound {
                    group.addTask(executorPreference: executor) { await serve(stream) }
                }
            }
        case nil:
            // Closed (or broken) before it said what it speaks.
            break
        }
    }

    /// Serves one request: an HTTP/1.1 connection's, or an HTTP/2 stream's.
    private func serve(_ stream: RequestStream) async {
        let channel = stream.channel.channel
        do {
            try await stream.channel.executeThenClose { inbound, _ in
                var inbound = inbound.makeAsyncIterator()
                let head: HTTPRequestHead
                let body: [UInt8]
                do {
                    guard let request = try await Self.readRequest(&inbound) else { return }
                    (head, body) = request
                } catch let error as HTTPParserError {
                    try await Self.write(Router(configuration: configuration).badRequest(error).bytes, to: channel)
                    return
                }
                let execution = try await channel.eventLoop.submit {
                    self.commit(head, body: body, stream: stream, channel: channel)
                }.get()
                try await execute(execution, inbound: &inbound, channel: channel, http2: stream.http2StreamID != nil)
            }
        } catch {
            // The client went away, the connection broke, or shutdown() closed it: nothing to tell.
        }
    }

    private static func readRequest(
        _ inbound: inout NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator
    ) async throws -> (HTTPRequestHead, [UInt8])? {
        var head: HTTPRequestHead?
        var body: [UInt8] = []
        while let part = try await inbound.next() {
            switch part {
            case .head(let requestHead): head = requestHead
            case .body(let buffer): body += buffer.readableBytesView
            case .end: if let head { return (head, body) }
            }
        }
        return nil
    }

    // MARK: The turn that records the request

    /// Records the request, routes it, and writes the first bytes of the answer (or all of it),
    /// in one turn of the event loop.
    ///
    /// One turn, because tests rely on it: a request they see recorded has its head on the wire
    /// before any close that ``TestServer/shutdown()`` schedules on the same loop, a `/subscribe`
    /// client is subscribed before it gets the head, and requests are recorded in the order read.
    private func commit(
        _ head: HTTPRequestHead,
        body: [UInt8],
        stream: RequestStream,
        channel: any Channel
    ) -> Execution {
        let (path, query) = HTTPResponseParts.split(head.uri)
        let connection = stream.connection
        let request = RecordedRequest(
            method: head.method.rawValue,
            path: path,
            query: query,
            headers: head.headers.map { RecordedRequest.Header(name: $0.name, value: $0.value) },
            body: body,
            connection: connection,
            receivedAt: .now,
            httpVersion: head.version.major == 2 ? "HTTP/2" : "HTTP/\(head.version.major).\(head.version.minor)",
            http2StreamID: stream.http2StreamID
        )
        onRequest?(request)
        let (registered, requestNumber) = state.update { state in
            state.requestCount += 1
            if configuration.keepsRequests { state.requests.append(request) }
            let registered = state.routes[path] ?? Router.responseID(inPath: path).flatMap { state.responseStreams[$0] }
            return (registered, state.requestCount)
        }
        func send(_ bytes: [UInt8]) {
            channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
        }

        let router = Router(configuration: configuration)
        switch router.route(request, registered: registered) {
        case .respond(let response):
            send(response.bytes)
            return .close
        case .publish(let data, let type):
            let event = hub.value.publish(data: data, type: type)
            send(router.published(id: event.id, subscribers: hub.value.subscriberCount).bytes)
            return .close
        case .scenario(var scenario, let live):
            if live, let chaos = configuration.chaos {
                state.update { state in
                    var random = state.chaosRandom ?? SeededRandom(seed: chaos.seed)
                    let fault = chaos.apply(to: &scenario, random: &random)
                    state.chaosRandom = random
                    state.injectedFaults[fault, default: 0] += 1
                    state.injectedFaultSequence.append(fault)
                }
            }
            if let refusal = router.refusal(of: scenario, for: request) {
                send(refusal.bytes)
                return .close
            }
            let key = Router.counterKey(of: scenario, for: request)
            let now = NIODeadline.now()
            let isLiveNumbered = scenario.isLive && !live
            let (attempt, numberedHead, epoch) = state.update { state in
                state.attempts[key, default: 0] += 1
                // The first request under the key starts the live timeline.
                let epoch = isLiveNumbered ? state.liveEpochs[key] ?? now : nil
                if isLiveNumbered { state.liveEpochs[key] = epoch }
                return (state.attempts[key]!, state.numberedHeads[key], epoch)
            }
            let plan = router.plan(
                scenario,
                for: request,
                live: live,
                attempt: attempt,
                numberedHead: numberedHead,
                hubNewest: hub.value.newestID,
                clock: epoch.map { LiveClock(epoch: $0, now: now) }
            )
            switch plan {
            case .respond(let response):
                send(response.bytes)
                return .close
            case .hangBeforeHeaders:
                return .hang
            case .endlessHeaders(let start, let interval):
                send(start)
                return .endlessHeaders(interval: interval)
            case .stream(let plan):
                var feed: LiveFeed?
                if case .live(_, let cursor, _, _) = plan.source, !plan.hangsAfterHeaders {
                    feed = subscribe(request: requestNumber, after: cursor, channel: channel)
                }
                if let (id, remembered) = Router.rememberedResponse(scenario, for: request) {
                    state.update { $0.responseStreams[id] = remembered }
                }
                send(plan.head)
                return .stream(plan, feed: feed)
            }
        }
    }

    /// Subscribes request number `request` (1-based; an HTTP/2 connection carries many) to the hub,
    /// after `cursor`, until its channel closes.
    private func subscribe(request: Int, after cursor: Int?, channel: any Channel) -> LiveFeed {
        let (inputs, continuation) = AsyncStream.makeStream(of: LiveFeed.Input.self)
        let replay = hub.value.subscribe(request, after: cursor) { continuation.yield(.event($0)) }
        let count = hub.value.subscriberCount
        state.update { $0.subscriberCount = count }
        // Close callbacks run on the channel's event loop, which is the hub's.
        channel.closeFuture.whenComplete { [hub, state] _ in
            hub.value.unsubscribe(request)
            let count = hub.value.subscriberCount
            state.update { $0.subscriberCount = count }
            continuation.finish()
        }
        return LiveFeed(replay: replay, inputs: inputs, continuation: continuation)
    }

    // MARK: The rest of the answer

    private func execute(
        _ execution: Execution,
        inbound: inout NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator,
        channel: any Channel,
        http2: Bool
    ) async throws {
        switch execution {
        case .close:
            // The answer went out in the turn that recorded the request; a write after it
            // completes once it has reached the socket.
            try await Self.write([], to: channel)
        case .hang:
            try await Self.waitForClose(&inbound)
        case .endlessHeaders(let interval):
            // Ends when a write fails: the client or shutdown() closed the connection.
            for count in 1... {
                let field = "X-Endless-\(count): \(String(repeating: "h", count: 64))\r\n"
                try await Self.write(Array(field.utf8), to: channel)
                try await Self.sleep(interval, on: channel.eventLoop)
            }
        case .stream(let plan, let feed):
            if plan.hangsAfterHeaders {
                try await Self.waitForClose(&inbound)
                return
            }
            var body = plan.body
            switch plan.source {
            case .script(var script):
                var number = plan.firstNumber
                var ending = try await perform(body.start(), channel: channel, http2: http2)
                // Ends at the script's end or a limit, or when a write fails.
                while ending == nil {
                    let steps: [ResponseBody.Step]
                    switch script.next() {
                    case .text(let bytes, let isEvent):
                        if isEvent, !body.isEnding, let key = plan.numberedKey {
                            state.update { $0.numberedHeads[key] = max($0.numberedHeads[key] ?? 0, number) }
                            number += 1
                        }
                        steps = body.text(bytes, isEvent: isEvent)
                    case .wait(let duration):
                        if let anchor = plan.anchor {
                            // A live stream's events are due at moments all its connections share.
                            try await Self.sleep(until: anchor + TimeAmount(script.clock), on: channel.eventLoop)
                            steps = []
                        } else {
                            steps = [.wait(duration)]
                        }
                    case .end:
                        steps = body.end(cut: false)
                    }
                    ending = try await perform(steps, channel: channel, http2: http2)
                }
                if ending == .hang { try await Self.waitForClose(&inbound) }
            case .live(let prefix, _, let heartbeat, let earlyIDEvery):
                guard let feed else { return }
                var writer = EventWriter(earlyIDEvery: earlyIDEvery)
                if try await live(
                    feed, prefix: prefix, heartbeat: heartbeat, writer: &writer, body: &body, channel, http2: http2)
                    == .hang
                {
                    try await Self.waitForClose(&inbound)
                }
            }
        }
    }

    /// Streams the hub's replay and messages, and heartbeats, until a limit ends the body or the
    /// connection closes; returns the ending reached, if any.
    private func live(
        _ feed: LiveFeed,
        prefix: [UInt8],
        heartbeat: Duration?,
        writer: inout EventWriter,
        body: inout ResponseBody,
        _ channel: any Channel,
        http2: Bool
    ) async throws -> Scenario.Ending? {
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let heartbeat {
                group.addTask {
                    // Ends when the group is cancelled, as the body ends or the connection closes.
                    while true {
                        try await Self.sleep(heartbeat, on: channel.eventLoop)
                        feed.continuation.yield(.heartbeat)
                    }
                }
            }
            defer {
                group.cancelAll()
                // Nothing more is sent: later messages need not be buffered until the close.
                feed.continuation.finish()
            }
            var steps = body.text(prefix, isEvent: false)
            for event in feed.replay {
                steps += body.text(Array(writer.write(event).utf8), isEvent: true)
            }
            steps += body.start()
            if let ending = try await perform(steps, channel: channel, http2: http2) { return ending }
            // Ends when the connection closes (the hub's subscription finishes the stream) or a limit.
            for await input in feed.inputs {
                let steps: [ResponseBody.Step]
                switch input {
                case .event(let event):
                    steps = body.text(Array(writer.write(event).utf8), isEvent: true)
                case .heartbeat:
                    steps = body.text(Array(EventStreamSerializer.comment("").utf8), isEvent: false)
                }
                if let ending = try await perform(steps, channel: channel, http2: http2) { return ending }
            }
            return nil
        }
    }

    /// Performs `steps`; at an ending, returns it. For ``Scenario/Ending/reset`` over HTTP/1.1,
    /// with `SO_LINGER` set so that the close sends RST; over HTTP/2 (`http2`), after the stream's
    /// ``HTTP2Fault``, if the ending has one.
    private func perform(_ steps: [ResponseBody.Step], channel: any Channel, http2: Bool) async throws
        -> Scenario.Ending?
    {
        for step in steps {
            switch step {
            case .write(let bytes):
                try await Self.write(bytes, to: channel)
            case .wait(let duration):
                try await Self.sleep(duration, on: channel.eventLoop)
            case .end(let ending):
                if http2, let fault = HTTP2Fault(ending) {
                    try await channel.triggerUserOutboundEvent(fault).get()
                } else if ending == .reset || ending == .resetConnection,
                    let provider = channel as? any SocketOptionProvider
                {
                    // SO_LINGER with a zero timeout makes close() send RST instead of FIN.
                    try await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
                }
                return ending
            }
        }
        return nil
    }

    /// Writes `bytes` and returns once they (and everything before them) have reached the socket.
    ///
    /// Awaiting each write is the back-pressure: `NIOAsyncChannelOutboundWriter` hops every write
    /// to the event loop and learns that the socket is full only afterwards, so a body that never
    /// has to wait (an endless stream with no interval) would queue writes without bound and keep a
    /// thread of the cooperative pool busy. It also means a drop closes after exactly the bytes
    /// meant, never discarding a queued write.
    ///
    /// - Throws: `CancellationError` when shutdown() has cancelled the connection: a future's
    ///   `get()` does not notice cancellation, and an endless stream to a client that keeps reading
    ///   (one that connected as the server was shutting down) would otherwise never end.
    private static func write(_ bytes: [UInt8], to channel: any Channel) async throws {
        try Task.checkCancellation()
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// Waits `duration` on the connection's event loop; cancellable.
    ///
    /// Not `Task.sleep`: its timer fires on the global executor's threads, which a busy test process
    /// keeps waiting, and a late heartbeat or tick is a fault no scenario asked for.
    private static func sleep(_ duration: Duration, on eventLoop: any EventLoop) async throws {
        let scheduled = eventLoop.scheduleTask(in: TimeAmount(duration)) {}
        try await withTaskCancellationHandler {
            try await scheduled.futureResult.get()
        } onCancel: {
            scheduled.cancel()
        }
    }

    /// Waits until `deadline` on the connection's event loop; cancellable. At once when it has passed.
    private static func sleep(until deadline: NIODeadline, on eventLoop: any EventLoop) async throws {
        let scheduled = eventLoop.scheduleTask(deadline: deadline) {}
        try await withTaskCancellationHandler {
            try await scheduled.futureResult.get()
        } onCancel: {
            scheduled.cancel()
        }
    }

    /// Returns when the client closes the connection (or shutdown() does), ignoring what it sends.
    private static func waitForClose(
        _ inbound: inout NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator
    ) async throws {
        // Bounded by the connection: the stream ends when it closes.
        while try await inbound.next() != nil {}
    }
}
