import SSEParser
import Synchronization

/// The state an ``EventSource`` shares between the consumer, the connection loop and the I/O
/// thread: the buffer of updates, the waiting consumer, counters, and what is running. Small,
/// behind one lock, and never held while calling out.
final class EventSourceStorage: Sendable {
    fileprivate struct State {
        var buffer = UpdateBuffer()
        /// Events and comments in `buffer`: what flow control counts.
        var bufferedItems = 0
        var waiter: CheckedContinuation<Void, Never>?
        /// How the source ended, delivered once the buffer is drained.
        var terminal: EventSourceError?? = nil
        var isStarted = false
        var isClosed = false
        var loopTask: Task<Void, Never>?
        var connection: Connection?
        /// A transfer paused because the buffer was full, to resume once it drains.
        var pausedConnection: Connection?
        var waitingRestart = false
        var sleepTask: Task<Void, any Error>?
        var lastEventID: String
        var metrics = EventSource.Metrics()
    }

    private let state: Mutex<State>
    /// Mirrors `State.isClosed` for the consumer's fast path, which checks it before every update
    /// it hands out from its batch.
    private let closedFlag = Atomic<Bool>(false)
    private let maximumBuffered: Int
    private let stateContinuation: AsyncStream<ConnectionState>.Continuation

    init(lastEventID: String, maximumBuffered: Int, states: AsyncStream<ConnectionState>.Continuation) {
        self.state = Mutex(State(lastEventID: lastEventID))
        self.maximumBuffered = maximumBuffered
        self.stateContinuation = states
    }

    var lastEventID: String { state.withLock { $0.lastEventID } }
    var metrics: EventSource.Metrics { state.withLock { $0.metrics } }
    var isClosed: Bool { closedFlag.load(ordering: .acquiring) }

    func updateMetrics(_ body: (inout EventSource.Metrics) -> Void) {
        state.withLock { body(&$0.metrics) }
    }

    /// Runs `makeTask` once, the first time the source is iterated.
    func start(_ makeTask: () -> Task<Void, Never>) {
        state.withLock { state in
            guard !state.isStarted, !state.isClosed else { return }
            state.isStarted = true
            state.loopTask = makeTask()
        }
    }

    // MARK: Producer side (I/O thread and connection loop)

    /// Whether the consumer is too far behind: then `connection` is recorded as paused.
    func pauseIfFull(_ connection: Connection) -> Bool {
        state.withLock { state in
            guard state.bufferedItems >= maximumBuffered, !state.isClosed else { return false }
            state.pausedConnection = connection
            state.metrics.pauses += 1
            return true
        }
    }

