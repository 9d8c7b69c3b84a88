import NIOCore
import Synchronization

/// What the server shares between its event loop and the tests: recorded requests, counters, routes,
/// open connections, and the tasks waiting for any of them. Small critical sections behind one `Mutex`.
final class ServerState: Sendable {
    /// Something a test can wait for.
    enum Condition: Sendable {
        case requests(Int)
        case connections(Int)
        case subscribers(Int)
        case closed(connection: Int)
        case injectedFaults(Int)

        func isMet(by state: State) -> Bool {
            switch self {
            case .requests(let count): state.requestCount >= count
            case .connections(let count): state.connectionCount >= count
            case .subscribers(let count): state.subscriberCount >= count
            case .closed(let connection): state.closedConnections[connection] != nil
            case .injectedFaults(let count): state.injectedFaultSequence.count >= count
            }
        }
    }

    struct State: Sendable {
        var requests: [RecordedRequest] = []
        /// Requests read so far, kept or not (see ``TestServer/Configuration/keepsRequests``).
        var requestCount = 0
        var connectionCount = 0
        var subscriberCount = 0
        /// The open connections, by number, for shutdown to close.
        var openChannels: [Int: any Channel] = [:]
        /// When each closed connection (by number) closed.
        var closedConnections: [Int: ContinuousClock.Instant] = [:]
        var acceptedConnections: [Int: ContinuousClock.Instant] = [:]
        var chaosRandom: SeededRandom?
        var injectedFaults: [Chaos.Fault: Int] = [:]
        /// Every fault drawn, in the order drawn (one per `/subscribe` request read).
        var injectedFaultSequence: [Chaos.Fault] = []
        var routes: [String: Scenario] = [:]
        var attempts: [String: Int] = [:]
        var numberedHeads: [String: Int] = [:]
        /// When the first request under each key of a live numbered stream arrived: its timeline's zero.
        var liveEpochs: [String: NIODeadline] = [:]
        /// The last Responses stream served under each response ID, for `GET /v1/responses/{id}`.
        var responseStreams: [String: Scenario] = [:]
        var waiters: [Int: (Condition, CheckedContinuation<Void, any Error>)] = [:]
        var nextWaiterID = 0
        var isShutDown = false

        /// Removes and returns the waiters whose condition now holds.
        mutating func takeSatisfiedWaiters() -> [CheckedContinuation<Void, any Error>] {
            let satisfied = waiters.filter { $0.value.0.isMet(by: self) }
            for id in satisfied.keys { waiters[id] = nil }
            return satisfied.values.map(\.1)
        }
    }

    let state = Mutex(State())

    /// Applies `change`, then resumes the waiters it satisfied (outside the lock).
    @discardableResult
    func update<Result: Sendable>(_ change: (inout State) -> Result) -> Result {
        let (result, satisfied) = state.withLock { state in
            let result = change(&state)
            return (result, state.takeSatisfiedWaiters())
        }
        for continuation in satisfied { continuation.resume() }
        return result
    }

    func read<Result: Sendable>(_ body: (State) -> Result) -> Result {
        state.withLock { body($0) }
    }

    /// Returns once `condition` holds, throws ``TestServerError`` `timedOut` after `timeout`.
    func wait(for condition: Condition, description: String, timeout: Duration) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.wait(for: condition) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TestServerError.timedOut(description, after: timeout)
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func wait(for condition: Condition) async throws {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if condition.isMet(by: state) { return .success(()) }
                    if state.isShutDown { return .failure(TestServerError.shutDown) }
                    state.waiters[id] = (condition, continuation)
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let continuation = state.withLock { $0.waiters.removeValue(forKey: id)?.1 }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Fails every waiter (later waits fail at once) and returns the open connections to close;
    /// `nil` when the server was already shut down.
    func shutDown() -> [any Channel]? {
        let taken: ([CheckedContinuation<Void, any Error>], [any Channel])? = state.withLock { state in
            guard !state.isShutDown else { return nil }
            state.isShutDown = true
            defer { state.waiters = [:] }
            return (state.waiters.values.map(\.1), Array(state.openChannels.values))
        }
        guard let (waiters, channels) = taken else { return nil }
        for waiter in waiters { waiter.resume(throwing: TestServerError.shutDown) }
        return channels
    }
}
