import BenchSupport

/// Everything `streams-bench` measured, and its Markdown report.
struct Result {
    var options: Options
    /// What was measured, when not ticker.c directly.
    var label: String?
    var loadAtStart: String
    var loadAtEnd = "?"
    var snapshots: [Snapshot] = []
    var window = Window(start: 0)
    var serverCPUSeconds = 0.0
    /// The C floor (`epoll_floor.c`) on the same server, afterwards.
    var floor: Floor?
    /// The libcurl floor (`curl_floor.c`) on the same server, after the C floor.
    var curlFloor: Floor?
    /// The Python peers on the same server, after the floor (`--peers`).
    var peers: [Peer] = []
    /// Delivery latencies in milliseconds of the events received within the window.
    var latencies = Distribution([])
    /// The fewest events one stream received within the window.
    var fewestEventsPerStream = 0
    var problems: [String] = []

    /// Keeps the deliveries that fell within the window.
    mutating func record(_ perStream: [[Delivery]]) {
        var inWindow: [Double] = []
        var fewest = Int.max
        for deliveries in perStream {
            var count = 0
            for delivery in deliveries where delivery.receivedAt >= window.start && delivery.receivedAt <= window.end {
                inWindow.append(Double(delivery.latencyNanoseconds) / 1e6)
                count += 1
            }
            fewest = min(fewest, count)
        }
        latencies = Distribution(inWindow)
        fewestEventsPerStream = perStream.isEmpty ? 0 : fewest
        if fewestEventsPerStream == 0 {
            problems.append("a stream received no event while measuring")
        }
    }

