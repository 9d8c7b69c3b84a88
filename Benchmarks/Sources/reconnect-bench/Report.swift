import BenchSupport
import SSEClient

/// The Markdown report of `reconnect-bench`.
struct Report {
    var options: Options
    var loadAtStart: String
    var loadAtEnd = "?"
    var zeroDelay: [(drop: String, samples: [ReconnectSample])] = []
    var backoff: [BackoffSample] = []
    var problems: [String] = []

    var markdown: String {
        var text = "## reconnect-bench: reconnects against ticker.c\n\n"
        text += "Load average \(loadAtStart) at the start, \(loadAtEnd) at the end. Times in ms, "
        text += "CLOCK_MONOTONIC of the server and the client (same machine).\n\n"
        text += "### Zero delay: server drop → first event of the new connection in the consumer\n\n"
        text += "`ReconnectPolicy(initialDelay: .zero, jitter: 0, minimumRepeatDelay: .zero)`; "
        text += "the server drops each connection 5 ms after its second event.\n\n"
        var table = MarkdownTable([
            "drop", "reconnects", "p50", "p90", "p99", "max", "drop→accept p50", "accept→write p50",
            "write→consumer p50",
        ])
        var targets = MarkdownTable(["target (issue 6)", "measured", "verdict"])
        for (drop, samples) in zeroDelay {
            let total = Distribution(samples.map(\.total))
            table.add([
                drop == "fin" ? "clean close (FIN)" : "reset (RST)", grouped(samples.count),
                fixed(total.median, 3), fixed(total.percentile(90), 3), fixed(total.percentile(99), 3),
                fixed(total.maximum, 3),
                fixed(Distribution(samples.map(\.dropToAccept)).median, 3),
                fixed(Distribution(samples.map(\.acceptToSend)).median, 3),
                fixed(Distribution(samples.map(\.delivery)).median, 3),
            ])
            targets.add([
                "reconnect with zero delay, p50 < 5 ms (\(drop.uppercased()))", fixed(total.median, 3) + " ms",
                verdict(total.median < 5),
            ])
        }
        text += table.text
        if !backoff.isEmpty {
            text += backoffSection(targets: &targets)
        }
        text += "\n### Targets\n\n" + targets.text
        if !problems.isEmpty {
            text += "\n### PROBLEMS\n\n" + problems.map { "- \($0)\n" }.joined()
        }
        return text
    }

