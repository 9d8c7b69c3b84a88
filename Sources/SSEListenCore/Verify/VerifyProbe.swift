import SSEClient
import SSEParser
import Synchronization

/// The effects of a `verify` run: the connections it makes, all to the one URL, all bounded by
/// the run's deadline, and what they record. Everything is judged afterwards, by pure checks.
///
/// Four sources run at once: the uninterrupted stream (watched for the whole run: its head,
/// every read with its time, its events, which are also the reference for the resumes), one
/// dropped with a FIN and one with a TCP reset (each mid-stream, at a random byte after its
/// second event with an id, then left to reconnect with `Last-Event-ID`), and one request with
/// a `Last-Event-ID` the server never issued.
struct VerifyProbe: Sendable {
    /// What the run saw.
    struct Observations: Sendable {
        var stream: StreamRecording
        /// The uninterrupted stream's events.
        var events: [ServerSentEvent]
        var fin: ResumeRecording
        var rst: ResumeRecording
        var unknownID: ResumeChecks.UnknownIDAnswer?
    }

    /// The largest body the uninterrupted stream records; the rest is counted, not kept.
    static let recordingLimit = 32 << 20
    /// The longest wait for the answer to the unknown `Last-Event-ID`.
    static let unknownIDTimeout: Duration = .seconds(10)

    var url: String
    /// The request settings (method, headers, body, TLS, compression).
    var configuration: EventSource.Configuration
    var duration: Duration
    var seed: UInt64
    /// The `Last-Event-ID` no server issued.
    var unknownID: String

    func run() async -> Observations {
        let deadline = ContinuousClock.now + duration
        var random = SplitMix64(seed: seed)
        let (finFraction, rstFraction) = (random.nextFraction(), random.nextFraction())
        // The resumes are compared with the uninterrupted stream, so they start once it has
        // its first event: a live stream then has everything the dropped ones will see.
        let witnessStarted = Gate()
        async let observed = observeStream(until: deadline, started: witnessStarted)
        async let fin = resume(reset: false, fraction: finFraction, after: witnessStarted, until: deadline)
        async let rst = resume(reset: true, fraction: rstFraction, after: witnessStarted, until: deadline)
        async let unknown = askUnknownID(until: min(deadline, .now + Self.unknownIDTimeout))
        let (stream, events) = await observed
        return Observations(stream: stream, events: events, fin: await fin, rst: await rst, unknownID: await unknown)
    }

    // MARK: The uninterrupted stream

    private func observeStream(
        until deadline: ContinuousClock.Instant, started: Gate
    ) async -> (StreamRecording, [ServerSentEvent]) {
        defer { started.open() }
        let start = ContinuousClock.now
        let recorder = ReadRecorder(limit: Self.recordingLimit)
        var configuration = self.configuration
        configuration.reconnect = .disabled
        configuration.endOfStream = .finish
        configuration.idleTimeout = nil
        let source = EventSource(
            url: url, configuration: configuration, hooks: recorder.hooks,
            environment: EventSource.Environment(probe: recorder.probe))
        let events = await Self.consume(source, until: deadline) { connections in
            if connections.first?.isEmpty == false { started.open() }
            return false
        }
        var recording = recorder.recording(at: .now)
        recording.failure = events.failure
        recording.askedForCompression =
            configuration.acceptsCompression || configuration.headers.value(for: "Accept-Encoding") != nil
        recording.endedByServer = events.endedByServer
        if recording.head == nil { recording.head = events.failure?.response }
        // No head: how long it waited for one.
        if recording.head == nil { recording.observed = .now - start }
        return (recording, events.connections.first ?? [])
    }

    // MARK: Resumes

    private func resume(
        reset: Bool, fraction: Double, after witnessStarted: Gate, until deadline: ContinuousClock.Instant
    ) async -> ResumeRecording {
        await witnessStarted.wait()
        let start = ContinuousClock.now
        let cutter = Cutter(reset: reset, fraction: fraction)
        let sent = Mutex<[String?]>([])
        var configuration = self.configuration
        configuration.endOfStream = .reconnect
        configuration.idleTimeout = nil
        configuration.reconnect.maximumDelay = .seconds(2)
        let hooks = EventSource.Hooks(prepareRequest: { request in
            let id = request.headers.value(for: "Last-Event-ID")
            sent.withLock { $0.append(id) }
            return request
        })
        let source = EventSource(
            url: url, configuration: configuration, hooks: hooks,
            environment: EventSource.Environment(probe: cutter.probe))
        let consumed = await Self.consume(source, until: deadline) { connections in
            connections.count >= 2
                && connections.dropFirst().reduce(0) { $0 + $1.count } >= ResumeChecks.eventsAfterResume
        }
        var recording = ResumeRecording(reset: reset)
        recording.connections = consumed.connections
        recording.sentLastEventIDs = sent.withLock { $0 }
        recording.cut = cutter.cut
        recording.failure = consumed.lastFailure.map { "\($0)" }
        recording.observed = .now - start
        return recording
    }

    // MARK: The unknown Last-Event-ID

    private func askUnknownID(until deadline: ContinuousClock.Instant) async -> ResumeChecks.UnknownIDAnswer? {
        let start = ContinuousClock.now
        let head = Mutex<ResponseHead?>(nil)
        var configuration = self.configuration
        configuration.lastEventID = unknownID
        configuration.reconnect = .disabled
        configuration.endOfStream = .finish
        let hooks = EventSource.Hooks(classifyResponse: { response in
            head.withLock { $0 = response }
            return nil
        })
        let source = EventSource(url: url, configuration: configuration, hooks: hooks)
        let consumed = await Self.consume(source, until: deadline) { _ in
            // The answer is all this check needs.
            head.withLock { $0 != nil }
        }
        if let answer = head.withLock({ $0 }) {
            let type = answer.headers.value(for: "Content-Type").map(StreamChecks.mediaType)
            return .answered(status: answer.status, mediaType: type)
        }
        if let failure = consumed.failure ?? consumed.lastFailure { return .failed("\(failure)") }
        return .noAnswer(after: .now - start)
    }