    var markdown: String {
        let streams = options.streams
        let before = snapshots.first!
        let all = snapshots.last!
        let one = snapshots.first { $0.streams == 1 } ?? all
        let perStream = Double(all.residentBytes - before.residentBytes) / Double(streams)
        let marginal =
            all.streams > one.streams
            ? Double(all.residentBytes - one.residentBytes) / Double(all.streams - one.streams) : perStream
        let expectedEvents = Double(streams) * window.seconds * 1000 / Double(options.intervalMilliseconds)
        let cpuPerThousand = window.events > 0 ? window.cpuSeconds / Double(window.events) * 1000 : .nan
        let addedThreads = window.maximumThreads - before.threads

        var text = "## streams-bench: \(grouped(streams)) EventSources in one process (\(label ?? "ticker.c"))\n\n"
        text += "Each consumer task runs \(consumers).\n\n"
        text += "One \(90 + options.padding)-byte event per stream every \(options.intervalMilliseconds) ms, "
        text += "spread evenly; measured for \(fixed(window.seconds, 1)) s with all streams open; "
        text += "load average \(loadAtStart) at the start, \(loadAtEnd) at the end.\n\n"

        var ramp = MarkdownTable(["streams open", "OS threads", "resident MiB", "CPU per 1,000 events"])
        for snapshot in snapshots {
            ramp.add([
                grouped(snapshot.streams), String(snapshot.threads),
                fixed(Double(snapshot.residentBytes) / 1_048_576, 1),
                snapshot.events > 0 ? fixed(snapshot.cpuSeconds / Double(snapshot.events) * 1e6, 1) + " ms" : "–",
            ])
        }
        ramp.add([
            "\(grouped(streams)), measuring (max)", String(window.maximumThreads),
            fixed(Double(window.maximumResidentBytes) / 1_048_576, 1),
            fixed(cpuPerThousand * 1000, 1) + " ms",
        ])
        text += ramp.text + "\n"

        var figures = MarkdownTable(["figure", "value"])
        figures.add([
            "events received while measuring", "\(grouped(window.events)) (expected ≈ \(grouped(Int(expectedEvents))))",
        ])
        figures.add(["fewest events on one stream", grouped(fewestEventsPerStream)])
        figures.add(["sockets open at the end of the window: the connections", grouped(window.maximumSockets)])
        figures.add(["OS threads added by the library (max while measuring − before)", String(addedThreads)])
        figures.add([
            "resident memory per stream, (all − none) / \(grouped(streams))", fixed(perStream / 1024, 1) + " KiB",
        ])
        figures.add([
            "resident memory per stream after the first, (all − one) / \(grouped(all.streams - one.streams))",
            fixed(marginal / 1024, 1) + " KiB",
        ])
        figures.add(["client CPU per 1,000 events", fixed(cpuPerThousand * 1000, 1) + " ms"])
        figures.add(["client CPU, share of one core", fixed(window.cpuSeconds / window.seconds * 100, 1) + " %"])
        if let floor {
            figures.add([
                "C floor CPU per 1,000 events (epoll_wait + read, \(grouped(streams)) connections, same server)",
                fixed(floor.cpuPerThousandEvents, 1) + " ms",
            ])
            figures.add([
                "client CPU per event ÷ the C floor's",
                fixed(cpuPerThousand * 1000 / floor.cpuPerThousandEvents, 2) + "×",
            ])
        }
        if let curlFloor, let floor {
            figures.add([
                "libcurl floor CPU per 1,000 events (libcurl multi-socket over epoll, EventSource's options, "
                    + "a counting write callback)",
                fixed(curlFloor.cpuPerThousandEvents, 1) + " ms",
            ])
            figures.add([
                "the libcurl floor ÷ the C floor: libcurl's own cost",
                fixed(curlFloor.cpuPerThousandEvents / floor.cpuPerThousandEvents, 2) + "×",
            ])
            figures.add([
                "client CPU per event ÷ the libcurl floor's: parsing and delivery",
                fixed(cpuPerThousand * 1000 / curlFloor.cpuPerThousandEvents, 2) + "×",
            ])
            if let curlMemory = curlFloor.residentBytesPerStream {
                figures.add([
                    "libcurl floor resident memory per stream, (all − none) / \(grouped(streams))",
                    fixed(curlMemory / 1024, 1) + " KiB",
                ])
            }
        }
        figures.add(["server (ticker.c) CPU, whole run", fixed(serverCPUSeconds, 2) + " s"])
        figures.add(["delivery latency p50", fixed(latencies.median, 3) + " ms"])
        figures.add(["delivery latency p90", fixed(latencies.percentile(90), 3) + " ms"])
        figures.add(["delivery latency p99", fixed(latencies.percentile(99), 3) + " ms"])
        figures.add([
            "delivery latency p99.9 / max",
            fixed(latencies.percentile(99.9), 3) + " / " + fixed(latencies.maximum, 3) + " ms",
        ])
        text += figures.text + "\n"

        if !peers.isEmpty, let floor {
            text += "### The same job, the same server, the same run\n\n"
            var table = MarkdownTable([
                "client", "streams open", "resident per stream", "CPU per 1,000 events", "× the C floor",
                "× EventSource", "p99 delivery",
            ])
            let ours = cpuPerThousand * 1000
            table.add([
                "EventSource (this library), \(consumers)", grouped(streams), fixed(perStream / 1024, 1) + " KiB",
                fixed(ours, 1) + " ms",
                fixed(ours / floor.cpuPerThousandEvents, 2) + "×", "1.00×", fixed(latencies.percentile(99), 3) + " ms",
            ])
            table.add([
                "C floor (epoll_wait + read)", grouped(streams), "–", fixed(floor.cpuPerThousandEvents, 1) + " ms",
                "1.00×",
                fixed(floor.cpuPerThousandEvents / ours, 2) + "×", "–",
            ])
            if let curlFloor {
                table.add([
                    "libcurl floor (counting write callback)", grouped(streams),
                    curlFloor.residentBytesPerStream.map { fixed($0 / 1024, 1) + " KiB" } ?? "–",
                    fixed(curlFloor.cpuPerThousandEvents, 1) + " ms",
                    fixed(curlFloor.cpuPerThousandEvents / floor.cpuPerThousandEvents, 2) + "×",
                    fixed(curlFloor.cpuPerThousandEvents / ours, 2) + "×", "–",
                ])
            }
            for peer in peers {
                if let failure = peer.failure {
                    table.add([peer.name, "failed: \(failure)", "", "", "", "", ""])
                    continue
                }
                table.add([
                    "Python asyncio + \(peer.name)", grouped(Int(peer["opened"])),
                    fixed(peer.residentBytesPerStream / 1024, 1) + " KiB", fixed(peer.cpuPerThousandEvents, 1) + " ms",
                    fixed(peer.cpuPerThousandEvents / floor.cpuPerThousandEvents, 2) + "×",
                    fixed(peer.cpuPerThousandEvents / ours, 2) + "×", fixed(peer["p99_ms"], 3) + " ms",
                ])
            }
            text += table.text + "\n"
        }

        var targets = MarkdownTable(["target (issue 6)", "measured", "verdict"])
        let threadsConstant = snapshotsShowConstantThreads
        targets.add([
            "OS threads: a constant, not per stream",
            "\(snapshots.map { String($0.threads) }.joined(separator: " → ")) for \(snapshots.map { grouped($0.streams) }.joined(separator: " → ")) streams",
            verdict(threadsConstant),
        ])
        targets.add([
            "resident memory per stream < 64 KiB", fixed(perStream / 1024, 1) + " KiB", verdict(perStream < 64 * 1024),
        ])
        targets.add([
            "p99 delivery latency < 5 ms", fixed(latencies.percentile(99), 3) + " ms",
            verdict(latencies.percentile(99) < 5),
        ])
        text += targets.text
        if !problems.isEmpty {
            text += "\n### PROBLEMS\n\n" + problems.map { "- \($0)\n" }.joined()
        }
        return text
    }

