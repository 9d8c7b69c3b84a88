import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SSEParser

/// A Server-Sent Events server that misbehaves on purpose, for integration tests and demos.
///
/// Each server runs on its own event loop thread and port; ``shutdown()`` closes every connection and
/// stops the thread, so tests that each start one share nothing.
///
/// ```swift
/// let server = try await TestServer.start()
/// defer { Task { try await server.shutdown() } }   // or use TestServer.withRunning
/// let url = server.url(for: .numbered(count: 5).droppingAfter(events: 2, with: .reset))
/// // … point a client at url …
/// let requests = try await server.waitForRequests(count: 3)
/// #expect(requests[1].header("Last-Event-ID") == "2")
/// ```
///
/// Endpoints (every response has `Connection: close`; each connection carries one request):
/// - `GET /subscribe`, `POST /publish`: the broadcast hub (see ``publish(_:type:)``).
/// - `GET /`: a short text describing the endpoints.
/// - any other path: the ``Scenario`` its query describes, or the one ``route(_:_:)`` registered;
///   `/echo` implies ``Scenario/Content/echo``. A bad query gets `400 Bad Request` saying why.
public final class TestServer: Sendable {
    /// The address the server listens on, such as `127.0.0.1`; `localhost` on a Unix socket.
    public let host: String

    /// The Unix domain socket the server listens on instead of TCP, if it does.
    public let unixSocketPath: String?

    /// The port the server listens on; the real one when it was started with port 0.
    public let port: Int

    /// The server-wide settings.
    public let configuration: Configuration

    private let group: MultiThreadedEventLoopGroup
    private let listener: any Channel
    /// Accepts connections and serves each in a child task, one `NIOAsyncChannel` per connection.
    private let acceptTask: Task<Void, Never>
    private let context: ServerContext
    /// Publishes to the hub every ``Configuration/publishInterval``, when that is set.
    private let publisher: RepeatedTask?

    private init(
        host: String,
        unixSocketPath: String?,
        port: Int,
        configuration: Configuration,
        group: MultiThreadedEventLoopGroup,
        listener: any Channel,
        acceptTask: Task<Void, Never>,
        context: ServerContext,
        publisher: RepeatedTask?
    ) {
        self.host = host
        self.unixSocketPath = unixSocketPath
        self.port = port
        self.configuration = configuration
        self.group = group
        self.listener = listener
        self.acceptTask = acceptTask
        self.context = context
        self.publisher = publisher
    }

