import CoreMetrics
import Logging
import SSEParser
import Synchronization
import Tracing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one lock around an ``EventSource``'s ``EventSource/StateMachine``, and the one place its
/// actions are carried out: starting, aborting and resuming transfers, waking the consumer,
/// sleeping before reconnects, reporting states. It is also the delegate of the source's
/// transfers, on the I/O thread.
///
/// The lock is never held while calling out (libcurl, hooks, continuations, the logger).
final class EventSourceStorage: CurlTransferDelegate, Sendable {
    /// The consumer's wake-up. Unsafe, not checked: the machine hands each one out exactly once
    /// (its tests hold that), and a checked one allocates and frees a canary on every wait.
    typealias Wake = UnsafeContinuation<Void, Never>
    typealias Machine = EventSource.StateMachine<CurlTransfer, Wake>

    private struct Core {
        var machine: Machine
        /// The task that sleeps before an attempt and prepares its request, with its launch's
        /// number; cancelled by `close()`. Let go of as soon as it has finished: a finished task
        /// kept by its handle keeps its stack memory too (about 3 KiB per source, measured).
        var connectTask: (launch: Int, task: Task<Void, Never>)?
        /// The number of the last launch, and of the last whose task finished.
        var launches = 0
        var lastFinishedLaunch = 0
        /// The sleep before the next attempt; cancelled by `close()` and `reconnect()`, which
        /// cuts it short.
        var delayTask: Task<Void, any Error>?
        /// The first connection's request as built from the configuration, for the resume hook.
        var originalRequest: EventSource.Request?
        /// When the current attempt started (``CurlDriver/now()``), and whether its first event
        /// is still to come: for the time-to-head and time-to-first-event metrics.
        var attemptStartedAt: UInt64 = 0
        var awaitingFirstEvent = false
        /// The current attempt's span.
        var span: (any Span)?
        /// Whether the current transfer got a response head, and since when it is paused.
        var headSeen = false
        var pausedAt: UInt64?
        /// Which connection the next attempt may take, from how the last transfer ended.
        var connectionReuse = ConnectionReuse.sharedOnly
        /// When the open stream last sent a byte (or opened, or resumed from a pause), and the
        /// figures the snapshot adds to the machine's.
        var lastByteAt: UInt64?
        var longestSilence: UInt64 = 0
        var pausedTotal: UInt64 = 0

        /// Time since the last byte is silence up to `now`.
        mutating func silence(until now: UInt64) {
            if let lastByteAt { longestSilence = max(longestSilence, now &- lastByteAt) }
        }
    }

    private let core: Mutex<Core>
    /// A copy of the machine's `isClosed`, published when it changes: the consumer checks it
    /// before every event it hands out from a batch, where a lock would cost more than the event.
    private let closedFlag = Atomic<Bool>(false)

    let url: String
    let configuration: EventSource.Configuration
    let hooks: EventSource.Hooks
    let logger: Logger
    let driver: CurlDriver
    private let environment: EventSource.Environment
    private let states: AsyncStream<ConnectionState>.Continuation
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private let telemetry: Telemetry
    private let tracing: AttemptTracing?

    init(
        url: String,
        configuration: EventSource.Configuration,
        hooks: EventSource.Hooks,
        logger: Logger,
        driver: CurlDriver,
        environment: EventSource.Environment,
        states: AsyncStream<ConnectionState>.Continuation
    ) {
        self.url = url
        self.configuration = configuration
        self.hooks = hooks
        self.logger = logger
        self.driver = driver
        self.environment = environment
        self.states = states
        self.start = clock.now
        self.telemetry = Telemetry(
            label: configuration.metricsLabel, factory: environment.metricsFactory ?? MetricsSystem.factory)
        // Spans are children of the context the source is created in. With no tracer
        // bootstrapped there are none: no span is kept per attempt, no attribute set.
        let tracer = environment.tracer ?? InstrumentationSystem.tracer
        self.tracing =
            tracer is NoOpTracer
            ? nil : AttemptTracing(tracer: tracer, parent: InstrumentationContext.current ?? .topLevel)
        let reconnects = ReconnectStateMachine(
            policy: configuration.reconnect,
            mayRepeatRequest: configuration.mayRepeatRequest,
            endOfStream: configuration.endOfStream,
            expectedTerminator: configuration.terminator?.description,
            canResume: hooks.resumeRequest != nil,
            url: url
        )
        self.core = Mutex(
            Core(
                machine: Machine(
                    reconnects: reconnects,
                    lastEventID: configuration.lastEventID,
                    maximumQueuedBytes: configuration.maximumBufferedBytes
                )
            )
        )
    }

