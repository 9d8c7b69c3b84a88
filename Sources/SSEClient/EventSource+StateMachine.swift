import SSEParser

extension EventSource {
    /// The whole life cycle of one source — its connection attempts, the bytes waiting for the
    /// consumer, the consumer's wait, the end — as a pure state machine.
    ///
    /// Each input (an iterator is made, a request is ready, bytes arrive, a transfer ends, the
    /// consumer takes bytes or settles a connection, ``EventSource/close()``, ``EventSource/reconnect()``,
    /// a reconnect delay passes) is a `mutating` method returning what to do; the caller
    /// (``EventSourceStorage``) holds the one lock around the machine and performs the actions
    /// after releasing it. Nothing here has a clock, a socket or a thread.
    ///
    /// Connection attempts follow one another:
    ///
    ///     idle ─▶ preparing ─▶ running ─▶ ended ─▶ waiting ─▶ preparing ─▶ …
    ///                                       └────▶ done (finished, failed or closed)
    ///
    /// - `preparing`: the request is being built (the request hook may run); no transfer exists.
    /// - `running`: a transfer exists; `isAdded` says whether the driver has been told to start it.
    ///   A stop (close, restart, a bad answer, an event too large) is recorded as `stop`, and an
    ///   abort is only ever asked for once the transfer was added, so an abort can never overtake
    ///   the start it cancels.
    /// - `ended`: the transfer is over and its end is queued behind its bytes; the consumer,
    ///   who owns the parser, settles it when it gets there, so the next request's
    ///   `Last-Event-ID` and `retry:` reflect every byte received before it.
    /// - `waiting`: sleeping before the next attempt.
    ///
    /// Generic over the transfer and the consumer's continuation so tests can drive it with plain values.
    struct StateMachine<Transfer: AnyObject, Waiter> {
        /// What is queued for the consumer, in order.
        enum Entry {
            /// Body bytes, not yet parsed.
            case bytes([UInt8])
            /// An update that needs no parsing (a connection state).
            case update(EventSourceUpdate)
            /// The connection whose bytes precede this ended, having been open for `openDuration`
            /// (`nil` if it never opened a stream).
            case ended(ConnectionEnding, openDuration: Duration?)
        }

        enum Connection {
            case idle
            case preparing(attempt: Int)
            case running(Running)
            case ended(attempt: Int)
            case waiting(attempt: Int)
            case done
        }

        struct Running {
            var transfer: Transfer
            var attempt: Int
            /// Whether the driver has been asked to start the transfer.
            var isAdded = false
            /// Why it is being stopped, once that is decided; it then ends that way.
            var stop: ConnectionEnding?
            /// When the response head opened the stream (the caller's monotonic nanoseconds).
            var openedAt: UInt64?
            /// Whether the transfer is paused until the consumer catches up.
            var isPaused = false
        }

        private(set) var connection: Connection = .idle
        /// How the source ended, delivered to the consumer once everything queued before it is
        /// taken: `.some(nil)` for a normal end, `.some(error)` for a failure.
        private(set) var terminal: EventSourceError?? = nil
        private(set) var isClosed = false
        private var hasIterator = false
        private var waiter: Waiter?
        /// A reconnect was asked for while a connection was ending: the next one starts at once.
        private var restartPending = false
        private var reconnects: ReconnectStateMachine

        private var queue = FIFO<Entry>()
        /// Bytes in `queue`: what flow control counts.
        private(set) var queuedBytes = 0
        /// Emptied byte buffers, kept for the next chunks so that a fast stream neither allocates
        /// nor faults in fresh pages per chunk.
        private var spareBuffers: [[UInt8]] = []
        /// The array the last ``take(budget:)`` handed out, back from the consumer emptied: the
        /// next one reuses it rather than allocating one per take.
        private var spareEntries: [Entry] = []
        let maximumQueuedBytes: Int

