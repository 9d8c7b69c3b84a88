import SSEClient
import SSEParser
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The effects of a `load` run: the streams (each consumed by a task of its own, which runs on
/// the library's one I/O thread, ``EventSource/ioExecutor``), the deadline that closes them, the progress line, and the figures
/// gathered on the way. The accounting itself is ``StreamTally``; the report ``LoadReport``.
struct LoadRunner: Sendable {
    var url: String
    var configuration: EventSource.Configuration
    var connections: Int
    var ramp: Double?
    var duration: Duration
    var dropAfterEvents: Int?
    var reset: Bool
    var timestampField: JSONPath?
    /// Whether ``timestampField`` is only the default guess (the bundled test server's
    /// stamping): a stream whose first event has no stamp there is not searched again.
    var timestampFieldIsDefault = false
    /// Writes a progress line; `nil` for none.
    var progress: (@Sendable (_ line: String, _ final: Bool) -> Void)?

    /// One stream's outcome.
    struct Outcome: Sendable {
        var tally = StreamTally()
        var opened = false
        var failure: EventSourceError?
    }

    func run() async -> LoadReport {
        let baselineResident = ProcessFigures.residentBytes()
        let start = ContinuousClock.now
        let deadline = start + duration
        let shared = Shared(target: connections)
        let progressTask = progress.map { progress in
            Task {
                var previousEvents = 0
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    // Once the deadline closed the streams, the counts say nothing of the server.
                    if Task.isCancelled || shared.isClosed { break }
                    let figures = shared.figures
                    progress(figures.line(target: connections, eventsPerSecond: figures.events - previousEvents), false)
                    previousEvents = figures.events
                }
            }
        }
        // The streams are watched through `updates`: states kept for `states` would only grow
        // with the reconnects (11 KiB per stream after 8 of them, measured).
        var streamConfiguration = configuration
        streamConfiguration.maximumBufferedStates = 0
        let outcomes = await withTaskGroup(of: Outcome.self) { group in
            for index in 0..<connections {
                if let ramp {
                    let due = start + .seconds(Double(index) / ramp)
                    if due >= deadline { break }
                    if due > .now { try? await Task.sleep(until: due) }
                }
                let source = EventSource(url: url, configuration: streamConfiguration)
                guard shared.register(source) else { break }
                // Counting is light work: done on the I/O thread, with no hand-over per event.
                group.addTask(executorPreference: EventSource.ioExecutor) {
                    await self.consume(source, index: index, shared: shared)
                }
            }
            // The deadline closes every source; each task then returns its outcome.
            try? await Task.sleep(until: deadline)
            shared.closeAll()
            var outcomes: [Outcome] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        progressTask?.cancel()
        let elapsed = ContinuousClock.now - start
        let figures = shared.figures
        progress?("", true)
        return report(outcomes, figures: figures, elapsed: elapsed, baselineResident: baselineResident)
    }

    private func consume(_ source: EventSource, index: Int, shared: Shared) async -> Outcome {
        var outcome = Outcome()
        var random = SplitMix64(seed: UInt64(index) &* 0x9E37_79B9 &+ 1)
        func nextDrop() -> Int? {
            // About K events, spread over [K/2, 3K/2] so the streams do not drop in step.
            dropAfterEvents.map { max(1, Int(Double($0) * (0.5 + random.nextFraction() / 2))) }
        }
        var dropAt = nextDrop()
        var eventsOnConnection = 0
        var isOpen = false
        var connectingSince = ContinuousClock.now
        var awaitingFirstEvent = true
        // When an open stream was lost, until the first event of the connection that resumes it.
        var droppedAt: ContinuousClock.Instant?
        var stampPath = timestampField
        let started = ContinuousClock.now
        do throws(EventSourceError) {
            for try await update in source.updates {
                switch update {
                case .event(let event):
                    outcome.tally.received(id: event.id)
                    eventsOnConnection += 1
                    let now = ContinuousClock.now
                    if awaitingFirstEvent {
                        awaitingFirstEvent = false
                        shared.recordFirstEvent(now - started)
                    }
                    if let dropped = droppedAt {
                        droppedAt = nil
                        shared.recordResume(now - dropped)
                    }
                    let delivery = stampPath.flatMap { Self.delivery(of: event, at: $0) }
                    if delivery == nil, timestampFieldIsDefault { stampPath = nil }
                    shared.recordEvent(delivery: delivery)
                    if let due = dropAt, eventsOnConnection >= due {
                        dropAt = nextDrop()
                        source.reconnect(resettingConnection: reset)
                    }
                case .state(.connecting(_, _)):
                    connectingSince = .now
                    if outcome.opened { shared.recordReconnect() }
                case .state(.open):
                    if !outcome.opened { shared.recordConnect(ContinuousClock.now - connectingSince) }
                    outcome.opened = true
                    outcome.tally.connectionOpened()
                    eventsOnConnection = 0
                    isOpen = true
                    shared.opened()
                case .state(.disconnected(let reason)):
                    if isOpen {
                        shared.closed()
                        droppedAt = droppedAt ?? .now
                    }
                    isOpen = false
                    if case .failure(let error) = reason, !outcome.opened { outcome.failure = error }
                default:
                    break
                }
            }
        } catch {
            if !outcome.opened { outcome.failure = error }
        }
        if isOpen { shared.closed() }
        return outcome
    }

    /// The time from the event's stamp to now, when it carries one.
    private static func delivery(of event: ServerSentEvent, at path: JSONPath) -> Duration? {
        guard let text = path.value(in: event.data), let stamp = Double(text) else { return nil }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nowMicroseconds = Double(now.tv_sec) * 1e6 + Double(now.tv_nsec) / 1e3
        // Milliseconds since the epoch are about 1.7e12 today, microseconds about 1.7e15.
        let stampMicroseconds = stamp > 1e14 ? stamp : stamp * 1000
        return .microseconds(Int64(max(0, nowMicroseconds - stampMicroseconds)))
    }

    private func report(
        _ outcomes: [Outcome], figures: Shared.Figures, elapsed: Duration, baselineResident: Int
    ) -> LoadReport {
        var failures: [String: Int] = [:]
        for outcome in outcomes where !outcome.opened {
            let label: String
            if let status = outcome.failure?.status {
                label = "\(status)"
            } else {
                label = outcome.failure.map { $0.code.description } ?? "not opened in time"
            }
            failures[label, default: 0] += 1
        }
        let nonNumeric = outcomes.enumerated().first { $0.element.tally.nonNumericID != nil }
        let opened = outcomes.count { $0.opened }
        return LoadReport(
            url: StatusReporter.redactedURL(url),
            target: connections,
            opened: opened,
            failed: outcomes.count - opened + (connections - outcomes.count),
            peakOpen: figures.peakOpen,
            events: outcomes.reduce(0) { $0 + $1.tally.events },
            elapsed: elapsed,
            reconnects: figures.reconnects,
            lost: nonNumeric == nil ? outcomes.reduce(0) { $0 + $1.tally.lost } : nil,
            duplicated: nonNumeric == nil ? outcomes.reduce(0) { $0 + $1.tally.duplicated } : nil,
            unknownLossReason: nonNumeric.map {
                "stream \($0.offset + 1): id '\($0.element.tally.nonNumericID ?? "")' is not an integer"
            },
            failures: failures,
            connect: LoadReport.Percentiles(figures.connect),
            firstEvent: LoadReport.Percentiles(figures.firstEvent),
            delivery: LoadReport.Percentiles(figures.delivery),
            deliveryAllOpen: LoadReport.Percentiles(figures.deliveryAllOpen),
            resume: LoadReport.Percentiles(figures.resume),
            client: ProcessFigures.current(
                threadsAtPeak: figures.peakThreads, residentAtPeak: figures.peakResident,
                baselineResident: baselineResident)
        )
    }

    /// What the streams' tasks share: counters, histograms, and the sources for the deadline.
    final class Shared: Sendable {
        struct Figures: Sendable {
            var open = 0
            var peakOpen = 0
            var events = 0
            var reconnects = 0
            var registered = 0
            var peakThreads = 0
            var peakResident = 0
            var connect = LogHistogram()
            var firstEvent = LogHistogram()
            var delivery = LogHistogram()
            /// Whether every stream has been open at once: from then on, the ramp's connect
            /// storm no longer delays events.
            var allOpened = false
            /// The delivery latencies of the events received once ``allOpened``.
            var deliveryAllOpen = LogHistogram()
            /// From losing an open stream to the first event of the connection that resumed it.
            var resume = LogHistogram()

            func line(target: Int, eventsPerSecond: Int?) -> String {
                let opening = max(0, registered - open)
                var text = "load: \(open) open, \(opening) opening or reconnecting, \(target - registered) to start"
                if let eventsPerSecond { text += ", \(eventsPerSecond) events/s" }
                return text + ", \(events) events, \(reconnects) reconnects"
            }
        }

        private struct State {
            var figures = Figures()
            var sources: [EventSource] = []
            var closed = false
        }

        private let state = Mutex(State())
        /// How many streams the run keeps open.
        private let target: Int

        init(target: Int) {
            self.target = target
        }

        var figures: Figures { state.withLock { $0.figures } }

        /// Whether the deadline has closed the streams.
        var isClosed: Bool { state.withLock { $0.closed } }

        /// Keeps `source` for the deadline; `false` when the run is already over.
        func register(_ source: EventSource) -> Bool {
            state.withLock { state in
                guard !state.closed else { return false }
                state.sources.append(source)
                state.figures.registered += 1
                return true
            }
        }

        func closeAll() {
            let sources = state.withLock { state in
                state.closed = true
                // At the deadline, with every stream still open: the run's peak.
                state.figures.peakThreads = max(state.figures.peakThreads, ProcessFigures.threads())
                state.figures.peakResident = ProcessFigures.residentBytes()
                return state.sources
            }
            for source in sources { source.close() }
        }

        func opened() {
            state.withLock { state in
                state.figures.open += 1
                state.figures.peakOpen = max(state.figures.peakOpen, state.figures.open)
                if state.figures.open >= target { state.figures.allOpened = true }
            }
        }

        func closed() { state.withLock { $0.figures.open -= 1 } }
        func recordReconnect() { state.withLock { $0.figures.reconnects += 1 } }
        func recordConnect(_ duration: Duration) { record(duration, \.connect) }
        func recordFirstEvent(_ duration: Duration) { record(duration, \.firstEvent) }
        func recordResume(_ duration: Duration) { record(duration, \.resume) }

        func recordEvent(delivery: Duration?) {
            state.withLock { state in
                state.figures.events += 1
                guard let delivery else { return }
                let microseconds = Self.microseconds(delivery)
                state.figures.delivery.record(microseconds)
                if state.figures.allOpened { state.figures.deliveryAllOpen.record(microseconds) }
            }
        }

        private func record(_ duration: Duration, _ histogram: WritableKeyPath<Figures, LogHistogram>) {
            state.withLock { $0.figures[keyPath: histogram].record(Self.microseconds(duration)) }
        }

        private static func microseconds(_ duration: Duration) -> Int64 {
            let (seconds, attoseconds) = duration.components
            return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        }
    }
}

/// This process's resident memory, CPU time and threads, from `/proc` and `getrusage`.
enum ProcessFigures {
    static func current(threadsAtPeak: Int, residentAtPeak: Int, baselineResident: Int) -> LoadReport.Client {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        let cpu =
            Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let peak = max(residentAtPeak, residentBytes())
        return LoadReport.Client(
            residentBytes: peak, baselineResidentBytes: baselineResident, cpuSeconds: cpu,
            threads: max(threadsAtPeak, threads()))
    }

    /// Resident memory now (the second field of `/proc/self/statm`, in pages); 0 where unknown.
    static func residentBytes() -> Int {
        guard let text = read("/proc/self/statm") else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The threads of this process (the `Threads:` line of `/proc/self/status`); 0 where unknown.
    static func threads() -> Int {
        guard let text = read("/proc/self/status") else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("Threads:") {
            return Int(line.dropFirst("Threads:".count).trimmingASCIIWhitespace()) ?? 0
        }
        return 0
    }

    private static func read(_ path: String) -> String? {
        guard let bytes = try? FileIO.readFile(path, limit: 1 << 16) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