    /// Where the consumer tasks run (`--consumers`).
    private var consumers: String {
        options.consumesOnIOThread ? "on the I/O thread (EventSource.ioExecutor)" : "on the global concurrent pool"
    }

    /// Resident memory per stream, (all − none) / streams, in bytes.
    var residentBytesPerStream: Double {
        Double(snapshots.last!.residentBytes - snapshots.first!.residentBytes) / Double(options.streams)
    }

    /// The figures another process reads back (``Summary``), as one line of `key=value` pairs.
    var summaryLine: String {
        let cpuPerThousand = window.events > 0 ? window.cpuSeconds / Double(window.events) * 1e6 : .nan
        return "summary streams=\(options.streams) connections=\(window.maximumSockets) "
            + "rss_per_stream=\(Int(residentBytesPerStream)) cpu_ms_per_1000=\(cpuPerThousand) "
            + "p50_ms=\(latencies.median) p99_ms=\(latencies.percentile(99)) events=\(window.events) "
            + "threads=\(window.maximumThreads) problems=\(problems.count)"
    }

    /// Whether the thread count with all streams open is within two of the count with one: the
    /// library's I/O thread is one, whatever the number of streams; a thread or two of the
    /// runtime's may come and go.
    private var snapshotsShowConstantThreads: Bool {
        guard let one = snapshots.first(where: { $0.streams == 1 }) else { return false }
        return window.maximumThreads <= one.threads + 2
    }
}

/// The figures of one `--url` run, read back from its ``Result/summaryLine``.
struct Summary {
    var fields: [String: Double]

    /// Parses the `summary …` line of a run's output; `nil` without one.
    init?(_ output: String) {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("summary ") }) else { return nil }
        fields = keyValues(in: line.dropFirst(8)).compactMapValues(Double.init)
    }

    subscript(_ key: String) -> Double { fields[key] ?? .nan }
}

/// `--http2-versus-http1`: the two runs' reports, then their figures side by side.
struct Comparison {
    var options: Options
    var reports: [String] = []
    /// HTTP/1.1's, then HTTP/2's.
    var summaries: [Summary] = []

    var problems: [String] {
        summaries.count == 2 && summaries.allSatisfy({ $0["problems"] == 0 }) ? [] : ["a run had problems"]
    }

    var markdown: String {
        var text = reports.joined(separator: "\n")
        guard summaries.count == 2 else { return text }
        let (h1, h2) = (summaries[0], summaries[1])
        text += "\n## HTTP/2 against HTTP/1.1: \(grouped(options.streams)) streams through nginx (TLS) to ticker.c\n\n"
        var table = MarkdownTable(["figure", "HTTP/1.1", "HTTP/2", "HTTP/2 ÷ HTTP/1.1"])
        func row(_ name: String, _ key: String, scale: Double = 1, digits: Int, unit: String) {
            let (a, b) = (h1[key] * scale, h2[key] * scale)
            table.add([name, fixed(a, digits) + unit, fixed(b, digits) + unit, fixed(b / a, 2) + "×"])
        }
        row("TCP connections", "connections", digits: 0, unit: "")
        row("resident memory per stream", "rss_per_stream", scale: 1.0 / 1024, digits: 1, unit: " KiB")
        row("client CPU per 1,000 events", "cpu_ms_per_1000", digits: 1, unit: " ms")
        row("delivery latency p50", "p50_ms", digits: 3, unit: " ms")
        row("delivery latency p99", "p99_ms", digits: 3, unit: " ms")
        row("events received while measuring", "events", digits: 0, unit: "")
        text += table.text
        return text
    }
}