        /// The last event ID, which the next connection sends.
        private(set) var lastEventID: String
        /// The last event the consumer was given, if it asked to know (for a resume hook).
        private(set) var lastEvent: ServerSentEvent?
        /// How the latest connection ended, as the consumer settled it.
        private(set) var lastDisconnect: DisconnectReason?
        /// How the latest transfer ended as the I/O thread saw it, and how long its stream had
        /// been open (`nil` if it never opened): for metrics, which do not wait for the consumer.
        private(set) var lastTransferEnd: (ending: ConnectionEnding, openDuration: Duration?)?
        private(set) var metrics = EventSource.Metrics()

        /// Chunks smaller than this are appended to the previous one, so a stream of small writes
        /// costs the consumer one turn per batch of them rather than per chunk.
        static var chunkCapacity: Int { 64 * 1024 }
        /// At most this many emptied buffers are kept.
        static var maximumSpareBuffers: Int { 8 }
        /// The largest entry array kept for reuse: a burst's does not stay allocated.
        static var maximumSpareEntries: Int { 256 }

        init(reconnects: ReconnectStateMachine, lastEventID: String, maximumQueuedBytes: Int) {
            self.reconnects = reconnects
            self.lastEventID = lastEventID
            self.maximumQueuedBytes = max(1, maximumQueuedBytes)
        }

        // MARK: Starting

        /// What to do when the consumer makes an iterator.
        enum IteratorAction: Equatable {
            /// The first iterator: start connecting (attempt 0).
            case start(StartConnection)
            /// The first iterator of a source closed before it was iterated: it ends at once.
            case none
            /// A second iterator: it fails, and the first carries on.
            case reject
        }

        /// A connection attempt to begin: emit `.connecting`, build the request, create the transfer.
        struct StartConnection: Equatable {
            var attempt: Int
            var lastEventID: String
            /// Whether a connection came before: this one continues the stream.
            var isContinuation = false
        }

        mutating func iteratorMade() -> IteratorAction {
            guard !hasIterator else { return .reject }
            hasIterator = true
            guard case .idle = connection, !isClosed else { return .none }
            return .start(beginAttempt(0))
        }

        /// Enters `preparing` and queues the `.connecting` state for the consumer.
        private mutating func beginAttempt(_ attempt: Int) -> StartConnection {
            connection = .preparing(attempt: attempt)
            metrics.connections += 1
            queue.append(.update(.state(.connecting(attempt: attempt, lastEventID: lastEventID))))
            return StartConnection(attempt: attempt, lastEventID: lastEventID, isContinuation: metrics.connections > 1)
        }

        /// What to do with a transfer that has been created for the request.
        enum PreparedAction: Equatable {
            /// Hand it to the driver, then report ``transferAdded()``.
            case add
            /// The source was closed meanwhile: drop it unstarted.
            case discard
        }

        mutating func transferPrepared(_ transfer: Transfer) -> PreparedAction {
            guard case .preparing(let attempt) = connection else { return .discard }
            connection = .running(Running(transfer: transfer, attempt: attempt))
            return .add
        }

        /// The driver has been told to start the transfer: returns it when a stop arrived in
        /// between and it must now be aborted.
        mutating func transferAdded() -> Transfer? {
            guard case .running(var running) = connection else { return nil }
            running.isAdded = true
            connection = .running(running)
            return running.stop == nil ? nil : running.transfer
        }

        /// The request could not be built or the transfer not created: the source fails.
        mutating func preparationFailed(_ error: EventSourceError) -> Waiter? {
            guard case .preparing = connection else { return nil }
            connection = .done
            return finish(.some(error))
        }

        // MARK: I/O thread

        /// The response head opened an event stream: queues its state for the consumer.
        mutating func responseOpened(_ head: ResponseHead, transfer: Transfer, at now: UInt64) -> Waiter?? {
            guard case .running(var running) = connection, running.transfer === transfer, !isClosed else { return nil }
            running.openedAt = now
            connection = .running(running)
            metrics.openedConnections += 1
            queue.append(.update(.state(.open(head))))
            return .some(takeWaiter())
        }