    /// Starts a server listening on `host` and `port`.
    ///
    /// - Parameters:
    ///   - host: The address to bind; `127.0.0.1` by default.
    ///   - port: The port to bind; 0 (the default) picks a free one, see ``port``.
    ///   - configuration: The server-wide settings; the defaults of ``Configuration`` by default.
    ///   - onRequest: Called on the server's thread with each request once it has been read; for logs.
    /// - Returns: The running server. Call ``shutdown()`` when done.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        configuration: Configuration = Configuration(),
        onRequest: (@Sendable (RecordedRequest) -> Void)? = nil
    ) async throws -> TestServer {
        try await start(.tcp(host: host, port: port), configuration: configuration, onRequest: onRequest)
    }

    /// Starts a server listening on the Unix domain socket at `path` (a file left there by an
    /// earlier run is replaced); its URLs are `http://localhost/…`, for a client that connects
    /// through the socket.
    ///
    /// - Parameters:
    ///   - path: Where to create the socket.
    ///   - configuration: The server-wide settings; the defaults of ``Configuration`` by default.
    ///   - onRequest: Called with each request as it is read, on the server's event loop.
    public static func start(
        unixSocketPath path: String,
        configuration: Configuration = Configuration(),
        onRequest: (@Sendable (RecordedRequest) -> Void)? = nil
    ) async throws -> TestServer {
        try await start(.unixSocket(path), configuration: configuration, onRequest: onRequest)
    }

    /// Where a server listens.
    private enum Binding {
        case tcp(host: String, port: Int)
        case unixSocket(String)
    }

    private static func start(
        _ binding: Binding,
        configuration: Configuration,
        onRequest: (@Sendable (RecordedRequest) -> Void)?
    ) async throws -> TestServer {
        let tlsContext = try configuration.tls.map(Self.makeTLSContext)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let eventLoop = group.next()
        do {
            // The hub is only touched on the event loop, so it is made there.
            let hub = try await eventLoop.submit {
                NIOLoopBound(
                    BroadcastHub(capacity: configuration.historyCapacity, history: configuration.initialHubHistory),
                    eventLoop: eventLoop
                )
            }.get()
            let executor = EventLoopTaskExecutor(eventLoop)
            let context = ServerContext(
                configuration: configuration,
                state: ServerState(),
                hub: hub,
                executor: executor,
                onRequest: onRequest
            )
            @Sendable func accept(_ channel: any Channel) -> EventLoopFuture<AcceptedConnection> {
                channel.eventLoop.makeCompletedFuture {
                    // One thread: every connection shares the hub's event loop.
                    precondition(channel.eventLoop === eventLoop)
                    let number = context.accept(channel)
                    // Handed over at once: its protocol is known only once its first bytes arrive.
                    let negotiated = channel.eventLoop.makePromise(of: NegotiatedProtocol.self)
                    do {
                        if let tlsContext {
                            // ALPN offers h2; the sniffer then tells the protocol from the bytes.
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext))
                        }
                        try channel.pipeline.syncOperations.addHandler(
                            ProtocolSniffer(connection: number, negotiated: negotiated)
                        )
                    } catch {
                        // A channel closed before its handlers were in: its promise must not leak.
                        negotiated.fail(error)
                        throw error
                    }
                    return AcceptedConnection(number: number, negotiated: negotiated.futureResult)
                }
            }
            let listener: NIOAsyncChannel<AcceptedConnection, Never>
            switch binding {
            case .tcp(let host, let port):
                listener = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    // Room for a load test's connections arriving at once (NIO's default is 256;
                    // a full queue drops SYNs, and clients retry them only after a second).
                    .serverChannelOption(.backlog, value: 4096)
                    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                    .bind(host: host, port: port, childChannelInitializer: accept)
            case .unixSocket(let path):
                listener = try await ServerBootstrap(group: group)
                    .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: accept)
            }
            let acceptTask = Task<Void, Never>(executorPreference: executor) {
                // Closing the listener ends the accept loop; the discarding group then waits for
                // every connection, which shutdown() closes and cancels.
                try? await listener.executeThenClose { connections in
                    try await withThrowingDiscardingTaskGroup { group in
                        for try await connection in connections {
                            group.addTask(executorPreference: executor) { await context.serve(connection) }
                        }
                    }
                }
            }
            var publisher: RepeatedTask?
            if let interval = configuration.publishInterval, interval > .zero {
                publisher = eventLoop.scheduleRepeatedTask(
                    initialDelay: TimeAmount(interval), delay: TimeAmount(interval)
                ) { _ in
                    // The task runs on the hub's event loop.
                    let broadcast = hub.value
                    _ = broadcast.publish(data: String(broadcast.newestID + 1), type: nil)
                }
            }
            let (host, path): (String, String?)
            switch binding {
            case .tcp(let tcpHost, _): (host, path) = (tcpHost, nil)
            case .unixSocket(let socketPath): (host, path) = ("localhost", socketPath)
            }
            return TestServer(
                host: host,
                unixSocketPath: path,
                port: listener.channel.localAddress?.port ?? 0,
                configuration: configuration,
                group: group,
                listener: listener.channel,
                acceptTask: acceptTask,
                context: context,
                publisher: publisher
            )
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private static func makeTLSContext(_ tls: TLS) throws -> NIOSSLContext {
        do {
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificateChainFile).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.privateKeyFile, format: .pem))
            )
            configuration.applicationProtocols = tls.applicationProtocols
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TestServerError.invalidTLS("\(tls.certificateChainFile), \(tls.privateKeyFile): \(error)")
        }
    }

    /// Starts a server on the Unix domain socket at `path`, runs `body` with it, and shuts it
    /// down afterwards, also when `body` throws; the socket file is removed.
    public static func withRunning<Result: Sendable>(
        unixSocketPath path: String,
        configuration: Configuration = Configuration(),
        _ body: (TestServer) async throws -> Result
    ) async throws -> Result {
        let server = try await start(unixSocketPath: path, configuration: configuration)
        defer { unlink(path) }
        return try await server.run(body)
    }

    /// Starts a server, runs `body` with it, and shuts it down afterwards, also when `body` throws.
    ///
    /// - Parameters:
    ///   - host: The address to bind; `127.0.0.1` by default.
    ///   - port: The port to bind; 0 (the default) picks a free one.
    ///   - configuration: The server-wide settings; the defaults of ``Configuration`` by default.
    ///   - body: The work to do while the server runs.
    /// - Returns: What `body` returns.
    public static func withRunning<Result: Sendable>(
        host: String = "127.0.0.1",
        port: Int = 0,
        configuration: Configuration = Configuration(),
        _ body: (TestServer) async throws -> Result
    ) async throws -> Result {
        let server = try await start(host: host, port: port, configuration: configuration)
        return try await server.run(body)
    }

    /// Runs `body` with this server, then shuts it down, also when `body` throws.
    private func run<Result: Sendable>(_ body: (TestServer) async throws -> Result) async throws -> Result {
        do {
            let result = try await body(self)
            try await shutdown()
            return result
        } catch {
            try? await shutdown()
            throw error
        }
    }

    /// Closes every connection and the listening socket, and stops the server's thread.
    ///
    /// Waits for requests, connections or subscribers fail with ``TestServerError/Code/shutDown``.
    /// Calling it again does nothing.
    public func shutdown() async throws {
        guard let channels = context.state.shutDown() else { return }
        publisher?.cancel()
        try? await listener.close()
        // Closes go through the event loop, after any turn that has recorded a request and
        // written its head (see ServerContext.commit).
        for channel in channels {
            try? await channel.close()
        }
        // Connections accepted meanwhile, and any waiting on a timer, end by cancellation.
        acceptTask.cancel()
        await acceptTask.value
        try await group.shutdownGracefully()
    }

    // MARK: URLs and routes

    /// The URL of the server, such as `http://127.0.0.1:49152` (`https://…` with
    /// ``Configuration/tls``, `http://localhost` on a Unix socket), without a trailing slash.
    public var baseURL: String {
        let scheme = configuration.tls == nil ? "http" : "https"
        if unixSocketPath != nil { return "\(scheme)://localhost" }
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        return "\(scheme)://\(authority)"
    }

    /// The URL of `path` (which starts with `/`) on this server.
    public func url(path: String) -> String {
        baseURL + path
    }

    /// The URL that selects `scenario` through its query parameters.
    ///
    /// - Parameters:
    ///   - scenario: What the server should do; the endless numbered stream by default.
    ///   - path: The path; `/events` by default. Any path but the hub's and `/` serves scenarios.
    public func url(for scenario: Scenario = Scenario(), path: String = "/events") -> String {
        let query = scenario.query
        return url(path: query.isEmpty ? path : "\(path)?\(query)")
    }

    /// Makes `path` serve `scenario` whatever the query, and returns its URL.
    ///
    /// Useful for values a query carries badly, such as megabytes of raw bytes. Registering a path
    /// again replaces its scenario.
    public func route(_ path: String, _ scenario: Scenario) -> String {
        context.state.update { $0.routes[path] = scenario }
        return url(path: path)
    }

    // MARK: What the server saw

    /// Every request read so far, in order (none when ``Configuration/keepsRequests`` is off).
    public var requests: [RecordedRequest] {
        context.state.read(\.requests)
    }

    /// How many connections the server has accepted.
    public var connectionCount: Int {
        context.state.read(\.connectionCount)
    }

    /// The highest number of a numbered event the server has sent under the counter `key` (a
    /// scenario's ``Scenario/key``, or else its request target), over all its connections; `nil`
    /// before the first. An event counts once it is handed to its connection, which takes it only
    /// as fast as the client reads: a figure that stops growing shows a client holding a stream
    /// back.
    public func highestNumberedEventSent(key: String) -> Int? {
        context.state.read { $0.numberedHeads[key] }
    }

    /// How many clients are subscribed to the broadcast hub now.
    public var subscriberCount: Int {
        context.state.read(\.subscriberCount)
    }

    /// Returns the requests (see ``requests``) once at least `count` have been read.
    ///
    /// - Throws: ``TestServerError`` with code `timedOut` after `timeout` (10 seconds by default).
    public func waitForRequests(count: Int, timeout: Duration = .seconds(10)) async throws -> [RecordedRequest] {
        try await context.state.wait(for: .requests(count), description: "\(count) requests", timeout: timeout)
        return requests
    }

    /// Returns once at least `count` connections have been accepted.
    ///
    /// - Throws: ``TestServerError`` with code `timedOut` after `timeout` (10 seconds by default).
    public func waitForConnections(count: Int, timeout: Duration = .seconds(10)) async throws {
        try await context.state.wait(for: .connections(count), description: "\(count) connections", timeout: timeout)
    }

    /// When connection `number` (1-based, in accept order, as ``RecordedRequest/connection``) was
    /// accepted; `nil` before it was.
    public func acceptTime(ofConnection number: Int) -> ContinuousClock.Instant? {
        context.state.read { $0.acceptedConnections[number] }
    }

    /// When connection `number` (1-based, in accept order, as ``RecordedRequest/connection``) closed,
    /// by either side; `nil` while it is open or before it was accepted.
    public func closeTime(ofConnection number: Int) -> ContinuousClock.Instant? {
        context.state.read { $0.closedConnections[number] }
    }

    /// Returns when connection `number` closed, waiting for it if it is still open.
    ///
    /// The time is taken on the server's event loop as the connection goes, so it measures how
    /// promptly a client let go of a connection independently of how busy the test's tasks are.
    ///
    /// - Throws: ``TestServerError`` with code `timedOut` after `timeout` (10 seconds by default).
    public func waitForClose(ofConnection number: Int, timeout: Duration = .seconds(10)) async throws
        -> ContinuousClock.Instant
    {
        try await context.state.wait(
            for: .closed(connection: number),
            description: "connection \(number) to close",
            timeout: timeout
        )
        return closeTime(ofConnection: number)!
    }

    /// Returns once at least `count` clients are subscribed to the broadcast hub.
    ///
    /// A client is subscribed before its response head is sent, so once it has the head it receives
    /// every message published later.
    ///
    /// - Throws: ``TestServerError`` with code `timedOut` after `timeout` (10 seconds by default).
    public func waitForSubscribers(count: Int, timeout: Duration = .seconds(10)) async throws {
        try await context.state.wait(for: .subscribers(count), description: "\(count) subscribers", timeout: timeout)
    }

    // MARK: Broadcast hub

    /// The messages the broadcast hub holds for replay, oldest first: pass them as
    /// ``Configuration/initialHubHistory`` to restart the server without losing its stream.
    public func hubHistory() async throws -> [ServerSentEvent] {
        let hub = context.hub
        return try await hub.eventLoop.submit { hub.value.heldMessages }.get()
    }

    /// How many faults of each kind ``Configuration/chaos`` injected so far.
    public var injectedFaults: [Chaos.Fault: Int] {
        context.state.read(\.injectedFaults)
    }

    /// Returns the faults ``Configuration/chaos`` drew, in the order drawn, once at least `count`
    /// have been drawn.
    ///
    /// A fault is drawn as each `/subscribe` request is read, so a test that waits for draw `n`
    /// before sending request `n + 1` sees each connection's fault, whatever the machine's load.
    ///
    /// - Throws: ``TestServerError`` with code `timedOut` after `timeout` (10 seconds by default).
    public func waitForInjectedFaults(count: Int, timeout: Duration = .seconds(10)) async throws -> [Chaos.Fault] {
        try await context.state.wait(
            for: .injectedFaults(count), description: "\(count) injected faults", timeout: timeout)
        return context.state.read(\.injectedFaultSequence)
    }

    /// Sends a message to every subscriber of `/subscribe`, as `POST /publish` does.
    ///
    /// - Parameters:
    ///   - data: The event data.
    ///   - type: The event type; `nil` (the default) sends none.
    /// - Returns: The event as sent, with the next ID of the hub's sequence.
    @discardableResult
    public func publish(_ data: String, type: String? = nil) async throws -> ServerSentEvent {
        let hub = context.hub
        return try await hub.eventLoop.submit { hub.value.publish(data: data, type: type) }.get()
    }
}

/// What every connection of one server shares.
struct ServerContext: Sendable {
    let configuration: TestServer.Configuration
    let state: ServerState
    let hub: NIOLoopBound<BroadcastHub>
    /// Runs the connections' tasks on the server's event loop.
    let executor: EventLoopTaskExecutor
    let onRequest: (@Sendable (RecordedRequest) -> Void)?

    /// Counts a new connection, and records when it opens and closes (on its event loop, as it
    /// happens, so close times do not depend on how busy the tasks are); returns its number.
    /// A connection accepted as the server shuts down is closed at once.
    func accept(_ channel: any Channel) -> Int {
        let (number, isShutDown) = state.update { state in
            state.connectionCount += 1
            state.openChannels[state.connectionCount] = channel
            state.acceptedConnections[state.connectionCount] = ContinuousClock.now
            return (state.connectionCount, state.isShutDown)
        }
        if isShutDown { channel.close(promise: nil) }
        channel.closeFuture.whenComplete { [state] _ in
            let closedAt = ContinuousClock.now
            state.update { state in
                state.openChannels[number] = nil
                state.closedConnections[number] = closedAt
            }
        }
        return number
    }
}
