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
/// Output is batched without waiting for more: callers append to a ``PendingOutput`` under the
/// lock, and a drain job is put on the queue only when none is scheduled or running. The job takes
/// everything pending and writes it in order, each run of bytes for one stream with one
/// `write(2)`, then looks again. A lone event is written at once; the events that arrive while a
/// write is in progress go out together in the next one. The state file is written only after the
/// output of the event whose ID it records.
///
/// Callers are slowed down instead of buffering without bound: ``write(to:_:)`` suspends while
/// more than a mebibyte is waiting, so a slow reader of standard output slows the stream down
/// (the source pauses the transfer, and TCP tells the server). When the reader of standard output
/// goes away (`EPIPE`, as with `| head`), later output is dropped, the state file is no longer
/// advanced (those events were not written), and `onStdoutClosed` runs once.
final class OutputWriter: Sendable {
    /// The two standard streams.
    enum Stream: Sendable, Hashable {
        case stdout
        case stderr

        var descriptor: Int32 { self == .stdout ? STDOUT_FILENO : STDERR_FILENO }
    }

    private struct State {
        var pending = PendingOutput()
        /// Bytes the drain job has taken and not finished writing.
        var writingBytes = 0
        /// Whether the drain job is scheduled or running; while it is, new output only joins
        /// `pending`, and the job picks it up.
        var isDraining = false
        /// Callers of `write` waiting for the queue to fall to the low-water mark.
        var spaceWaiters: [CheckedContinuation<Void, Never>] = []
        /// Callers of `drain()`, resumed once `pending` as it is now has been written.
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
        var stdoutClosed = false
        var stateFailure: ListenError?
        /// The ID the state file holds (or held when the run started).
        var savedID: String

        var queuedBytes: Int { pending.byteCount + writingBytes }

        /// Marks the drain job scheduled if there is work and it is not; returns whether to schedule it.
        mutating func startDraining() -> Bool {
            guard !isDraining, !pending.isEmpty else { return false }
            isDraining = true
            return true
        }
    }

    /// One turn of the drain job: what to write, and who to wake once it is written.
    private struct Batch {
        var segments: [PendingOutput.Segment]
        var drainWaiters: [CheckedContinuation<Void, Never>]
        var stdoutClosed: Bool
        var savedID: String
        var stateFailed: Bool
    }

    /// What a turn of the drain job changed, recorded when it takes the next batch.
    private struct Written {
        var savedID: String?
        var stateFailure: ListenError?
    }

    private static let highWater = 1 << 20
    private static let lowWater = 256 << 10

    private let queue = DispatchQueue(label: "sse-listen.output")
    private let state: Mutex<State>
    private let stateFile: StateFile?
    private let sink: any OutputSink
    private let onStdoutClosed: @Sendable () -> Void

    /// - Parameters:
    ///   - stateFile: Where ``saveState(_:)`` writes, if anywhere.
    ///   - savedID: The ID the state file already holds, which need not be written again.
    ///   - sink: Where the bytes and IDs go: the process's standard streams and the state file,
    ///     unless a test records them instead.
    ///   - onStdoutClosed: Called once, on the queue, when standard output's reader is gone.
    init(
        stateFile: StateFile?,
        savedID: String,
        sink: any OutputSink = ProcessOutput(),
        onStdoutClosed: @escaping @Sendable () -> Void
    ) {
        self.stateFile = stateFile
        self.state = Mutex(State(savedID: savedID))
        self.sink = sink
        self.onStdoutClosed = onStdoutClosed
    }

    /// Whether standard output's reader has gone away.
    var isStdoutClosed: Bool { state.withLock { $0.stdoutClosed } }

    /// The first failure to write the state file, if any.
    var stateFailure: ListenError? {
        guard stateFile != nil else { return nil }
        return state.withLock { $0.stateFailure }
    }

    /// Queues the bytes `append` appends for `stream`; suspends while too much is already waiting.
    ///
    /// `append` runs under the writer's lock and appends straight to the pending output, which
    /// spares an array and a copy per event: it must not call the writer, and should be quick (the
    /// drain job waits for the lock meanwhile; formatting an event is, and measured no slower than
    /// formatting outside the lock into a reused buffer and copying that in).
    func write(to stream: Stream, _ append: (inout [UInt8]) -> Void) async {
        if self.append(to: stream, append) { await waitForSpace() }
    }

    /// ``write(to:_:)`` without the wait: queues the bytes and returns whether the caller must
    /// now ``waitForSpace()``. Spares the hot loop an async call per event.
    func append(to stream: Stream, _ append: (inout [UInt8]) -> Void) -> Bool {
        let (schedule, mustWait) = state.withLock { state in
            // Once the reader is gone, standard output is dropped without being formatted.
            guard stream == .stderr || !state.stdoutClosed else { return (false, false) }
            state.pending.append(to: stream, append)
            return (state.startDraining(), state.queuedBytes > Self.highWater)
        }
        if schedule { queue.async { self.drainLoop() } }
        return mustWait
    }