        /// The transfer is to stop and end as `ending` (a bad answer, decided on the I/O thread).
        mutating func stopRequested(_ ending: ConnectionEnding, transfer: Transfer) {
            guard case .running(var running) = connection, running.transfer === transfer, running.stop == nil
            else { return }
            running.stop = ending
            connection = .running(running)
        }

        /// What to do with bytes that arrived.
        enum ReceiveAction {
            /// Taken; wake the consumer if it waits.
            case accepted(wake: Waiter?)
            /// Not taken: pause the transfer until the consumer catches up.
            case pause
            /// The source is closed or the transfer is being stopped: drop them.
            case discarded
        }

        mutating func received(_ bytes: UnsafeRawBufferPointer, transfer: Transfer) -> ReceiveAction {
            guard case .running(var running) = connection, running.transfer === transfer, running.stop == nil,
                !isClosed
            else { return .discarded }
            if queuedBytes >= maximumQueuedBytes {
                running.isPaused = true
                connection = .running(running)
                metrics.pauses += 1
                return .pause
            }
            metrics.bytes += bytes.count
            queuedBytes += bytes.count
            var buffer: [UInt8]
            switch queue.popLast() {
            case .bytes(let last)? where last.count + bytes.count <= Self.chunkCapacity:
                // Consumed, so the append below extends the buffer in place.
                buffer = consume last
            case let last:
                if let last { queue.append(last) }
                buffer = spareBuffers.popLast() ?? []
                // Small to start: a slow stream's buffer holds one event at a time, and 4 KiB
                // here was an eighth of a thousand streams' memory; appends grow it for a fast one.
                buffer.reserveCapacity(min(Self.chunkCapacity, max(bytes.count, 512)))
            }
            buffer.append(contentsOf: bytes)
            queue.append(.bytes(buffer))
            return .accepted(wake: takeWaiter())
        }

        /// The transfer ended as libcurl saw it (`ending`, already mapped), with the start of
        /// an error's body if one was collected: its end is queued behind its bytes for the
        /// consumer to settle.
        mutating func transferCompleted(
            _ transfer: Transfer, as ending: ConnectionEnding, responseBody: [UInt8]? = nil, at now: UInt64
        ) -> Waiter? {
            guard case .running(let running) = connection, running.transfer === transfer else { return nil }
            let openDuration = running.openedAt.map { Duration.nanoseconds(Int64(bitPattern: now &- $0)) }
            guard !isClosed else {
                connection = .done
                lastTransferEnd = (.closed, openDuration)
                return nil
            }
            connection = .ended(attempt: running.attempt)
            let ending = (running.stop ?? ending).withResponseBody(responseBody)
            lastTransferEnd = (ending, openDuration)
            queue.append(.ended(ending, openDuration: openDuration))
            return takeWaiter()
        }

        // MARK: Consumer

        /// What the consumer gets when it asks for more.
        enum TakeAction {
            /// Entries to process, and a transfer to resume now that the queue has drained.
            case entries([Entry], resume: Transfer?)
            /// The source has ended: normally (`nil`) or with the error.
            case ended(EventSourceError?)
            /// Nothing yet: wait (``waitForMore(_:)``).
            case wait
        }

        /// Takes queued entries holding up to `budget` bytes (at least one entry).
        mutating func take(budget: Int) -> TakeAction {
            if isClosed { return .ended(nil) }
            if queue.isEmpty {
                if let terminal { return .ended(terminal) }
                return .wait
            }
            var entries: [Entry] = []
            swap(&entries, &spareEntries)
            var bytes = 0
            while bytes < budget, let entry = queue.popFirst() {
                if case .bytes(let chunk) = entry { bytes += chunk.count }
                entries.append(entry)
            }
            queuedBytes -= bytes
            var resume: Transfer?
            if case .running(var running) = connection, running.isPaused, queuedBytes <= maximumQueuedBytes / 2 {
                running.isPaused = false
                connection = .running(running)
                resume = running.transfer
            }
            return .entries(entries, resume: resume)
        }