    /// Appends what one chunk of the body produced.
    func deliver(_ items: [EventStreamItem], lastEventID: String, byteCount: Int) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard !state.isClosed else { return nil }
            state.metrics.bytes += byteCount
            if state.lastEventID != lastEventID { state.lastEventID = lastEventID }
            for item in items {
                switch item {
                case .event(let event):
                    state.metrics.events += 1
                    state.buffer.append(.event(event))
                    state.bufferedItems += 1
                case .comment(let text):
                    state.metrics.comments += 1
                    state.buffer.append(.comment(text))
                    state.bufferedItems += 1
                case .retry(let delay):
                    state.buffer.append(.retry(delay))
                }
            }
            return state.buffer.isEmpty ? nil : state.takeWaiter()
        }
        waiter?.resume()
    }

    /// Reports a state change to ``EventSource/states`` and ``EventSource/updates``.
    func emit(_ connectionState: ConnectionState) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard !state.isClosed else { return nil }
            state.buffer.append(.state(connectionState))
            return state.takeWaiter()
        }
        stateContinuation.yield(connectionState)
        waiter?.resume()
    }

    /// Ends the source with `error` (or normally); the consumer gets it after the buffer drains.
    func finish(_ error: EventSourceError?) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard state.terminal == nil else { return nil }
            state.terminal = .some(error)
            if let error { state.metrics.lastError = error }
            state.connection = nil
            state.loopTask = nil
            return state.takeWaiter()
        }
        stateContinuation.yield(.finished(error))
        stateContinuation.finish()
        waiter?.resume()
    }

    /// Records the connection now running, unless the source was closed meanwhile.
    func setConnection(_ connection: Connection?) -> Bool {
        state.withLock { state in
            if state.isClosed { return false }
            state.connection = connection
            return true
        }
    }

    /// Sleeps before a reconnect unless the source is closed or a restart is requested.
    func waitBeforeReconnect(_ delay: Duration, sleep: @escaping @Sendable (Duration) async throws -> Void) async {
        let task: Task<Void, any Error>? = state.withLock { state in
            if state.isClosed || state.waitingRestart {
                state.waitingRestart = false
                return nil
            }
            let task = Task { try await sleep(delay) }
            state.sleepTask = task
            return task
        }
        _ = try? await task?.value
        state.withLock { $0.sleepTask = nil }
    }

    // MARK: Control

    /// Marks the source closed; returns what must be stopped. The buffer is dropped.
    func close() -> (Connection?, Task<Void, Never>?) {
        let (connection, task, sleepTask, waiter):
            (Connection?, Task<Void, Never>?, Task<Void, any Error>?, CheckedContinuation<Void, Never>?) =
                state.withLock { state in
                    guard !state.isClosed else { return (nil, nil, nil, nil) }
                    state.isClosed = true
                    closedFlag.store(true, ordering: .releasing)
                    state.buffer.removeAll()
                    state.bufferedItems = 0
                    if state.terminal == nil { state.terminal = .some(nil) }
                    defer {
                        state.connection = nil
                        state.pausedConnection = nil
                        state.loopTask = nil
                    }
                    return (state.connection, state.loopTask, state.sleepTask, state.takeWaiter())
                }
        sleepTask?.cancel()
        if task != nil || connection != nil {
            stateContinuation.yield(.finished(nil))
        }
        stateContinuation.finish()
        waiter?.resume()
        return (connection, task)
    }

    /// Asks for a fresh connection: returns the one to abort, or cuts a reconnect wait short.
    func requestRestart() -> Connection? {
        let (connection, sleepTask): (Connection?, Task<Void, any Error>?) = state.withLock { state in
            guard !state.isClosed else { return (nil, nil) }
            if state.connection == nil { state.waitingRestart = true }
            return (state.connection, state.sleepTask)
        }
        sleepTask?.cancel()
        return connection
    }

    // MARK: Consumer side

    /// Moves buffered updates into `batch`, waiting for some if there are none. Returns `false`
    /// when the source has ended; throws the error that ended it.
    func take(into batch: inout [EventSourceUpdate], eventsOnly: Bool) async throws -> Bool {
        while true {
            enum Step {
                case taken(resume: Connection?)
                case ended(EventSourceError?)
                case wait
            }
            let step: Step = state.withLock { state in
                if !state.buffer.isEmpty {
                    let taken = state.buffer.drain(into: &batch, limit: 256, skippingNonEvents: eventsOnly)
                    state.bufferedItems -= taken
                    var resume: Connection?
                    if state.pausedConnection != nil && state.bufferedItems <= maximumBuffered / 2 {
                        resume = state.pausedConnection
                        state.pausedConnection = nil
                    }
                    return .taken(resume: resume)
                }
                if let terminal = state.terminal {
                    return .ended(terminal)
                }
                return .wait
            }
            switch step {
            case .taken(let resume):
                resume?.resume()
                if !batch.isEmpty { return true }
            case .ended(let error):
                if let error { throw error }
                return false
            case .wait:
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let resumeNow = state.withLock { state in
                            if !state.buffer.isEmpty || state.terminal != nil || state.isClosed || Task.isCancelled {
                                return true
                            }
                            state.waiter = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    // Cancelling the consuming task closes the source, which wakes the waiter.
                    _ = self.closeFromCancellation()
                }
            }
        }
    }

    private func closeFromCancellation() -> Bool {
        let (connection, task) = close()
        connection?.abort(because: .closed)
        task?.cancel()
        return true
    }
}

extension EventSourceStorage.State {
    fileprivate mutating func takeWaiter() -> CheckedContinuation<Void, Never>? {
        defer { waiter = nil }
        return waiter
    }
}

/// A first-in first-out buffer of updates that does not shift elements on removal.
struct UpdateBuffer {
    private var storage: [EventSourceUpdate] = []
    private var head = 0

    var isEmpty: Bool { head == storage.count }

    mutating func append(_ update: EventSourceUpdate) {
        storage.append(update)
    }

    mutating func removeAll() {
        storage.removeAll()
        head = 0
    }

    /// Moves up to `limit` updates into `batch`; returns how many events and comments were taken.
    mutating func drain(into batch: inout [EventSourceUpdate], limit: Int, skippingNonEvents: Bool) -> Int {
        var counted = 0
        var moved = 0
        while head < storage.count && moved < limit {
            let update = storage[head]
            head += 1
            moved += 1
            switch update {
            case .event:
                counted += 1
                batch.append(update)
            case .comment:
                counted += 1
                if !skippingNonEvents { batch.append(update) }
            case .retry, .state:
                if !skippingNonEvents { batch.append(update) }
            }
        }
        if head == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= 4096)
            head = 0
        } else if head > 1024 && head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return counted
    }
}