    var lastEventID: String { core.withLock { $0.machine.lastEventID } }
    var metrics: EventSource.Metrics {
        core.withLock { core in
            var metrics = core.machine.metrics
            metrics.longestSilence = .nanoseconds(Int64(bitPattern: core.longestSilence))
            metrics.pausedTime = .nanoseconds(Int64(bitPattern: core.pausedTotal))
            return metrics
        }
    }
    var isClosed: Bool { closedFlag.load(ordering: .acquiring) }

    // MARK: Control (any thread)

    /// Registers an iterator; `false` for a second one, which must fail.
    func iteratorMade() -> Bool {
        switch core.withLock({ $0.machine.iteratorMade() }) {
        case .reject:
            return false
        case .none:
            return true
        case .start(let start):
            launch(.now(start))
            return true
        }
    }

    func close() {
        let action: Machine.CloseAction? = core.withLock { core in
            guard let action = core.machine.close() else { return nil }
            closedFlag.store(true, ordering: .releasing)
            if action.cancelPending {
                core.connectTask?.task.cancel()
                core.delayTask?.cancel()
            }
            core.connectTask = nil
            core.delayTask = nil
            return action
        }
        guard let action else { return }
        if let transfer = action.abort { driver.abort(transfer) }
        if action.wasRunning {
            logger.debug("closed", metadata: ["url": "\(url)"])
            states.yield(.finished(nil))
        }
        states.finish()
        action.wake?.resume()
    }

    func restart(resettingConnection reset: Bool = false) {
        let action = core.withLock { core in
            let action = core.machine.restart()
            if case .cancelDelay = action { core.delayTask?.cancel() }
            return action
        }
        if case .abort(let transfer) = action { driver.abort(transfer, reset: reset) }
    }

    // MARK: Connecting

    /// When a connection attempt is to begin.
    private enum Launch {
        /// Now: the machine has entered `preparing`.
        case now(Machine.StartConnection)
        /// After a reconnect delay (cut short by a restart), when the machine says so.
        case after(Duration)
    }

    /// Whether a connect task is held: only while one sleeps or prepares (for tests).
    var holdsConnectTask: Bool { core.withLock { $0.connectTask != nil } }

    /// Runs the next attempt in a task of its own: sleeps if it must, then connects.
    private func launch(_ launch: Launch) {
        let number = core.withLock { core in
            core.launches += 1
            return core.launches
        }
        let task = Task { [self] in
            defer {
                core.withLock { core in
                    core.lastFinishedLaunch = number
                    if core.connectTask?.launch == number { core.connectTask = nil }
                }
            }
            let start: Machine.StartConnection
            switch launch {
            case .now(let now):
                start = now
            case .after(let delay):
                let clock = environment.clock
                let delayTask = Task { try await clock.sleep(for: delay) }
                let closed = core.withLock { core in
                    core.delayTask = delayTask
                    return core.machine.isClosed
                }
                if closed { delayTask.cancel() }
                _ = try? await delayTask.value
                let next = core.withLock { core in
                    core.delayTask = nil
                    return core.machine.delayElapsed()
                }
                guard let next else { return }
                next.wake?.resume()
                start = next.0
            }
            await connect(start)
        }
        let closed = core.withLock { core in
            if !core.machine.isClosed, core.lastFinishedLaunch < number { core.connectTask = (number, task) }
            return core.machine.isClosed
        }
        if closed { task.cancel() }
    }