        /// Parks the consumer; returns `false` when it must not wait (something came meanwhile,
        /// or `cancelled`), in which case it is not kept.
        mutating func waitForMore(_ waiter: Waiter, cancelled: Bool) -> Bool {
            if !queue.isEmpty || terminal != nil || isClosed || cancelled { return false }
            self.waiter = waiter
            return true
        }

        /// What the resume hook is told before the next connection: `original` is the first
        /// request, `plain` what a plain reconnect would send.
        func resumption(original: EventSource.Request, plain: EventSource.Request) -> EventSource.Resumption {
            EventSource.Resumption(
                lastEventID: lastEventID, lastEvent: lastEvent, deliveredEvents: metrics.events,
                originalRequest: original, request: plain, reason: lastDisconnect ?? .endOfStream,
                attempt: plain.attempt)
        }

        /// What the consumer parsed from the entries it took.
        mutating func consumed(
            events: Int, comments: Int, lastEventID: String, spareBuffers spares: inout [[UInt8]],
            emptiedEntries: inout [Entry]
        ) {
            metrics.events += events
            metrics.comments += comments
            if self.lastEventID != lastEventID { self.lastEventID = lastEventID }
            guard !isClosed else { return }
            while spareBuffers.count < Self.maximumSpareBuffers, let spare = spares.popLast() {
                spareBuffers.append(spare)
            }
            if emptiedEntries.isEmpty, spareEntries.capacity < emptiedEntries.capacity,
                emptiedEntries.capacity <= Self.maximumSpareEntries
            {
                swap(&spareEntries, &emptiedEntries)
            }
        }

        /// The consumer stops the connection whose bytes it is parsing, to end as `ending` (its
        /// terminator, an error event, an event too large), returning the transfer to abort if
        /// it still runs. Its end then reaches the consumer as usual, which settles it as `ending`.
        mutating func consumerStopped(_ ending: ConnectionEnding) -> Transfer? {
            guard case .running(var running) = connection else { return nil }
            if running.stop == nil { running.stop = ending }
            connection = .running(running)
            return running.isAdded ? running.transfer : nil
        }

        /// What the consumer learned from a connection's bytes by the time it reached its end.
        struct Settlement {
            var ending: ConnectionEnding
            var openDuration: Duration?
            var deliveredEvent: Bool
            var serverRetry: Duration?
            /// The connection's last event, when the consumer keeps track (for a resume hook).
            var lastEvent: ServerSentEvent? = nil
        }

        /// What follows a settled connection.
        enum SettleAction: Equatable {
            /// Sleep `delay`, then report ``delayElapsed()``. `reason` is what to report.
            case reconnect(reason: DisconnectReason, delay: Duration, attempt: Int)
            /// The source is over: normally (`nil`) or with the error; `reason` is what to report.
            case finish(reason: DisconnectReason, error: EventSourceError?)
            /// The source was closed meanwhile: nothing to report.
            case none
        }

        /// The consumer reached a connection's end: decide, with ``ReconnectStateMachine``,
        /// what comes next. `now` is any monotonic time, `random` a number in `[0, 1)`.
        mutating func settled(_ settlement: Settlement, now: Duration, random: Double) -> SettleAction {
            guard case .ended = connection, !isClosed else { return .none }
            if let retry = settlement.serverRetry { reconnects.serverRequestedRetry(retry) }
            if let event = settlement.lastEvent { lastEvent = event }
            let reason = settlement.ending.reason
            lastDisconnect = reason
            var ending = settlement.ending
            switch ending {
            case .endOfStream, .failure:
                // A reconnect asked for while the connection was ending is a restart.
                if restartPending { ending = .restart }
            case .closed:
                // Only a close aborts without a stop of another kind, and a closed machine
                // does not get here.
                connection = .done
                _ = finish(.some(nil))
                return .none
            case .finishedByServer, .fatal, .restart, .completed:
                break
            }
            restartPending = false
            if case .failure(let error, _) = ending { metrics.lastError = error }
            let decision = reconnects.decide(
                after: ending,
                summary: .init(deliveredEvent: settlement.deliveredEvent, wasOpen: settlement.openDuration != nil),
                now: now,
                random: random
            )
            switch decision {
            case .reconnect(let delay, let attempt):
                connection = .waiting(attempt: attempt)
                metrics.reconnects[reason.cause, default: 0] += 1
                return .reconnect(reason: reason, delay: delay, attempt: attempt)
            case .finish:
                connection = .done
                _ = finish(.some(nil))
                return .finish(reason: reason, error: nil)
            case .fail(let error):
                connection = .done
                metrics.lastError = error
                _ = finish(.some(error))
                return .finish(reason: reason, error: error)
            }
        }

