import BenchSupport
import SSEClient

#if canImport(Glibc)
    import Glibc
#endif

/// `streams-bench`: a thousand EventSources in one process; threads, memory, CPU and latency.
@main
enum StreamsBench {
    static func main() async {
        DiscardingMetrics.bootstrapIfAsked()
        await benchmarkMain("streams-bench", Options.self) { options in
            let result = try await run(options)
            print(result.markdown, terminator: "")
            return result.problems.isEmpty
        }
    }

    static func run(_ options: Options) async throws -> Result {
        let fileLimit = ProcessStatistics.raiseFileLimit(to: options.streams * 2 + 256)
        guard fileLimit >= options.streams + 64 else {
            throw BenchmarkError("the open-file limit is \(fileLimit), too low for \(options.streams) streams")
        }
        let ticker = try CompiledProgram(source: BenchPaths.servers + "/ticker.c")
        defer { ticker.remove() }
        let server = try LocalServer.ticker(ticker)
        let pathAndQuery = "/?interval_us=\(options.intervalMilliseconds * 1000)&pad=\(options.padding)&phase=spread"
        let url = server.url(pathAndQuery)
        var result = Result(options: options, loadAtStart: loadAverage())

        // The cooperative pool's threads start on first use: start them before the baseline.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { _ = Clock.nanoseconds() } }
        }
        result.snapshots.append(.now(streams: 0))

        let progress = Progress()
        var sources: [EventSource] = []
        let ramp = Set([1, 10, 100, options.streams].filter { $0 <= options.streams }).sorted()
        let interval = Double(options.intervalMilliseconds) / 1000
        let perStream = try await withThrowingTaskGroup(of: [Delivery].self) { group in
            for target in ramp {
                while sources.count < target {
                    let source = EventSource(url: url)
                    sources.append(source)
                    group.addTask { try await consume(source, progress: progress) }
                }
                try await waitUntilOpen(target, progress: progress)
                // One more interval, so that every stream has been through a whole cycle, then
                // two more to see the CPU time per event at this number of streams.
                try await Task.sleep(for: .seconds(max(1, interval)))
                let cpuStart = ProcessStatistics.cpuSeconds()
                let eventsStart = progress.events.load(ordering: .relaxed)
                try await Task.sleep(for: .seconds(2 * max(1, interval)))
                var snapshot = Snapshot.now(streams: target)
                snapshot.cpuSeconds = ProcessStatistics.cpuSeconds() - cpuStart
                snapshot.events = progress.events.load(ordering: .relaxed) - eventsStart
                result.snapshots.append(snapshot)
                printError("streams-bench: \(target) streams open, \(result.snapshots.last!.threads) threads")
            }

            printError("streams-bench: measuring \(options.streams) streams for \(fixed(options.seconds, 0)) s")
            var window = Window(start: Clock.nanoseconds())
            let cpuStart = ProcessStatistics.cpuSeconds()
            let eventsStart = progress.events.load(ordering: .relaxed)
            let end = Clock.seconds() + options.seconds
            while Clock.seconds() < end {
                try await Task.sleep(for: .milliseconds(min(1000, Int((end - Clock.seconds()) * 1000) + 1)))
                window.maximumThreads = max(window.maximumThreads, ProcessStatistics.threadCount())
                window.maximumResidentBytes = max(window.maximumResidentBytes, ProcessStatistics.residentBytes())
            }
            window.end = Clock.nanoseconds()
            window.cpuSeconds = ProcessStatistics.cpuSeconds() - cpuStart
            window.events = progress.events.load(ordering: .relaxed) - eventsStart
            result.window = window

            for source in sources { source.close() }
            var all: [[Delivery]] = []
            for try await part in group { all.append(part) }
            return all
        }
        result.floor = try measureFloor(options, port: server.port, pathAndQuery: pathAndQuery)
        result.serverCPUSeconds = server.stop()
        result.loadAtEnd = loadAverage()
        result.record(perStream)
        return result
    }

    /// The C floor on the same server: as many raw connections, `epoll_wait` + `read` and
    /// nothing else, measured for as long as the EventSources were (after a warm-up).
    static func measureFloor(_ options: Options, port: Int, pathAndQuery: String) throws -> Floor {
        let program = try CompiledProgram(source: BenchPaths.clients + "/epoll_floor.c")
        defer { program.remove() }
        let warmup = max(2, 2 * Double(options.intervalMilliseconds) / 1000)
        printError(
            "streams-bench: the C floor (epoll_wait + read) on \(options.streams) connections for "
                + "\(fixed(options.seconds, 0)) s")
        let output = try runProgram([
            program.path, "\(port)", pathAndQuery, "\(options.streams)", "\(warmup)", "\(options.seconds)",
        ])
        var fields: [String: String] = [:]
        for pair in output.standardOutput.split(whereSeparator: \.isWhitespace) {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let events = fields["events"].flatMap({ Int($0) }), let cpu = fields["cpu_seconds"].flatMap(Double.init),
            events > 0
        else {
            throw BenchmarkError("the C floor failed: \(output.standardOutput) \(output.standardError)")
        }
        return Floor(events: events, cpuSeconds: cpu)
    }

    /// Waits until `count` streams have received their first event (at most a minute).
    static func waitUntilOpen(_ count: Int, progress: Progress) async throws {
        let deadline = Clock.seconds() + 60
        while progress.openStreams.load(ordering: .relaxed) < count {
            guard Clock.seconds() < deadline else {
                throw BenchmarkError(
                    "only \(progress.openStreams.load(ordering: .relaxed)) of \(count) streams "
                        + "received an event within 60 s")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// What the C floor measured: events and CPU seconds within its window.
struct Floor {
    var events: Int
    var cpuSeconds: Double

    /// Milliseconds of CPU per 1,000 events.
    var cpuPerThousandEvents: Double { cpuSeconds / Double(events) * 1e6 }
}

/// A point of the ramp: how many streams were open, and what the process held then.
struct Snapshot {
    var streams: Int
    var threads: Int
    var residentBytes: Int
    /// CPU seconds and events over two intervals at this number of streams.
    var cpuSeconds = 0.0
    var events = 0

    static func now(streams: Int) -> Snapshot {
        Snapshot(
            streams: streams, threads: ProcessStatistics.threadCount(),
            residentBytes: ProcessStatistics.residentBytes())
    }
}

/// The measured interval with all streams open.
struct Window {
    var start: UInt64
    var end: UInt64 = 0
    var cpuSeconds = 0.0
    var events = 0
    var maximumThreads = 0
    var maximumResidentBytes = 0

    var seconds: Double { Double(end - start) / 1e9 }
}