    /// Builds the request, creates the transfer and hands it to the driver.
    private func connect(_ start: Machine.StartConnection) async {
        let connectionReuse = core.withLock { core in
            core.attemptStartedAt = CurlDriver.now()
            core.awaitingFirstEvent = true
            return core.connectionReuse
        }
        states.yield(.connecting(attempt: start.attempt, lastEventID: start.lastEventID))
        logger.debug(
            "connecting",
            metadata: ["url": "\(url)", "attempt": "\(start.attempt)", "last-event-id": "\(start.lastEventID)"]
        )
        let plain = EventSource.Request(
            url: url,
            method: configuration.method,
            headers: EventSource.requestHeaders(configuration.headers, lastEventID: start.lastEventID),
            body: configuration.body,
            attempt: start.attempt
        )
        var request = plain
        let transfer: CurlTransfer
        do throws(EventSourceError) {
            if start.isContinuation, let resume = hooks.resumeRequest {
                let resumption = core.withLock { core in
                    core.machine.resumption(original: core.originalRequest ?? plain, plain: plain)
                }
                let next: EventSource.Request?
                do {
                    next = try await resume(resumption)
                } catch {
                    throw EventSourceError.invalidRequest("the resume hook failed: \(error)", url: url)
                }
                guard let next else {
                    throw EventSourceError.truncated(
                        expectedTerminator: configuration.terminator?.description,
                        lastFailure: resumption.reason.error, url: url)
                }
                request = next.forAttempt(start.attempt)
            } else if !start.isContinuation, hooks.resumeRequest != nil {
                // Kept only for the hook: a thousand sources without one keep nothing extra.
                core.withLock { $0.originalRequest = plain }
            }
            if let tracing {
                let span = tracing.start(&request, sendsLastEventID: !start.lastEventID.isEmpty)
                core.withLock { $0.span = span }
            }
            if let prepare = hooks.prepareRequest {
                do {
                    request = try await prepare(request)
                } catch {
                    throw EventSourceError.invalidRequest("the request hook failed: \(error)", url: url)
                }
            }
            if let feature = configuration.unsupportedFeature { throw EventSourceError.unsupported(feature, url: url) }
            do {
                var transferRequest = TransferRequest(request, configuration)
                transferRequest.connectionReuse = connectionReuse
                transfer = try CurlTransfer(request: transferRequest, delegate: self)
            } catch {
                throw EventSourceError(error, url: url)
            }
        } catch {
            let wake = core.withLock { core -> Wake?? in
                guard case .preparing = core.machine.connection else { return nil }
                return .some(core.machine.preparationFailed(error))
            }
            if let span = core.withLock({ $0.span.take() }) { AttemptTracing.end(span, failing: error) }
            guard let wake else { return }
            logger.debug("failed", metadata: ["url": "\(url)", "error": "\(error)"])
            states.yield(.finished(error))
            states.finish()
            wake?.resume()
            return
        }
        guard case .add = core.withLock({ $0.machine.transferPrepared(transfer) }) else {
            if let span = core.withLock({ $0.span.take() }) { AttemptTracing.end(span, as: .closed) }
            return
        }
        driver.add(transfer)
        // A stop that arrived while it was being added is carried out now, after the add.
        if let stopped = core.withLock({ $0.machine.transferAdded() }) {
            driver.abort(stopped)
        }
    }

    // MARK: CurlTransferDelegate (I/O thread)

    /// How much of an error's body is kept, and for how long it is read after the head.
    static let errorBodyLimit = 4096
    static let errorBodyTimeout = Duration.seconds(1)

    func transfer(_ transfer: CurlTransfer, didReceiveHead head: ResponseHead) -> HeadDisposition {
        let disposition =
            hooks.classifyResponse?(head)
            ?? ResponseClassifier.classify(head, requestURL: url, now: Self.unixTime())
        let now = CurlDriver.now()
        let (startedAt, span) = core.withLock { core in
            core.headSeen = true
            return (core.attemptStartedAt, core.span)
        }
        if let span { AttemptTracing.answered(span, by: head) }
        telemetry.responseHeadArrived(
            after: .nanoseconds(Int64(bitPattern: now &- startedAt)),
            result: disposition == .open ? "open" : "\(head.status / 100)xx")
        let ending: ConnectionEnding
        switch disposition {
        case .open:
            let wake = core.withLock { core in
                let wake = core.machine.responseOpened(head, transfer: transfer, at: now)
                if wake != nil { core.lastByteAt = now }
                return wake
            }
            guard let wake else { return .stop }
            telemetry.streamOpened()
            logger.debug("open", metadata: ["url": "\(url)", "status": "\(head.status)"])
            states.yield(.open(head))
            wake?.resume()
            return .stream
        case .finish:
            core.withLock { $0.machine.stopRequested(.finishedByServer(status: head.status), transfer: transfer) }
            return .stop
        case .retry(let after):
            let error = EventSourceError.unexpectedStatus(head.status, url: url, response: head)
            ending = .failure(error, retryAfter: after)
        case .fail(let error):
            ending = .fatal(error.withResponse(head))
        }
        core.withLock { $0.machine.stopRequested(ending, transfer: transfer) }
        // The body of an error is often its only explanation.
        return .collect(limit: Self.errorBodyLimit, timeout: Self.errorBodyTimeout)
    }

