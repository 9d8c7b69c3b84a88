internal import CCurl
internal import CCurlShims
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs every transfer of the process on one I/O thread with libcurl's multi interface, so a
/// thousand open streams cost one thread, and no transfer ever blocks Swift's cooperative pool.
///
/// Callers hand it commands (add, abort, resume) from any thread; the I/O thread applies them,
/// waits for its sockets and drives libcurl with a ``CurlWaiter`` (epoll on Linux), which also
/// wakes it for new commands.
/// The thread starts with the first transfer and exits (closing its connection cache) once it
/// has had none for a moment, so an idle process holds no thread or socket of ours.
final class CurlDriver: TaskExecutor, Sendable {
    /// The driver all event sources share.
    static let shared = CurlDriver()

    private enum Command {
        case add(CurlTransfer)
        case abort(CurlTransfer, reset: Bool)
        case resume(CurlTransfer)
    }

    private struct State {
        var commands: [Command] = []
        /// Jobs of tasks that prefer this driver as their executor, run on the I/O thread.
        var jobs: [UnownedJob] = []
        /// The running I/O thread, so that work it queues for itself does not wake it.
        var ioThread: pthread_t?
        /// The running thread's multi handle and waiter; `nil` when no thread runs.
        var waiter: CurlWaiter?
        /// Threads started so far, for tests and diagnostics.
        var threadsStarted = 0
        var activeTransfers = 0
    }

    /// The state shared with callers. The waiter (and its multi handle) is only freed by the I/O
    /// thread after it has been removed from here, so waking it under the lock is safe.
    private let state = Mutex(State())

    /// How long the thread lingers without transfers before exiting.
    private let linger: Duration

    init(linger: Duration = .milliseconds(500)) {
        self.linger = linger
    }

    /// Starts `transfer`. Its delegate hears about it on the I/O thread from now on.
    func add(_ transfer: CurlTransfer) {
        enqueue(.add(transfer))
    }

    /// Stops `transfer` now; its delegate receives `.aborted` unless it already completed.
    func abort(_ transfer: CurlTransfer, reset: Bool = false) {
        enqueue(.abort(transfer, reset: reset))
    }

    /// Resumes a transfer paused by its delegate.
    func resume(_ transfer: CurlTransfer) {
        enqueue(.resume(transfer))
    }

    /// Whether an I/O thread is running, and how many have been started, for tests.
    var threadStatus: (isRunning: Bool, started: Int, activeTransfers: Int) {
        state.withLock { ($0.waiter != nil, $0.threadsStarted, $0.activeTransfers) }
    }