    private func backoffSection(targets: inout MarkdownTable) -> String {
        let policy = ReconnectPolicy(initialDelay: .milliseconds(options.baseMilliseconds))
        let base = Double(options.baseMilliseconds)
        var text = "\n### Backoff: initialDelay \(options.baseMilliseconds) ms, other ReconnectPolicy defaults\n\n"
        text += "\(options.sources) sources at once, each \(options.cycles) times through \(options.attempts) "
        text += "reconnects; the server drops every connection 20 ms after its one event (so the attempt "
        text += "number grows). *announced*: the delay of `.waitingToReconnect`; *observed*: the server's "
        text += "drop of one connection to its accept of the next. Documented interval: "
        text += "`[d × (1 − jitter), d]`, `d = min(maximumDelay, base × multiplier^(n − 1))`.\n\n"
        var table = MarkdownTable([
            "attempt", "documented", "n", "announced min / median / max", "observed min / median / max",
            "observed − announced median / max", "in interval",
        ])
        var allAnnouncedInside = true
        var allObservedInside = true
        var announcedPositions: [Double] = []
        var observedPositions: [Double] = []
        let tolerance = options.toleranceMilliseconds
        for attempt in Set(backoff.map(\.attempt)).sorted() {
            let samples = backoff.filter { $0.attempt == attempt }
            let interval = Backoff.documentedInterval(attempt: attempt, base: base, policy: policy)
            let announced = Distribution(samples.map(\.announced))
            let observed = Distribution(samples.map(\.observed))
            let overhead = Distribution(samples.map { $0.observed - $0.announced })
            let announcedInside = samples.allSatisfy { interval.contains($0.announced) }
            let observedInside = samples.allSatisfy {
                $0.observed >= interval.lowerBound && $0.observed <= interval.upperBound + tolerance
            }
            allAnnouncedInside = allAnnouncedInside && announcedInside
            allObservedInside = allObservedInside && observedInside
            let width = interval.upperBound - interval.lowerBound
            if width > 0 {
                announcedPositions += samples.map { ($0.announced - interval.lowerBound) / width }
                observedPositions += samples.map { ($0.observed - interval.lowerBound) / width }
            }
            table.add([
                String(attempt),
                "\(fixed(interval.lowerBound, 0)) – \(fixed(interval.upperBound, 0))",
                String(samples.count),
                "\(fixed(announced.minimum, 0)) / \(fixed(announced.median, 0)) / \(fixed(announced.maximum, 0))",
                "\(fixed(observed.minimum, 0)) / \(fixed(observed.median, 0)) / \(fixed(observed.maximum, 0))",
                "\(fixed(overhead.median, 2)) / \(fixed(overhead.maximum, 2))",
                announcedInside && observedInside ? "all" : (announcedInside ? "announced only" : "NO"),
            ])
        }
        text += table.text
        let announcedTest = KolmogorovSmirnov(uniformPositions: announcedPositions)
        let observedTest = KolmogorovSmirnov(uniformPositions: observedPositions)
        text += "\nWhere in its interval each delay fell, `(delay − low) / (high − low)`, pooled over attempts, "
        text += "against the uniform distribution the formula's `r` draws from (Kolmogorov–Smirnov, "
        text += "critical D at the 1 % level ≈ 1.63 / √n):\n\n"
        var fit = MarkdownTable(["delays", "n", "mean position (uniform: 0.5)", "KS D", "critical D (1 %)", "uniform?"])
        for (label, test) in [("announced", announcedTest), ("observed", observedTest)] {
            fit.add([
                label, String(test.count), fixed(test.mean, 3), fixed(test.statistic, 3), fixed(test.critical, 3),
                test.rejected ? "rejected" : "not rejected",
            ])
        }
        text += fit.text
        targets.add([
            "announced delays within the documented interval", allAnnouncedInside ? "all" : "not all",
            verdict(allAnnouncedInside),
        ])
        targets.add([
            "observed delays within the interval (+\(fixed(tolerance, 0)) ms for detection and connect)",
            allObservedInside ? "all" : "not all", verdict(allObservedInside),
        ])
        targets.add([
            "delays spread uniformly over the interval (KS, 1 %)",
            "D = \(fixed(observedTest.statistic, 3)) (critical \(fixed(observedTest.critical, 3)))",
            verdict(!announcedTest.rejected && !observedTest.rejected),
        ])
        return text
    }
}

/// The one-sample Kolmogorov–Smirnov test of positions in [0, 1] against the uniform distribution.
struct KolmogorovSmirnov {
    var count: Int
    var mean: Double
    /// The largest distance between the empirical and the uniform distribution function.
    var statistic: Double
    /// The asymptotic critical value at the 1 % level.
    var critical: Double

    var rejected: Bool { count > 0 && statistic > critical }

    init(uniformPositions positions: [Double]) {
        let sorted = positions.map { min(1, max(0, $0)) }.sorted()
        count = sorted.count
        mean = sorted.isEmpty ? .nan : sorted.reduce(0, +) / Double(sorted.count)
        var distance = 0.0
        for (index, value) in sorted.enumerated() {
            let n = Double(sorted.count)
            distance = max(distance, Double(index + 1) / n - value, value - Double(index) / n)
        }
        statistic = distance
        critical = sorted.isEmpty ? .nan : 1.628 / Double(sorted.count).squareRoot()
    }
}