    func transfer(_ transfer: CurlTransfer, didReceiveBody bytes: UnsafeRawBufferPointer) -> BodyDisposition {
        guard let probe = environment.probe else { return receive(bytes, transfer: transfer) }
        switch probe.received(bytes) {
        case .take:
            return receive(bytes, transfer: transfer)
        case .cut(let count, let reset):
            if count > 0 {
                let taken = receive(UnsafeRawBufferPointer(rebasing: bytes.prefix(count)), transfer: transfer)
                if taken == .abort { return .abort }
            }
            // As reconnect() does, except that this is the transfer's own callback: it ends here.
            let restarting = core.withLock { core in
                if case .abort = core.machine.restart() { return true }
                return false
            }
            return restarting && reset ? .reset : .abort
        }
    }

    private func receive(_ bytes: UnsafeRawBufferPointer, transfer: CurlTransfer) -> BodyDisposition {
        let (disposition, wake, queued) = core.withLock {
            core -> (BodyDisposition, Wake?, Int) in
            let now = CurlDriver.now()
            core.silence(until: now)
            switch core.machine.received(bytes, transfer: transfer) {
            case .accepted(let wake):
                core.lastByteAt = now
                return (.consumed, wake, core.machine.queuedBytes)
            case .pause:
                // Not silence: the bytes are there, and come again at the resume.
                (core.pausedAt, core.lastByteAt) = (now, nil)
                return (.pause, nil, core.machine.queuedBytes)
            case .discarded:
                return (.abort, nil, 0)
            }
        }
        wake?.resume()
        // What waits for the consumer peaks here, between its takes.
        if telemetry.isEnabled, disposition != .abort { telemetry.buffered(queued) }
        return disposition
    }

    func transfer(_ transfer: CurlTransfer, didComplete completion: TransferCompletion) {
        let ending = ConnectionEnding(
            completion, url: url, idleTimeout: configuration.idleTimeout, headTimeout: configuration.connectTimeout)
        let body = transfer.collectedBody
        let now = CurlDriver.now()
        let (wake, end, headSeen, pausedAt, span) = core.withLock { core in
            let wake = core.machine.transferCompleted(transfer, as: ending, responseBody: body, at: now)
            core.silence(until: now)
            if let pausedAt = core.pausedAt { core.pausedTotal &+= now &- pausedAt }
            core.connectionReuse = ConnectionReuse(after: completion)
            defer { (core.pausedAt, core.headSeen, core.lastByteAt) = (nil, false, nil) }
            return (wake, core.machine.lastTransferEnd, core.headSeen, core.pausedAt, core.span.take())
        }
        if let span { AttemptTracing.end(span, as: end?.ending ?? ending) }
        if let end {
            // A closed source settles nothing: its connection is timed here. Others are timed
            // when settled, where the consumer's view (its terminator, an error event) is known.
            telemetry.transferEnded(end.ending, openDuration: end.openDuration, headSeen: headSeen)
            if case .closed = end.ending, let openDuration = end.openDuration {
                telemetry.connectionEnded(.closed, after: openDuration)
            }
        }
        if let pausedAt { telemetry.pauseEnded(after: .nanoseconds(Int64(bitPattern: now &- pausedAt))) }
        wake?.resume()
    }

    // MARK: Consumer