    // MARK: Consuming

    private struct Consumed {
        /// Each opened stream's events.
        var connections: [[ServerSentEvent]] = []
        /// What ended the source with an error.
        var failure: EventSourceError?
        /// The last failure of a connection attempt.
        var lastFailure: EventSourceError?
        /// Whether the stream ended on its own (not closed at the deadline).
        var endedByServer = false
    }

    /// Reads `source` until `deadline`, its end, or `isEnough` says so (checked after each
    /// event and each opened stream), then closes it.
    private static func consume(
        _ source: EventSource,
        until deadline: ContinuousClock.Instant,
        isEnough: @escaping @Sendable ([[ServerSentEvent]]) -> Bool
    ) async -> Consumed {
        let timer = Task {
            try? await Task.sleep(until: deadline)
            source.close()
        }
        defer { timer.cancel() }
        var consumed = Consumed()
        var closing = false
        do throws(EventSourceError) {
            for try await update in source.updates {
                switch update {
                case .event(let event):
                    if consumed.connections.isEmpty { consumed.connections.append([]) }
                    consumed.connections[consumed.connections.count - 1].append(event)
                case .state(.open):
                    consumed.connections.append([])
                case .state(.disconnected(.failure(let error))):
                    consumed.lastFailure = error
                case .state(.finished(let error)):
                    consumed.failure = error
                    consumed.endedByServer = !closing && ContinuousClock.now < deadline
                default:
                    break
                }
                if !closing, case .state = update, isEnough(consumed.connections) {
                    closing = true
                    source.close()
                } else if !closing, case .event = update, isEnough(consumed.connections) {
                    closing = true
                    source.close()
                }
            }
        } catch {
            consumed.failure = error
        }
        source.close()
        return consumed
    }
}

/// Opens once; whoever waits before then is resumed.
private final class Gate: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func open() {
        let waiters = state.withLock { state in
            guard !state.isOpen else { return [CheckedContinuation<Void, Never>]() }
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { state in
                if !state.isOpen { state.waiters.append(continuation) }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
    }
}

/// Records the uninterrupted stream's head and reads, with their times, on the I/O thread.
private final class ReadRecorder: Sendable {
    private struct State {
        var headAt: ContinuousClock.Instant?
        var head: ResponseHead?
        var reads: [StreamRecording.Read] = []
        var recorded = 0
        var truncated = false
        var lastReadAt: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    var hooks: EventSource.Hooks {
        EventSource.Hooks(classifyResponse: { [self] head in
            state.withLock { state in
                if state.head == nil { (state.head, state.headAt) = (head, .now) }
            }
            return nil
        })
    }

    var probe: EventSource.ConnectionProbe {
        EventSource.ConnectionProbe { [self] bytes in
            let now = ContinuousClock.now
            state.withLock { state in
                let start = state.headAt ?? now
                state.lastReadAt = now
                if state.recorded + bytes.count <= limit {
                    state.reads.append(StreamRecording.Read(at: now - start, bytes: Array(bytes)))
                    state.recorded += bytes.count
                } else {
                    state.truncated = true
                }
            }
            return .take
        }
    }

    /// What was recorded, watched until `end` (or the last read, if later).
    func recording(at end: ContinuousClock.Instant) -> StreamRecording {
        state.withLock { state in
            var recording = StreamRecording()
            recording.head = state.head
            recording.reads = state.reads
            recording.truncated = state.truncated
            if let headAt = state.headAt {
                recording.observed = max(end, state.lastReadAt ?? end) - headAt
            }
            return recording
        }
    }
}

/// Drops a stream's first connection at a random byte after its second event with an id: the
/// number of bytes after it is `fraction` (in (0, 2]) of the average block so far, so the drop
/// falls inside a block as often as between two.
private final class Cutter: Sendable {
    private struct State {
        var scanner = StreamBlock.Scanner()
        var target: Int?
        var cut: ResumeRecording.Cut?
    }

    private let state = Mutex(State())
    private let reset: Bool
    private let fraction: Double

    init(reset: Bool, fraction: Double) {
        self.reset = reset
        self.fraction = fraction
    }

    var cut: ResumeRecording.Cut? { state.withLock { $0.cut } }

    var probe: EventSource.ConnectionProbe {
        EventSource.ConnectionProbe { [self] bytes in
            state.withLock { state in
                guard state.cut == nil else { return .take }
                for (index, byte) in bytes.enumerated() {
                    if let target = state.target, state.scanner.offset >= target {
                        state.cut = ResumeRecording.Cut(
                            bodyBytes: state.scanner.offset, intoBlock: state.scanner.bytesIntoBlock)
                        return .cut(after: index, reset: reset)
                    }
                    state.scanner.feed([byte], read: 0, at: .zero)
                    if state.target == nil, state.scanner.eventsWithID >= 2 {
                        let average = state.scanner.offset / max(1, state.scanner.blocks.count)
                        state.target = state.scanner.offset + max(1, Int(Double(average) * fraction))
                    }
                }
                return .take
            }
        }
    }
}

/// SplitMix64: a small seeded generator, so `--seed` repeats a run's drop points.
struct SplitMix64: Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    /// A number in (0, 2].
    mutating func nextFraction() -> Double {
        Double(next() >> 11 + 1) / Double(1 << 53) * 2
    }
}
