import BenchSupport
import SSEClient
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `soak-bench`: resident memory over a long run of continuous streaming with periodic drops.
@main
enum SoakBench {
    static func main() async {
        await benchmarkMain("soak-bench", Options.self) { options in
            let report = try await run(options)
            print(report.markdown, terminator: "")
            return report.problems.isEmpty
        }
    }

    /// Reconnect at once: the drops are the point, waiting between them is not.
    static let immediate = ReconnectPolicy(
        initialDelay: .zero, jitter: 0, minimumRepeatDelay: .zero)

    static func run(_ options: Options) async throws -> Report {
        let paths = try BenchPaths.locate()
        let corpus = try Corpus.prepare(profile: "mixed", size: "4M", in: options.corpusDirectory, paths: paths)
        let blast = try CompiledProgram(source: paths.shared("blast.c"))
        let ticker = try CompiledProgram(source: BenchPaths.servers + "/ticker.c")
        defer {
            blast.remove()
            ticker.remove()
        }
        let blastServer = try LocalServer.blast(blast, corpus: corpus)
        let tickerServer = try LocalServer.ticker(ticker)
        defer {
            blastServer.stop()
            tickerServer.stop()
        }

        var report = Report(options: options, loadAtStart: loadAverage())
        let configuration = EventSource.Configuration(reconnect: immediate)
        var sources = [
            EventSource(url: blastServer.url("/?n=1"), configuration: configuration),
            EventSource(url: blastServer.url("/?n=1"), configuration: configuration),
        ]
        for index in 0..<options.tickerStreams {
            let drop = index % 2 == 0 ? "fin" : "rst"
            sources.append(
                EventSource(
                    url: tickerServer.url("/?interval_us=1000&drop_after=2000&drop=\(drop)&pad=160"),
                    configuration: configuration))
        }
        let churned = Counter()
        let churnURL = tickerServer.url("/?interval_us=1000&pad=32")
        let start = Clock.seconds()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, source) in sources.enumerated() {
                let pauses = index == 1
                group.addTask {
                    var events = 0
                    for try await _ in source.events {
                        events += 1
                        if pauses && events % 1000 == 0 { try await Task.sleep(for: .milliseconds(5)) }
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    let source = EventSource(url: churnURL)
                    var events = 0
                    for try await _ in source.events {
                        events += 1
                        if events == 5 { break }
                    }
                    churned.value.add(1, ordering: .relaxed)
                    try await Task.sleep(for: .milliseconds(200))
                }
            }

            var nextReport = start + 10
            while Clock.seconds() - start < options.seconds {
                try await Task.sleep(for: .seconds(1))
                let elapsed = Clock.seconds() - start
                report.samples.append(
                    Report.Sample(
                        seconds: elapsed, residentBytes: ProcessStatistics.residentBytes(),
                        threads: ProcessStatistics.threadCount()))
                if Clock.seconds() >= nextReport {
                    nextReport += 10
                    let resident = Double(report.samples.last!.residentBytes) / 1_048_576
                    printError("soak-bench: \(fixed(elapsed, 0)) s, resident \(fixed(resident, 1)) MiB")
                }
            }
            for source in sources { source.close() }
            group.cancelAll()
            do {
                for try await _ in group {}
            } catch is CancellationError {
                // The churn task's sleep, cancelled.
            }
        }
        report.cpuSeconds = ProcessStatistics.cpuSeconds()
        report.churnedSources = churned.value.load(ordering: .relaxed)
        for source in sources {
            let metrics = source.metrics
            report.events += metrics.events
            report.bytes += metrics.bytes
            report.reconnects += metrics.totalReconnects
            report.pauses += metrics.pauses
        }
        report.loadAtEnd = loadAverage()
        return report
    }
}

/// A counter tasks can share.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