    /// Takes the next entries for the consumer, waiting for some when there are none.
    func take(budget: Int, isolation: isolated (any Actor)? = #isolation) async -> Machine.TakeAction {
        while true {
            let (action, queued, pausedAt) = core.withLock { core in
                let action = core.machine.take(budget: budget)
                var pausedAt: UInt64?
                if case .entries(_, _?) = action {
                    (pausedAt, core.pausedAt) = (core.pausedAt, nil)
                    let now = CurlDriver.now()
                    if let pausedAt { core.pausedTotal &+= now &- pausedAt }
                    core.lastByteAt = now
                }
                return (action, core.machine.queuedBytes, pausedAt)
            }
            switch action {
            case .entries(let entries, let resume):
                if let resume { driver.resume(resume) }
                if let pausedAt {
                    telemetry.pauseEnded(after: .nanoseconds(Int64(bitPattern: CurlDriver.now() &- pausedAt)))
                }
                if telemetry.isEnabled {
                    var bytes = 0
                    for case .bytes(let chunk) in entries { bytes += chunk.count }
                    telemetry.took(bytes: bytes, queued: queued)
                }
                return action
            case .ended:
                return action
            case .wait:
                await withTaskCancellationHandler {
                    await withUnsafeContinuation(isolation: isolation) { continuation in
                        let parked = core.withLock {
                            $0.machine.waitForMore(continuation, cancelled: Task.isCancelled)
                        }
                        if !parked { continuation.resume() }
                    }
                } onCancel: {
                    // Cancelling the consuming task closes the source, which wakes the waiter.
                    self.close()
                }
            }
        }
    }

    /// Records what the consumer parsed, and returns the buffers and the entry array it emptied
    /// for reuse.
    func consumed(
        events: Int, comments: Int, lastEventID: String, spareBuffers: inout [[UInt8]],
        emptiedEntries: inout [Machine.Entry]
    ) {
        let firstEventAfter = core.withLock { core -> UInt64? in
            core.machine.consumed(
                events: events, comments: comments, lastEventID: lastEventID, spareBuffers: &spareBuffers,
                emptiedEntries: &emptiedEntries)
            guard events > 0, core.awaitingFirstEvent else { return nil }
            core.awaitingFirstEvent = false
            return core.attemptStartedAt
        }
        telemetry.consumed(events: events, comments: comments)
        if let firstEventAfter {
            telemetry.firstEventArrived(after: .nanoseconds(Int64(bitPattern: CurlDriver.now() &- firstEventAfter)))
        }
    }

    /// Stops the current connection, which is to end as `ending`: its terminator arrived, an
    /// error event, or bytes that cannot be parsed (an event too large).
    func consumerStopped(_ ending: ConnectionEnding) {
        if let transfer = core.withLock({ $0.machine.consumerStopped(ending) }) {
            driver.abort(transfer)
        }
    }

    /// The consumer reached the end of a connection: decides what follows, reports it, and
    /// schedules the next attempt. Returns the states to hand out in order.
    func settled(_ settlement: Machine.Settlement) -> [ConnectionState] {
        let action = core.withLock { core in
            core.machine.settled(settlement, now: clock.now - start, random: environment.random())
        }
        if case .none = action {
        } else if let openDuration = settlement.openDuration {
            telemetry.connectionEnded(settlement.ending, after: openDuration)
        }
        if case .reconnect(let reason, let delay, _) = action {
            telemetry.reconnectScheduled(reason.cause, after: delay)
        }
        switch action {
        case .none:
            return []
        case .finish(let reason, let error):
            if let error {
                logger.debug("failed", metadata: ["url": "\(url)", "error": "\(error)"])
            } else {
                logger.debug("finished", metadata: ["url": "\(url)", "reason": "\(reason)"])
            }
            states.yield(.disconnected(reason))
            states.yield(.finished(error))
            states.finish()
            return [.disconnected(reason)]
        case .reconnect(let reason, let delay, let attempt):
            logger.debug(
                "reconnecting",
                metadata: ["url": "\(url)", "delay": "\(delay)", "attempt": "\(attempt)", "reason": "\(reason)"]
            )
            let waiting = ConnectionState.waitingToReconnect(delay: delay, attempt: attempt, reason: reason)
            states.yield(.disconnected(reason))
            states.yield(waiting)
            launch(.after(delay))
            return [.disconnected(reason), waiting]
        }
    }

    /// Unix time in seconds, for `Retry-After` dates.
    private static func unixTime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
