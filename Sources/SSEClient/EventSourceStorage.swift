import SSEParser
import Synchronization

/// The state an ``EventSource`` shares between the consumer, the connection loop and the I/O
/// thread.
///
/// The I/O thread only copies body bytes into a queue, so it can go back to reading at once;
/// whoever takes them from the queue parses them: the consumer, between the updates it hands
/// out, or the connection loop when a connection ends (it needs that connection's last event ID
/// and `retry:` before reconnecting). Receiving and parsing thus run on different threads, and
/// events are created on the thread that consumes and frees them.
///
/// Two locks: `state` (the queue, the waiting consumer, counters, what is running) is small and
/// never held while parsing or calling out; `stage` (the parser) is held while parsing, and
/// always taken before `state`, never the other way round.
final class EventSourceStorage: Sendable {
    /// What the I/O thread and the connection loop queue for the consumer, in order.
    fileprivate enum Entry {
        /// Body bytes, not yet parsed.
        case bytes([UInt8])
        /// An update that needs no parsing (a connection state).
        case update(EventSourceUpdate)
    }

    fileprivate struct State {
        var queue = FIFO<Entry>()
        /// Bytes in `queue`: what flow control counts.
        var queuedBytes = 0
        /// Emptied byte buffers, kept for the next chunks so that a fast stream neither allocates
        /// nor faults in fresh pages per chunk. A slow stream keeps one small buffer.
        var spareBuffers: [[UInt8]] = []
        var waiter: CheckedContinuation<Void, Never>?
        /// How the source ended, delivered once everything before it is consumed.
        var terminal: EventSourceError?? = nil
        var isStarted = false
        var isClosed = false
        var loopTask: Task<Void, Never>?
        var connection: Connection?
        /// A transfer paused because the queue was full, to resume once it drains.
        var pausedConnection: Connection?
        var waitingRestart = false
        /// The connection loop parsed updates into the stage that the consumer has not taken.
        var hasParsedBacklog = false
        var sleepTask: Task<Void, any Error>?
        var lastEventID: String
        var metrics = EventSource.Metrics()
    }

    /// The parsing side, owned by whoever holds its lock.
    fileprivate struct Stage {
        var parser: EventStreamParser
        /// Updates the connection loop parsed for the consumer, handed out before the queue.
        var parsed = FIFO<EventSourceUpdate>()
        /// The current connection sent an event too large: its remaining bytes are skipped.
        var failure: EventSourceError?
        /// The latest `retry:` of the current connection.
        var serverRetry: Duration?
        /// Whether the current connection has delivered an event.
        var deliveredEvent = false
    }

    /// What the connection loop learns from a connection's bytes once it has ended.
    struct ConnectionSummary {
        var lastEventID: String
        var serverRetry: Duration?
        var deliveredEvent: Bool
        /// An event was larger than the maximum event size.
        var failure: EventSourceError?
    }

    private let state: Mutex<State>
    private let stage: Mutex<Stage>
    /// Mirrors `State.isClosed` for the consumer's fast path, which checks it before every update
    /// it hands out from its batch.
    private let closedFlag = Atomic<Bool>(false)
    private let maximumQueuedBytes: Int
    private let url: String
    private let stateContinuation: AsyncStream<ConnectionState>.Continuation

    /// Bytes parsed per turn of the consumer: bounds its batch and the time the parser is held.
    private static let parseBudget = 64 * 1024
    /// Chunks smaller than this are appended to the previous one, so a stream of small writes
    /// costs the consumer one turn per batch of them rather than per chunk.
    private static let chunkCapacity = 64 * 1024
    /// At most this many emptied buffers are kept per source.
    private static let maximumSpareBuffers = 8