    /// Suspends while more than the high-water mark is waiting to be written, until it drains to
    /// the low-water mark.
    func waitForSpace() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.queuedBytes <= Self.lowWater { return true }
                state.spaceWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Queues `text` for `stream`; suspends while too much is already waiting.
    func write(_ text: String, to stream: Stream) async {
        await write(to: stream) { $0.append(contentsOf: text.utf8) }
    }

    /// Queues saving `id` to the state file, after everything written so far. Saves coalesce: of
    /// several in one batch, only the latest ID is written, once all of the batch's output is.
    func saveState(_ id: String) {
        guard stateFile != nil else { return }
        let schedule = state.withLock { state in
            // Events whose output was dropped must not count as delivered.
            guard !state.stdoutClosed else { return false }
            state.pending.save(id)
            return state.startDraining()
        }
        if schedule { queue.async { self.drainLoop() } }
    }

    /// Waits until everything queued so far has been written.
    func drain() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                // An idle job means nothing is pending or being written.
                guard state.isDraining else { return true }
                state.drainWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    // MARK: On the queue

    /// The drain job: writes batches until nothing is pending, then goes idle.
    ///
    /// Before going idle it yields the processor once and looks again. Going idle means the next
    /// caller must wake this thread (a futex call, and on two cores often a context switch for the
    /// caller), which cost more than the writing itself when events arrive every microsecond. A
    /// stream in full flow has appended again by the time a yield returns, so the job runs through
    /// a burst without being woken; a lone event finds the job idle and wakes it. Nothing waits for
    /// more output to arrive.
    private func drainLoop() {
        var written = Written()
        var writtenWaiters: [CheckedContinuation<Void, Never>] = []
        var yielded = false
        while true {
            let (batch, spaceWaiters) = state.withLock { state -> (Batch?, [CheckedContinuation<Void, Never>]) in
                // The previous batch is out.
                state.writingBytes = 0
                if let savedID = written.savedID { state.savedID = savedID }
                if state.stateFailure == nil { state.stateFailure = written.stateFailure }
                var spaceWaiters: [CheckedContinuation<Void, Never>] = []
                if state.pending.byteCount <= Self.lowWater { swap(&spaceWaiters, &state.spaceWaiters) }

                let byteCount = state.pending.byteCount
                let segments = state.pending.take()
                var drainWaiters: [CheckedContinuation<Void, Never>] = []
                swap(&drainWaiters, &state.drainWaiters)
                guard !segments.isEmpty || !drainWaiters.isEmpty else {
                    if yielded { state.isDraining = false }
                    return (nil, spaceWaiters)
                }
                state.writingBytes = byteCount
                let batch = Batch(
                    segments: segments,
                    drainWaiters: drainWaiters,
                    stdoutClosed: state.stdoutClosed,
                    savedID: state.savedID,
                    stateFailed: state.stateFailure != nil
                )
                return (batch, spaceWaiters)
            }
            for waiter in writtenWaiters { waiter.resume() }
            for waiter in spaceWaiters { waiter.resume() }
            written = Written()
            writtenWaiters = []
            guard let batch else {
                if yielded { return }
                yielded = true
                sched_yield()
                continue
            }
            yielded = false
            writtenWaiters = batch.drainWaiters
            written = perform(batch)
        }
    }

    private func perform(_ batch: Batch) -> Written {
        var written = Written()
        var stdoutClosed = batch.stdoutClosed
        var savedID = batch.savedID
        for segment in batch.segments {
            switch segment {
            case .bytes(let stream, let bytes):
                guard stream == .stderr || !stdoutClosed else { continue }
                do {
                    try sink.write(bytes, to: stream)
                } catch {
                    // Errors on standard error are ignored: there is nowhere to report them.
                    guard stream == .stdout else { continue }
                    // EPIPE (the reader left) or anything else (a full disk): output is over.
                    stdoutClosed = true
                    state.withLock { $0.stdoutClosed = true }
                    onStdoutClosed()
                }
            case .save(let id):
                // The ID of an event whose output was not written must not be saved.
                guard let stateFile, !stdoutClosed, !batch.stateFailed, written.stateFailure == nil, id != savedID
                else { continue }
                do {
                    try sink.save(id, in: stateFile)
                    savedID = id
                    written.savedID = id
                } catch {
                    written.stateFailure = error
                }
            }
        }
        return written
    }
}

/// Where ``OutputWriter`` puts its output; tests substitute one that records what it is given.
protocol OutputSink: Sendable {
    /// Writes all of `bytes` to `stream`, or throws.
    func write(_ bytes: [UInt8], to stream: OutputWriter.Stream) throws(FileIOError)

    /// Saves `id` in `stateFile`, or throws.
    func save(_ id: String, in stateFile: StateFile) throws(ListenError)
}

/// The process's standard output and standard error, and the state file on disk.
struct ProcessOutput: OutputSink {
    func write(_ bytes: [UInt8], to stream: OutputWriter.Stream) throws(FileIOError) {
        try FileIO.writeAll(fd: stream.descriptor, bytes)
    }

    func save(_ id: String, in stateFile: StateFile) throws(ListenError) {
        try stateFile.write(id)
    }
}