    /// Whether the caller runs on this driver's I/O thread, for tests.
    var isCurrentThread: Bool {
        state.withLock { state in state.ioThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    private func enqueue(_ command: Command) {
        state.withLock { state in
            state.commands.append(command)
            wakeOrStartThread(&state)
        }
    }

    /// Makes the I/O thread see new work: wakes it unless this is that thread (which looks for
    /// work before it waits), or starts one. Inside the lock: the I/O thread frees the waiter only
    /// after taking it out of the state.
    private func wakeOrStartThread(_ state: inout State) {
        if let waiter = state.waiter {
            if let ioThread = state.ioThread, pthread_equal(ioThread, pthread_self()) != 0 { return }
            waiter.wake()
        } else {
            CurlGlobal.initializeOnce()
            guard let waiter = CurlWaiter() else { return }
            state.waiter = waiter
            state.threadsStarted += 1
            startThread(waiter: waiter)
        }
    }

    private func startThread(waiter: CurlWaiter) {
        let context = Unmanaged.passRetained(ThreadContext(driver: self, waiter: waiter)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread,
            nil,
            { context in
                let box = Unmanaged<ThreadContext>.fromOpaque(context!).takeRetainedValue()
                box.driver.run(waiter: box.waiter)
                return nil
            },
            context
        )
        if result == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<ThreadContext>.fromOpaque(context).release()
            fatalError("sse: cannot start the libcurl I/O thread (pthread_create: \(result))")
        }
    }

    /// Queues the job of a task that prefers this driver as its executor: the I/O thread runs it
    /// between its turns of reading sockets.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        state.withLock { state in
            state.jobs.append(job)
            wakeOrStartThread(&state)
        }
    }

    /// Monotonic nanoseconds.
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    // MARK: - I/O thread

    private func run(waiter: CurlWaiter) {
        let multi = waiter.multi
        // Transfers in the multi handle, by easy handle address.
        var transfers: [UInt: CurlTransfer] = [:]
        let lingerNanoseconds = UInt64(Duration.milliseconds(of: linger)) * 1_000_000
        // Since when the thread has had no transfer; `nil` while it has some.
        var idleSince: UInt64? = Self.now()
        // No idle timeout can expire before this: activity only moves deadlines later, so the
        // transfers are scanned when it passes (or a transfer starts or resumes), not every turn.
        var nextIdleScan: UInt64 = 0
        state.withLock { $0.ioThread = pthread_self() }
        // Swapped with the state's, so that queueing jobs allocates nothing in the steady state.
        var jobs: [UnownedJob] = []
        let executor = asUnownedTaskExecutor()

        while true {
            // The tasks woken by the last turn's reads (and any others that prefer this thread).
            state.withLock { swap(&$0.jobs, &jobs) }
            for job in jobs { job.runSynchronously(on: executor) }
            jobs.removeAll(keepingCapacity: true)

            let commands: [Command]? = state.withLock { state in
                if state.commands.isEmpty, state.jobs.isEmpty, let idleSince,
                    Self.now() - idleSince >= lingerNanoseconds
                {
                    state.waiter = nil
                    state.ioThread = nil
                    return nil
                }
                defer { state.commands.removeAll(keepingCapacity: true) }
                return state.commands
            }
            guard let commands else { break }

            for command in commands {
                switch command {
                case .add(let transfer):
                    guard let handle = transfer.handle else { continue }
                    transfer.lastActivity = Self.now()
                    transfer.startedAt = transfer.lastActivity
                    nextIdleScan = 0
                    let code = curl_multi_add_handle(multi, handle)
                    if code == CURLM_OK {
                        transfers[UInt(bitPattern: handle)] = transfer
                    } else {
                        let message = String(cString: curl_multi_strerror(code))
                        transfer.release()
                        let failure = TransferFailure(
                            kind: .transport, message: "libcurl refused the transfer: \(message)")
                        transfer.delegate.transfer(transfer, didComplete: .failed(failure))
                    }
                case .abort(let transfer, let reset):
                    guard let handle = transfer.handle, transfers[UInt(bitPattern: handle)] != nil else { continue }
                    // Removing an unfinished transfer closes its connection: with a reset, if asked.
                    if reset { _ = sse_curl_easy_reset_on_close(handle) }
                    finish(transfer, handle: handle, multi: multi, transfers: &transfers, completion: .aborted)
                case .resume(let transfer):
                    guard let handle = transfer.handle, transfers[UInt(bitPattern: handle)] != nil, transfer.isPaused
                    else { continue }
                    transfer.isPaused = false
                    transfer.lastActivity = Self.now()
                    nextIdleScan = 0
                    // May call the write callback right here with the data it held back.
                    _ = curl_easy_pause(handle, sse_curl_pause_continue)
                }
            }

            waiter.perform()

            func finishCompleted() {
                var queued: Int32 = 0
                while let message = curl_multi_info_read(multi, &queued) {
                    guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                        let transfer = transfers[UInt(bitPattern: handle)]
                    else { continue }
                    let code = message.pointee.data.result
                    finish(
                        transfer, handle: handle, multi: multi, transfers: &transfers,
                        completion: completion(of: transfer, code: code))
                }
            }
            finishCompleted()

            // Idle timeouts, and how long to sleep: until the nearest one, at most a second.
            var now = Self.now()
            if now >= nextIdleScan, transfers.values.contains(where: { Self.deadline(of: $0, at: now).hasPassed }) {
                // This thread can be descheduled between reading the sockets and this check, so a
                // transfer about to time out may have bytes waiting: read what is ready first,
                // then judge. Without this, a loaded machine saw drops before the timeout was due.
                waiter.wait(milliseconds: 0)
                finishCompleted()
                now = Self.now()
            }
            if now >= nextIdleScan {
                var nearest = now &+ 1_000_000_000
                for transfer in Array(transfers.values) {
                    guard let handle = transfer.handle else { continue }
                    switch Self.deadline(of: transfer, at: now) {
                    case .passed(let completion):
                        finish(transfer, handle: handle, multi: multi, transfers: &transfers, completion: completion)
                    case .due(let due):
                        if let due { nearest = min(nearest, due) }
                    }
                }
                nextIdleScan = nearest
            }
            var waitNanoseconds = nextIdleScan &- now
            if transfers.isEmpty {
                waitNanoseconds = min(waitNanoseconds, lingerNanoseconds)
            }
            let workIsQueued = state.withLock { state in
                state.activeTransfers = transfers.count
                return !state.commands.isEmpty || !state.jobs.isEmpty
            }
            // Work queued by this thread itself (a job's command, a job's job) did not wake it.
            if workIsQueued { waitNanoseconds = 0 }

            let waitMilliseconds = Int32((waitNanoseconds + 999_999) / 1_000_000)
            waiter.wait(milliseconds: waitMilliseconds)
            if !transfers.isEmpty {
                idleSince = nil
            } else if idleSince == nil {
                idleSince = Self.now()
            }
        }
        waiter.close()
    }

    /// What a transfer's deadlines say at a moment.
    private enum Deadline {
        /// One has passed: the transfer ends so.
        case passed(TransferCompletion)
        /// None has: the nearest is due then (`nil`: it has none).
        case due(UInt64?)

        var hasPassed: Bool {
            if case .passed = self { return true }
            return false
        }
    }

    /// `transfer`'s deadlines at `now`: collecting an error's body ends by its own; until the
    /// head is complete the connect timeout bounds the attempt; then the idle timeout, which
    /// does not run while the transfer is paused.
    private static func deadline(of transfer: CurlTransfer, at now: UInt64) -> Deadline {
        if let deadline = transfer.collectDeadline { return now >= deadline ? .passed(.aborted) : .due(deadline) }
        var nearest: UInt64?
        if !transfer.headDelivered {
            if now &- transfer.startedAt >= transfer.headTimeoutNanoseconds {
                guard transfer.hasConnected else {
                    let timeout = Duration.nanoseconds(Int64(clamping: transfer.headTimeoutNanoseconds))
                    let message = "could not connect within \(timeout.secondsDescription) (connect timeout)"
                    return .passed(.failed(TransferFailure(kind: .transport, message: message)))
                }
                return .passed(.headTimedOut)
            }
            nearest = transfer.startedAt &+ transfer.headTimeoutNanoseconds
        }
        if let timeout = transfer.idleTimeoutNanoseconds, !transfer.isPaused {
            if now &- transfer.lastActivity >= timeout { return .passed(.idleTimedOut) }
            let due = transfer.lastActivity &+ timeout
            nearest = min(nearest ?? due, due)
        }
        return .due(nearest)
    }

    private func finish(
        _ transfer: CurlTransfer,
        handle: UnsafeMutableRawPointer,
        multi: UnsafeMutableRawPointer,
        transfers: inout [UInt: CurlTransfer],
        completion: TransferCompletion
    ) {
        _ = curl_multi_remove_handle(multi, handle)
        transfers[UInt(bitPattern: handle)] = nil
        transfer.release()
        transfer.delegate.transfer(transfer, didComplete: completion)
    }

    /// Maps libcurl's result code to how the transfer ended: the one place `CURLcode` is interpreted.
    private func completion(of transfer: CurlTransfer, code: CURLcode) -> TransferCompletion {
        if transfer.abortedByCallback { return .aborted }
        let message = transfer.errorMessage(for: code)
        let connectStatus = code == CURLE_OK ? 0 : transfer.connectStatus
        let kind: TransferFailure.Kind
        switch code {
        case CURLE_OK:
            return .finished
        case _ where connectStatus != 0 && !(200..<300).contains(connectStatus):
            kind = .proxyRefused(status: connectStatus)
        case CURLE_PEER_FAILED_VERIFICATION where message.contains("subject name") || message.contains("host name"):
            kind = .tlsHostNameMismatch
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            kind = .tlsVerification
        case CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            // Our own CA file or client certificate could not be used: not the server's fault.
            kind = .invalidRequest
        case CURLE_TOO_MANY_REDIRECTS:
            kind = .redirect
        case CURLE_UNSUPPORTED_PROTOCOL where transfer.redirectCount > 0:
            kind = .redirect
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            kind = .invalidRequest
        default:
            kind = .transport
        }
        return .failed(TransferFailure(kind: kind, message: message))
    }
}

/// What the new thread needs, passed through `pthread_create`'s context pointer.
private final class ThreadContext: @unchecked Sendable {
    // Written once before the thread starts and only read on it.
    let driver: CurlDriver
    let waiter: CurlWaiter

    init(driver: CurlDriver, waiter: CurlWaiter) {
        self.driver = driver
        self.waiter = waiter
    }
}