        /// The reconnect delay passed (or was cut short by a restart): start the next attempt,
        /// and wake the consumer for its `.connecting` state.
        mutating func delayElapsed() -> (StartConnection, wake: Waiter?)? {
            guard case .waiting(let attempt) = connection, !isClosed else { return nil }
            return (beginAttempt(attempt), takeWaiter())
        }

        // MARK: Control

        /// What ``close()`` must stop.
        struct CloseAction {
            /// The transfer to abort, if one was added.
            var abort: Transfer?
            /// Whether a reconnect delay (or a request being prepared) is to be cancelled.
            var cancelPending: Bool
            /// The consumer to wake.
            var wake: Waiter?
            /// Whether the source was running, so `.finished(nil)` is to be reported.
            var wasRunning: Bool
        }

        /// Closes the source: everything queued is dropped, the consumer ends normally.
        mutating func close() -> CloseAction? {
            guard !isClosed else { return nil }
            isClosed = true
            queue.removeAll()
            queuedBytes = 0
            spareBuffers = []
            if terminal == nil { terminal = .some(nil) }
            var action = CloseAction(abort: nil, cancelPending: false, wake: takeWaiter(), wasRunning: true)
            switch connection {
            case .idle:
                action.wasRunning = false
                connection = .done
            case .done:
                action.wasRunning = false
            case .preparing, .waiting:
                action.cancelPending = true
                connection = .done
            case .ended:
                connection = .done
            case .running(var running):
                if running.stop == nil { running.stop = .closed }
                connection = .running(running)
                // Not yet added: `transferAdded()` returns it for the abort.
                action.abort = running.isAdded ? running.transfer : nil
            }
            return action
        }

        /// What ``restart()`` must do.
        enum RestartAction {
            /// Abort the running transfer; it then ends as a restart.
            case abort(Transfer)
            /// Cut the reconnect delay short.
            case cancelDelay
            case none
        }

        /// Drops the current connection and reconnects at once, without backoff.
        mutating func restart() -> RestartAction {
            guard !isClosed else { return .none }
            switch connection {
            case .running(var running):
                guard running.stop == nil else { return .none }
                running.stop = .restart
                connection = .running(running)
                return running.isAdded ? .abort(running.transfer) : .none
            case .ended:
                restartPending = true
                return .none
            case .waiting:
                return .cancelDelay
            case .idle, .preparing, .done:
                return .none
            }
        }

        // MARK: Helpers

        private mutating func finish(_ result: EventSourceError??) -> Waiter? {
            if terminal == nil {
                terminal = result
                if case .some(.some(let error)) = result { metrics.lastError = error }
            }
            return takeWaiter()
        }

        private mutating func takeWaiter() -> Waiter? {
            defer { waiter = nil }
            return waiter
        }
    }
}

extension EventSource.StateMachine: Sendable where Transfer: Sendable, Waiter: Sendable {}
extension EventSource.StateMachine.Running: Sendable where Transfer: Sendable {}
extension EventSource.StateMachine.Connection: Sendable where Transfer: Sendable {}
extension EventSource.StateMachine.Entry: Sendable {}