    init(
        url: String,
        lastEventID: String,
        maximumEventSize: Int,
        maximumQueuedBytes: Int,
        states: AsyncStream<ConnectionState>.Continuation
    ) {
        self.url = url
        self.state = Mutex(State(lastEventID: lastEventID))
        self.stage = Mutex(
            Stage(
                parser: EventStreamParser(
                    configuration: .init(maximumEventSize: maximumEventSize),
                    lastEventID: lastEventID
                )
            )
        )
        self.maximumQueuedBytes = maximumQueuedBytes
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

    /// Queues body bytes of `connection` (I/O thread). Returns `false`, and records the
    /// connection as paused, when the consumer is too far behind: the bytes were not taken.
    func receive(_ bytes: UnsafeRawBufferPointer, from connection: Connection) -> Bool {
        let waiter: CheckedContinuation<Void, Never>?? = state.withLock { state in
            if state.isClosed { return .some(nil) }
            if state.queuedBytes >= maximumQueuedBytes {
                state.pausedConnection = connection
                state.metrics.pauses += 1
                return nil
            }
            state.metrics.bytes += bytes.count
            state.queuedBytes += bytes.count
            var buffer: [UInt8]
            switch state.queue.popLast() {
            case .bytes(let last)? where last.count + bytes.count <= Self.chunkCapacity:
                // Consumed, so the append below extends the buffer in place.
                buffer = consume last
            case let last:
                if let last { state.queue.append(last) }
                buffer = state.spareBuffers.popLast() ?? []
                buffer.reserveCapacity(min(Self.chunkCapacity, max(bytes.count, 4096)))
            }
            buffer.append(contentsOf: bytes)
            state.queue.append(.bytes(buffer))
            return .some(state.takeWaiter())
        }
        guard let waiter else { return false }
        waiter?.resume()
        return true
    }

    /// Reports a state change to ``EventSource/states`` and ``EventSource/updates``.
    func emit(_ connectionState: ConnectionState) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard !state.isClosed else { return nil }
            state.queue.append(.update(.state(connectionState)))
            return state.takeWaiter()
        }
        stateContinuation.yield(connectionState)
        waiter?.resume()
    }

    /// Parses what is left of the connection that just ended (connection loop), so that its
    /// last event ID and `retry:` are known before the next one, and resets the parser for the
    /// next connection.
    func settleConnection() -> ConnectionSummary {
        stage.withLock { stage in
            var (entries, _) = takeEntries(budget: .max)
            var parsedCounts = (events: 0, comments: 0)
            var backlog: [EventSourceUpdate] = []
            for entry in entries {
                switch entry {
                case .bytes(let bytes):
                    parse(bytes, stage: &stage, counts: &parsedCounts) { backlog.append($0) }
                case .update(let update):
                    backlog.append(update)
                }
            }
            for update in backlog { stage.parsed.append(update) }
            let summary = ConnectionSummary(
                lastEventID: stage.parser.lastEventID,
                serverRetry: stage.serverRetry,
                deliveredEvent: stage.deliveredEvent,
                failure: stage.failure
            )
            // An `id` in a block the connection cut off never takes effect; the parser keeps
            // the last one that did.
            stage.parser.finish()
            stage.failure = nil
            stage.serverRetry = nil
            stage.deliveredEvent = false
            recordParsed(parsedCounts, lastEventID: summary.lastEventID, buffers: &entries)
            if !stage.parsed.isEmpty {
                // The consumer may have found the queue empty just before: tell it about these.
                state.withLock { state in
                    state.hasParsedBacklog = true
                    return state.takeWaiter()
                }?.resume()
            }
            return summary
        }
    }

    /// Ends the source with `error` (or normally); the consumer gets it after the queue drains.
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

    /// Marks the source closed; returns what must be stopped. Everything queued is dropped.
    func close() -> (Connection?, Task<Void, Never>?) {
        let (connection, task, sleepTask, waiter):
            (Connection?, Task<Void, Never>?, Task<Void, any Error>?, CheckedContinuation<Void, Never>?) =
                state.withLock { state in
                    guard !state.isClosed else { return (nil, nil, nil, nil) }
                    state.isClosed = true
                    closedFlag.store(true, ordering: .releasing)
                    state.queue.removeAll()
                    state.queuedBytes = 0
                    state.spareBuffers = []
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

    /// Moves the next updates into `batch`, parsing queued bytes and waiting for some if there
    /// are none. Returns `false` when the source has ended; throws the error that ended it.
    func take(
        into batch: inout [EventSourceUpdate],
        eventsOnly: Bool,
        isolation: isolated (any Actor)? = #isolation
    ) async throws -> Bool {
        while true {
            enum Step {
                case taken
                case ended(EventSourceError?)
                case wait
            }
            let step: Step = stage.withLock { stage in
                if isClosed { return .ended(nil) }
                if !stage.parsed.isEmpty {
                    stage.parsed.drain(limit: 4096) { update in
                        if !eventsOnly || update.isEvent { batch.append(update) }
                    }
                    if stage.parsed.isEmpty { state.withLock { $0.hasParsedBacklog = false } }
                    return .taken
                }
                var (entries, terminal) = takeEntries(budget: Self.parseBudget)
                if entries.isEmpty {
                    if let terminal { return .ended(terminal) }
                    return .wait
                }
                var parsedCounts = (events: 0, comments: 0)
                for entry in entries {
                    switch entry {
                    case .bytes(let bytes):
                        parse(bytes, stage: &stage, counts: &parsedCounts) { update in
                            if !eventsOnly || update.isEvent { batch.append(update) }
                        }
                    case .update(let update):
                        if !eventsOnly { batch.append(update) }
                    }
                }
                recordParsed(parsedCounts, lastEventID: stage.parser.lastEventID, buffers: &entries)
                return .taken
            }
            switch step {
            case .taken:
                if !batch.isEmpty { return true }
            case .ended(let error):
                if let error { throw error }
                return false
            case .wait:
                await withTaskCancellationHandler {
                    await withCheckedContinuation(isolation: isolation) { continuation in
                        let resumeNow = state.withLock { state in
                            if !state.queue.isEmpty || state.hasParsedBacklog || state.terminal != nil || state.isClosed
                                || Task.isCancelled
                            {
                                return true
                            }
                            state.waiter = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    // Cancelling the consuming task closes the source, which wakes the waiter.
                    self.closeFromCancellation()
                }
            }
        }
    }

    // MARK: Parsing (with the stage lock held)

    /// Takes queued entries holding up to `budget` bytes (at least one entry), resuming a
    /// paused transfer once the queue has drained to half its limit. Also returns how the
    /// source ended, when it did and nothing is left.
    private func takeEntries(budget: Int) -> (entries: [Entry], terminal: EventSourceError??) {
        let (entries, terminal, resume): ([Entry], EventSourceError??, Connection?) = state.withLock { state in
            var entries: [Entry] = []
            var bytes = 0
            while bytes < budget, let entry = state.queue.popFirst() {
                if case .bytes(let chunk) = entry { bytes += chunk.count }
                entries.append(entry)
            }
            state.queuedBytes -= bytes
            var resume: Connection?
            if state.pausedConnection != nil && state.queuedBytes <= maximumQueuedBytes / 2 {
                resume = state.pausedConnection
                state.pausedConnection = nil
            }
            return (entries, state.queue.isEmpty ? state.terminal : nil, resume)
        }
        resume?.resume()
        return (entries, terminal)
    }

    /// Parses one chunk into `onUpdate`. After an event too large, aborts the connection and
    /// skips its remaining bytes.
    private func parse(
        _ bytes: [UInt8],
        stage: inout Stage,
        counts: inout (events: Int, comments: Int),
        onUpdate: (EventSourceUpdate) -> Void
    ) {
        guard stage.failure == nil else { return }
        do {
            try bytes.withUnsafeBytes { buffer in
                try stage.parser.parse(buffer) { item in
                    switch item {
                    case .event(let event):
                        counts.events += 1
                        stage.deliveredEvent = true
                        onUpdate(.event(event))
                    case .comment(let text):
                        counts.comments += 1
                        onUpdate(.comment(text))
                    case .retry(let delay):
                        stage.serverRetry = delay
                        onUpdate(.retry(delay))
                    }
                }
            }
        } catch {
            let failure = EventSourceError(.eventTooLarge(limit: stage.parser.configuration.maximumEventSize), url: url)
            stage.failure = failure
            state.withLock { $0.connection }?.fail(failure)
        }
    }

    /// Counts what was parsed, records the last event ID, and keeps emptied buffers for reuse.
    private func recordParsed(
        _ counts: (events: Int, comments: Int), lastEventID: String, buffers entries: inout [Entry]
    ) {
        var spares: [[UInt8]] = []
        for index in entries.indices {
            guard case .bytes(var bytes) = entries[index], bytes.capacity <= Self.chunkCapacity * 2 else { continue }
            // Dropped from `entries` first, so the buffer is unique and keeps its storage.
            entries[index] = .update(.retry(.zero))
            bytes.removeAll(keepingCapacity: true)
            spares.append(bytes)
        }
        state.withLock { state in
            state.metrics.events += counts.events
            state.metrics.comments += counts.comments
            if state.lastEventID != lastEventID { state.lastEventID = lastEventID }
            guard !state.isClosed else { return }
            while state.spareBuffers.count < Self.maximumSpareBuffers, let spare = spares.popLast() {
                state.spareBuffers.append(spare)
            }
        }
    }

    private func closeFromCancellation() {
        let (connection, task) = close()
        connection?.abort(because: .closed)
        task?.cancel()
    }
}

extension EventSourceStorage.State {
    fileprivate mutating func takeWaiter() -> CheckedContinuation<Void, Never>? {
        defer { waiter = nil }
        return waiter
    }
}

extension Optional {
    /// Returns the value and leaves `nil` behind.
    mutating func take() -> Wrapped? {
        defer { self = nil }
        return self
    }
}

extension EventSourceUpdate {
    fileprivate var isEvent: Bool {
        if case .event = self { return true }
        return false
    }
}

/// A first-in first-out queue that does not shift elements on removal.
struct FIFO<Element> {
    private var storage: [Element?] = []
    private var head = 0

    var isEmpty: Bool { head == storage.count }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    /// Removes and returns the last element (moved out, so a buffer stays uniquely referenced).
    mutating func popLast() -> Element? {
        guard head < storage.count else { return nil }
        return storage.removeLast()
    }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        // Moved out, so a buffer handed on is uniquely referenced.
        let element = storage[head].take()
        head += 1
        compactIfNeeded()
        return element
    }

    /// Hands up to `limit` elements to `body`, in order.
    mutating func drain(limit: Int, _ body: (Element) -> Void) {
        var moved = 0
        while head < storage.count && moved < limit {
            body(storage[head].take()!)
            head += 1
            moved += 1
        }
        compactIfNeeded()
    }

    mutating func removeAll() {
        storage.removeAll()
        head = 0
    }

    private mutating func compactIfNeeded() {
        if head == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= 4096)
            head = 0
        } else if head > 1024 && head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}
