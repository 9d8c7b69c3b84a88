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
            if options.comparesHTTP2 {
                let comparison = try compareHTTP2(options)
                print(comparison.markdown, terminator: "")
                return comparison.problems.isEmpty
            }
            let result = try await run(options)
            print(result.markdown, terminator: "")
            if options.url != nil { print(result.summaryLine) }
            return result.problems.isEmpty
        }
    }

    /// The ticker's path and query for `options`.
    static func pathAndQuery(_ options: Options) -> String {
        "/?interval_us=\(options.intervalMilliseconds * 1000)&pad=\(options.padding)&phase=spread"
    }

    static func run(_ options: Options) async throws -> Result {
        let fileLimit = ProcessStatistics.raiseFileLimit(to: options.streams * 2 + 256)
        guard fileLimit >= options.streams + 64 else {
            throw BenchmarkError("the open-file limit is \(fileLimit), too low for \(options.streams) streams")
        }
        if let base = options.url {
            var configuration = EventSource.Configuration()
            configuration.tls.caFile = options.caFile
            configuration.transport.httpVersion =
                switch options.httpVersion {
                case "1.1": .http1_1
                case "2": .http2
                default: .automatic
                }
            var result = try await measure(options, url: base + pathAndQuery(options), configuration: configuration)
            result.label = "\(base), HTTP/\(options.httpVersion ?? "default")"
            result.loadAtEnd = loadAverage()
            return result
        }
        let ticker = try CompiledProgram(source: BenchPaths.servers + "/ticker.c")
        defer { ticker.remove() }
        let server = try LocalServer.ticker(ticker)
        var result = try await measure(options, url: server.url(pathAndQuery(options)), configuration: .init())
        result.floor = try measureFloor(.raw, options, port: server.port, pathAndQuery: pathAndQuery(options))
        result.curlFloor = try measureFloor(.libcurl, options, port: server.port, pathAndQuery: pathAndQuery(options))
        if options.runsPeers {
            for peer in ["aiohttp", "httpx-sse"] {
                result.peers.append(measurePeer(peer, options, port: server.port, pathAndQuery: pathAndQuery(options)))
            }
        }
        result.serverCPUSeconds = server.stop()
        result.loadAtEnd = loadAverage()
        return result
    }

    /// HTTP/1.1 and HTTP/2 through one nginx (TLS) in front of one ticker.c, each measured by a
    /// fresh process of this program (`--url`), so that neither inherits the other's heap.
    static func compareHTTP2(_ options: Options) throws -> Comparison {
        let ticker = try CompiledProgram(source: BenchPaths.servers + "/ticker.c")
        defer { ticker.remove() }
        let server = try LocalServer.ticker(ticker)
        defer { server.stop() }
        let nginx = try NginxFront(.proxy(upstreamPort: server.port))
        defer { nginx.stop() }
        var comparison = Comparison(options: options)
        for version in ["1.1", "2"] {
            printError("streams-bench: \(options.streams) streams over HTTP/\(version) through nginx")
            let output = try runProgram([
                "/proc/self/exe", "--url", nginx.url(""), "--cacert", nginx.certificatePath, "--http-version", version,
                "--streams", "\(options.streams)", "--seconds", "\(options.seconds)",
                "--interval-ms", "\(options.intervalMilliseconds)", "--pad", "\(options.padding)",
                "--ramp-step", "\(options.rampStep ?? 100)",
            ])
            let progress = output.standardError.split(separator: "\n").joined(separator: "\n")
            if !progress.isEmpty { printError(progress) }
            guard let summary = Summary(output.standardOutput) else {
                throw BenchmarkError("the HTTP/\(version) run failed: \(output.standardOutput)")
            }
            comparison.reports.append(output.standardOutput.split(separator: "\nsummary ")[0] + "\n")
            comparison.summaries.append(summary)
        }
        return comparison
    }

    /// Opens `options.streams` sources of `url` with `configuration`, stepping up 1, 10, 100, …,
    /// then measures them all for `options.seconds`.
    static func measure(_ options: Options, url: String, configuration: EventSource.Configuration) async throws
        -> Result
    {
        var result = Result(options: options, loadAtStart: loadAverage())

        // The cooperative pool's threads start on first use: start them before the baseline.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { _ = Clock.nanoseconds() } }
        }
        result.snapshots.append(.now(streams: 0))

        let progress = Progress()
        var sources: [EventSource] = []
        let measured = Set([1, 10, 100, options.streams].filter { $0 <= options.streams })
        // With --ramp-step, the streams open that many at a time between the measured points.
        let steps = options.rampStep.map { Set(stride(from: $0, to: options.streams, by: $0)) } ?? []
        let ramp = measured.union(steps).sorted()
        let interval = Double(options.intervalMilliseconds) / 1000
        let perStream = try await withThrowingTaskGroup(of: [Delivery].self) { group in
            for target in ramp {
                while sources.count < target {
                    let source = EventSource(url: url, configuration: configuration)
                    sources.append(source)
                    group.addTask(executorPreference: options.consumesOnIOThread ? EventSource.ioExecutor : nil) {
                        try await consume(source, progress: progress)
                    }
                }
                try await waitUntilOpen(target, progress: progress)
                guard measured.contains(target) else { continue }
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
            // Counted after the CPU window: reading a thousand /proc/self/fd links is not the
            // client's work.
            window.maximumSockets = ProcessStatistics.socketCount()
            window.events = progress.events.load(ordering: .relaxed) - eventsStart
            result.window = window

            for source in sources { source.close() }
            var all: [[Delivery]] = []
            for try await part in group { all.append(part) }
            return all
        }
        result.record(perStream)
        return result
    }

    /// A floor in C on the same server, as many streams, measured for as long as the
    /// EventSources were (after a warm-up).
    static func measureFloor(_ kind: Floor.Kind, _ options: Options, port: Int, pathAndQuery: String) throws -> Floor {
        let program =
            switch kind {
            case .raw: try CompiledProgram(source: BenchPaths.clients + "/epoll_floor.c")
            case .libcurl: try CompiledProgram(source: BenchPaths.clients + "/curl_floor.c", libraries: ["curl"])
            }
        defer { program.remove() }
        let warmup = max(2, 2 * Double(options.intervalMilliseconds) / 1000)
        printError(
            "streams-bench: the \(kind.name) on \(options.streams) connections for \(fixed(options.seconds, 0)) s")
        let output = try runProgram([
            program.path, "\(port)", pathAndQuery, "\(options.streams)", "\(warmup)", "\(options.seconds)",
        ])
        let fields = keyValues(in: output.standardOutput)
        guard let events = fields["events"].flatMap({ Int($0) }), let cpu = fields["cpu_seconds"].flatMap(Double.init),
            events > 0
        else {
            throw BenchmarkError("the \(kind.name) failed: \(output.standardOutput) \(output.standardError)")
        }
        var floor = Floor(events: events, cpuSeconds: cpu)
        if let before = fields["rss_before"].flatMap(Double.init), let all = fields["rss_all"].flatMap(Double.init) {
            floor.residentBytesPerStream = (all - before) / Double(options.streams)
        }
        return floor
    }

    /// A Python peer (`Clients/peers.py KIND`) on the same server, as many streams, measured as long.
    static func measurePeer(_ kind: String, _ options: Options, port: Int, pathAndQuery: String) -> Peer {
        let warmup = max(2, 2 * Double(options.intervalMilliseconds) / 1000)
        printError("streams-bench: \(kind) (Python asyncio) on \(options.streams) streams")
        do {
            let output = try runProgram([
                "python3", BenchPaths.clients + "/peers.py", kind, "\(port)", pathAndQuery, "\(options.streams)",
                "\(warmup)", "\(options.seconds)",
            ])
            let fields = keyValues(in: output.standardOutput).compactMapValues(Double.init)
            guard output.termination.status == 0, fields["events"] != nil else {
                let reason = output.standardError.split(separator: "\n").last.map(String.init) ?? "no output"
                return Peer(name: kind, fields: [:], failure: reason)
            }
            return Peer(name: kind, fields: fields, failure: nil)
        } catch {
            return Peer(name: kind, fields: [:], failure: "\(error)")
        }
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

/// What a Python peer measured (``StreamsBench/measurePeer(_:_:port:pathAndQuery:)``), or why not.
struct Peer {
    var name: String
    var fields: [String: Double]
    var failure: String?

    subscript(_ key: String) -> Double { fields[key] ?? .nan }

    var cpuPerThousandEvents: Double { self["cpu_seconds"] / self["events"] * 1e6 }
    var residentBytesPerStream: Double { (self["rss_all"] - self["rss_before"]) / max(1, self["opened"]) }
}

/// What a floor in C measured: events and CPU seconds within its window.
struct Floor {
    /// Which floor.
    enum Kind {
        /// `epoll_floor.c`: raw sockets, `epoll_wait` + `read`, nothing else.
        case raw
        /// `curl_floor.c`: libcurl's multi-socket interface over epoll with EventSource's
        /// transfer options, a write callback that only counts.
        case libcurl

        var name: String {
            switch self {
            case .raw: "C floor (epoll_wait + read)"
            case .libcurl: "libcurl floor (multi-socket over epoll, counting callback)"
            }
        }
    }

    var events: Int
    var cpuSeconds: Double
    /// Resident bytes per stream, (all − none) / streams, where the floor measures it.
    var residentBytesPerStream: Double?

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
    /// The sockets open at the end of the window: the connections.
    var maximumSockets = 0

    var seconds: Double { Double(end - start) / 1e9 }
}
