import NIOCore
import NIOPosix
import Synchronization

/// The test service of the public SSE contract-test suite (launchdarkly/sse-contract-tests): an
/// HTTP/JSON server through which the suite's harness creates `EventSource` streams,
/// sends them commands, and receives what they read as callbacks.
///
/// ```swift
/// let service = try await ContractService.start(port: 8000, log: { print($0) })
/// await service.waitUntilStopped()   // until DELETE / or shutdown()
/// ```
///
/// Endpoints (see the module documentation, `SSEContractService.docc`, for the bodies):
/// - `GET /`: 200 with `{"name": …, "capabilities": […]}` (``capabilities``);
/// - `DELETE /`: 204, then the service stops;
/// - `POST /`: creates a stream, 201 with `Location: /streams/N`; 400 for invalid parameters;
/// - `POST /streams/N`: the `restart` and `listen` commands; 400 for others, 404 for an unknown stream;
/// - `DELETE /streams/N`: closes the stream, then 204; 404 for an unknown stream.
public final class ContractService: Sendable {
    /// The project name reported by `GET /`.
    public static let name = "swift-sse"

    /// The optional features of the suite this service supports, reported by `GET /`.
    ///
    /// - `comments`: comment lines are reported, without the colon, as soon as the line ends.
    /// - `headers`, `post`, `report`, `last-event-id`: the request is configurable; a body is
    ///   resent on every reconnect.
    /// - `read-timeout`: `readTimeoutMs` is the client's idle timeout.
    /// - `restart`: the `restart` command reconnects at once without reporting an error.
    /// - `bom`: one leading byte order mark is stripped, also when split across reads.
    /// - `event-type-listeners`: like a browser's `EventSource`, only `message` events are
    ///   reported until `listen` adds a type.
    /// - `server-directed-shutdown-request`: `DELETE /` stops the service; a stream answered
    ///   with 204 No Content stops for good instead of reconnecting.
    /// - `204`: the same 204 rule, under the name the suite's test of it requires.
    /// - `empty-or-missing-location`: a redirect without a usable `Location` ends in an error callback.
    /// - `payload-size-stress-testable`: events of up to 16 MiB are delivered whole.
    public static let capabilities = [
        "comments",
        "headers",
        "last-event-id",
        "post",
        "report",
        "read-timeout",
        "restart",
        "bom",
        "event-type-listeners",
        "server-directed-shutdown-request",
        "204",
        "empty-or-missing-location",
        "payload-size-stress-testable",
    ]

    private enum Phase {
        case running
        case stopping
        case stopped
    }

    private struct State {
        var phase = Phase.running
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// The address the service listens on.
    public let host: String

    /// The port the service listens on; the real one when it was started with port 0.
    public let port: Int

    private let group: MultiThreadedEventLoopGroup
    private let server: HTTPServer
    private let registry: StreamRegistry
    private let stopContinuation: AsyncStream<Void>.Continuation
    private let log: @Sendable (String) -> Void
    private let state = Mutex(State())

    private init(
        host: String,
        port: Int,
        group: MultiThreadedEventLoopGroup,
        server: HTTPServer,
        registry: StreamRegistry,
        stopContinuation: AsyncStream<Void>.Continuation,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.host = host
        self.port = port
        self.group = group
        self.server = server
        self.registry = registry
        self.stopContinuation = stopContinuation
        self.log = log
    }

    /// Starts the service.
    ///
    /// - Parameters:
    ///   - host: The address to listen on; `127.0.0.1` by default.
    ///   - port: The port; 8000 by default, 0 picks a free one (see ``port``).
    ///   - log: Receives one line per request handled, stream created or ended, and callback that
    ///     failed; nothing is logged by default.
    /// - Returns: The running service. Call ``shutdown()`` or send `DELETE /` to stop it.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 8000,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> ContractService {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let registry = StreamRegistry()
        let client = HTTPClient(group: group)
        let (stopRequests, stopContinuation) = AsyncStream<Void>.makeStream()
        let router = ContractRouter(
            registry: registry,
            client: client,
            log: log,
            requestStop: { stopContinuation.yield() }
        )
        let server: HTTPServer
        do {
            server = try await HTTPServer.start(host: host, port: port, group: group) { request in
                let response = await router.handle(request)
                log("\(request.method) \(request.target) -> \(response.status)")
                return response
            }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let service = ContractService(
            host: host,
            port: server.port,
            group: group,
            server: server,
            registry: registry,
            stopContinuation: stopContinuation,
            log: log
        )
        // Stopping is started from a task of its own: the request that asked for it runs inside the
        // server, which stopping waits for.
        Task {
            for await _ in stopRequests {
                await service.shutdown()
                break
            }
        }
        return service
    }

    /// The URL of the service, such as `http://127.0.0.1:8000`.
    public var baseURL: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "http://\(hostPart):\(port)"
    }

    /// Closes every stream, stops listening, and releases the service's thread. Returns once all
    /// of that is done; calling it again (or while `DELETE /` is stopping the service) waits for
    /// the same.
    public func shutdown() async {
        let first = state.withLock { state in
            guard state.phase == .running else { return false }
            state.phase = .stopping
            return true
        }
        guard first else {
            await waitUntilStopped()
            return
        }
        for stream in registry.removeAll() {
            await stream.close()
        }
        await server.shutdown()
        try? await group.shutdownGracefully()
        stopContinuation.finish()
        log("stopped")
        let waiters = state.withLock { state in
            state.phase = .stopped
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The stream numbered `id`, if the harness created it and has not deleted it.
    func stream(_ id: Int) -> StreamInstance? {
        registry.stream(id)
    }

    /// Returns once the service has stopped, after `DELETE /` or ``shutdown()``.
    public func waitUntilStopped() async {
        await withCheckedContinuation { continuation in
            let stopped = state.withLock { state in
                guard state.phase != .stopped else { return true }
                state.waiters.append(continuation)
                return false
            }
            if stopped { continuation.resume() }
        }
    }
}
