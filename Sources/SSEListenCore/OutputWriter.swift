import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes standard output, standard error and the state file, in the order asked, on one serial
/// dispatch queue: a blocked pipe (a slow `jq`, a terminal on hold) blocks that queue's thread,
/// never the cooperative pool.
///
/// Callers are slowed down instead of buffering without bound: ``write(_:to:)`` suspends while
/// more than a mebibyte is waiting, so a slow reader of standard output slows the stream down
/// (the source pauses the transfer, and TCP tells the server). When the reader of standard output
/// goes away (`EPIPE`, as with `| head`), later output is dropped and `onStdoutClosed` runs once.
final class OutputWriter: Sendable {
    /// The two standard streams.
    enum Stream: Sendable {
        case stdout
        case stderr

        var descriptor: Int32 { self == .stdout ? STDOUT_FILENO : STDERR_FILENO }
    }

    private struct State {
        var pendingBytes = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
        var stdoutClosed = false
        var stateFailure: ListenError?
        /// The latest ID asked to be saved, not written yet.
        var unsavedID: String?
        /// The ID the state file holds (or held when the run started).
        var savedID: String
    }

    private static let highWater = 1 << 20
    private static let lowWater = 256 << 10

    private let queue = DispatchQueue(label: "sse-listen.output")
    private let state: Mutex<State>
    private let stateFile: StateFile?
    private let onStdoutClosed: @Sendable () -> Void

    /// - Parameters:
    ///   - stateFile: Where ``saveState(_:)`` writes, if anywhere.
    ///   - savedID: The ID the state file already holds, which need not be written again.
    ///   - onStdoutClosed: Called once, on the queue, when standard output's reader is gone.
    init(stateFile: StateFile?, savedID: String, onStdoutClosed: @escaping @Sendable () -> Void) {
        self.stateFile = stateFile
        self.state = Mutex(State(savedID: savedID))
        self.onStdoutClosed = onStdoutClosed
    }

    /// Whether standard output's reader has gone away.
    var isStdoutClosed: Bool { state.withLock { $0.stdoutClosed } }

    /// The first failure to write the state file, if any.
    var stateFailure: ListenError? { state.withLock { $0.stateFailure } }

    /// Queues `bytes` for `stream`; suspends while too much is already waiting.
    func write(_ bytes: [UInt8], to stream: Stream) async {
        guard !bytes.isEmpty else { return }
        let mustWait = state.withLock { state in
            state.pendingBytes += bytes.count
            return state.pendingBytes > Self.highWater
        }
        queue.async { self.perform(bytes, to: stream) }
        guard mustWait else { return }
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.pendingBytes <= Self.lowWater { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Queues saving `id` to the state file, after everything written so far. Saves coalesce:
    /// when several are waiting, only the latest ID is written.
    func saveState(_ id: String) {
        guard stateFile != nil else { return }
        let schedule = state.withLock { state in
            let isScheduled = state.unsavedID != nil
            state.unsavedID = id
            return !isScheduled
        }
        if schedule {
            queue.async { self.writeState() }
        }
    }

    /// Waits until everything queued so far has been written.
    func drain() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async { continuation.resume() }
        }
    }

    // MARK: On the queue

    private func perform(_ bytes: [UInt8], to stream: Stream) {
        let skip = stream == .stdout && state.withLock { $0.stdoutClosed }
        var closedNow = false
        if !skip {
            do {
                try FileIO.writeAll(fd: stream.descriptor, bytes)
            } catch {
                if stream == .stdout {
                    // EPIPE (the reader left) or anything else (a full disk): output is over.
                    closedNow = state.withLock { state in
                        defer { state.stdoutClosed = true }
                        return !state.stdoutClosed
                    }
                }
            }
        }
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.pendingBytes -= bytes.count
            guard state.pendingBytes <= Self.lowWater else { return [] }
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
        if closedNow { onStdoutClosed() }
    }

    private func writeState() {
        guard let stateFile else { return }
        let id: String? = state.withLock { state in
            defer { state.unsavedID = nil }
            guard let id = state.unsavedID, id != state.savedID, state.stateFailure == nil else { return nil }
            return id
        }
        guard let id else { return }
        do {
            try stateFile.write(id)
            state.withLock { $0.savedID = id }
        } catch {
            state.withLock { state in
                if state.stateFailure == nil { state.stateFailure = error }
            }
        }
    }
}
