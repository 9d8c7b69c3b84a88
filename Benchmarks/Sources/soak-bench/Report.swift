import BenchSupport

/// The Markdown report of `soak-bench`.
struct Report {
    /// One sample of the process, once a second.
    struct Sample {
        var seconds: Double
        var residentBytes: Int
        var threads: Int
    }

    var options: Options
    var loadAtStart: String
    var loadAtEnd = "?"
    var samples: [Sample] = []
    var cpuSeconds = 0.0
    var events = 0
    var bytes = 0
    var reconnects = 0
    var pauses = 0
    var churnedSources = 0

    /// The samples after the warm-up.
    var measured: [Sample] { samples.filter { $0.seconds >= options.warmUp } }

    /// How much the resident memory may grow after the warm-up and still count as flat.
    static let allowedGrowth = 2 * 1_048_576

    var problems: [String] {
        var problems: [String] = []
        if measured.count < 2 { problems.append("fewer than two samples after the warm-up") }
        if reconnects == 0 { problems.append("no reconnect happened") }
        if pauses == 0 { problems.append("the slow consumer never paused a transfer") }
        return problems
    }

    /// The least-squares slope of resident memory over time after the warm-up, in bytes per minute.
    var slopePerMinute: Double {
        let points = measured
        guard points.count >= 2 else { return .nan }
        let n = Double(points.count)
        let meanX = points.map(\.seconds).reduce(0, +) / n
        let meanY = points.map { Double($0.residentBytes) }.reduce(0, +) / n
        var covariance = 0.0
        var variance = 0.0
        for point in points {
            covariance += (point.seconds - meanX) * (Double(point.residentBytes) - meanY)
            variance += (point.seconds - meanX) * (point.seconds - meanX)
        }
        return variance > 0 ? covariance / variance * 60 : .nan
    }

    var markdown: String {
        func mebibytes(_ bytes: Int) -> String { fixed(Double(bytes) / 1_048_576, 1) + " MiB" }
        let points = measured
        var text = "## soak-bench: resident memory over \(fixed(options.minutes, 1)) min\n\n"
        text += "Load average \(loadAtStart) at the start, \(loadAtEnd) at the end; warm-up "
        text += "\(fixed(options.warmUp, 0)) s; 2 blast.c streams (one with a slow consumer), "
        text += "\(options.tickerStreams) ticker.c streams, and a new short-lived source every 200 ms.\n\n"
        var table = MarkdownTable(["figure", "value"])
        if let first = points.first, let last = points.last {
            let peak = points.map(\.residentBytes).max() ?? 0
            table.add(["resident after the warm-up (\(fixed(first.seconds, 0)) s)", mebibytes(first.residentBytes)])
            table.add(["resident at the end (\(fixed(last.seconds, 0)) s)", mebibytes(last.residentBytes)])
            table.add(["peak after the warm-up", mebibytes(peak)])
            table.add(["trend after the warm-up (least squares)", fixed(slopePerMinute / 1024, 1) + " KiB/min"])
            table.add([
                "OS threads after the warm-up / at the end", "\(first.threads) / \(last.threads)",
            ])
        }
        table.add(["events received", grouped(events)])
        table.add(["body bytes received", fixed(Double(bytes) / 1e6, 0) + " MB"])
        table.add(["reconnects (drops)", grouped(reconnects)])
        table.add(["transfers paused for the slow consumer", grouped(pauses)])
        table.add(["short-lived sources created and closed", grouped(churnedSources)])
        table.add(["process CPU, whole run", fixed(cpuSeconds, 1) + " s"])
        text += table.text
        if let first = points.first, let last = points.last {
            let growth = last.residentBytes - first.residentBytes
            var targets = MarkdownTable(["target (issue 6)", "measured", "verdict"])
            targets.add([
                "resident memory flat after the warm-up (end − start ≤ 2 MiB)",
                (growth >= 0 ? "+" : "") + fixed(Double(growth) / 1_048_576, 2) + " MiB",
                verdict(growth <= Report.allowedGrowth),
            ])
            text += "\n" + targets.text
        }
        if !problems.isEmpty {
            text += "\n### PROBLEMS\n\n" + problems.map { "- \($0)\n" }.joined()
        }
        return text
    }
}
