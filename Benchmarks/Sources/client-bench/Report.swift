import BenchSupport

/// The samples of every client on one corpus.
struct CorpusResult {
    var corpus: Corpus
    var repeats: Int
    var samples: [Client: [Sample]] = [:]
    var mismatches: [String] = []

    /// Body bytes per transfer.
    var bodyBytes: Int { corpus.byteCount * repeats }
    /// Events per transfer.
    var events: Int { corpus.dispatchedEvents * repeats }

    /// Median wall seconds of `client`.
    func wall(_ client: Client) -> Double? {
        samples[client].map { median($0.map(\.wallSeconds)) }
    }

    /// Median CPU seconds of `client`.
    func cpu(_ client: Client) -> Double? {
        samples[client].map { median($0.map(\.cpuSeconds)) }
    }

    /// The lowest and highest MB/s of `client` over the runs.
    func rateRange(_ client: Client) -> ClosedRange<Double>? {
        guard let walls = samples[client]?.map(\.wallSeconds), let slowest = walls.max(), let fastest = walls.min()
        else { return nil }
        return (Double(bodyBytes) / slowest / 1e6)...(Double(bodyBytes) / fastest / 1e6)
    }

    /// MB/s (10^6 bytes) of body received by `client`, from its median wall time.
    func megabytesPerSecond(_ client: Client) -> Double? {
        wall(client).map { Double(bodyBytes) / $0 / 1e6 }
    }
}

/// The Markdown report.
struct Report {
    var runs: Int
    var loadAtStart: String
    var loadAtEnd = "?"
    var notes: [String]
    var corpora: [CorpusResult] = []

    var mismatches: [String] { corpora.flatMap(\.mismatches) }

    var markdown: String {
        var text = "## client-bench: SSE throughput over loopback (blast.c)\n\n"
        text += "Median of \(runs) runs after one warm-up; MB = 10^6 bytes of response body; "
        text += "load average \(loadAtStart) at the start, \(loadAtEnd) at the end.\n"
        for note in notes { text += "\n- \(note)" }
        text += "\n"
        for result in corpora {
            text += "\n### \(result.corpus.label) × \(result.repeats) "
            text +=
                "(\(fixed(Double(result.bodyBytes) / 1e6, 0)) MB, \(grouped(result.events)) events per transfer)\n\n"
            var table = MarkdownTable([
                "client", "MB/s", "events/s", "wall s", "CPU s", "MB/s vs (a) curl", "MB/s, slowest – fastest run",
            ])
            let curl = result.megabytesPerSecond(.curl)
            for client in Client.allCases {
                guard let wall = result.wall(client), let cpu = result.cpu(client),
                    let rate = result.megabytesPerSecond(client)
                else { continue }
                table.add([
                    client.label,
                    fixed(rate, 0),
                    grouped(Int(Double(result.events) / wall)),
                    fixed(wall, 3),
                    fixed(cpu, 3),
                    curl.map { fixed(rate / $0 * 100, 0) + " %" } ?? "–",
                    result.rateRange(client).map { "\(fixed($0.lowerBound, 0)) – \(fixed($0.upperBound, 0))" } ?? "–",
                ])
            }
            text += table.text
            if let pauses = result.samples[.library]?.compactMap(\.pauses), !pauses.isEmpty {
                let sorted = pauses.sorted()
                text += "\n(b) paused its transfer \(grouped(sorted[sorted.count / 2])) times per transfer (median; "
                text += "the consumer was `maximumBufferedBytes` behind).\n"
            }
        }
        text += "\n### Targets (issue 6)\n\n"
        var targets = MarkdownTable(["target", "measured", "verdict"])
        for result in corpora {
            let label = result.corpus.profile
            if let library = result.megabytesPerSecond(.library), let curl = result.megabytesPerSecond(.curl),
                label == "mixed"
            {
                let ratio = library / curl
                targets.add(["(b) ≥ 70 % of (a)'s MB/s, \(label)", fixed(ratio * 100, 0) + " %", verdict(ratio >= 0.7)])
            }
            if let library = result.megabytesPerSecond(.library),
                let ahc = result.megabytesPerSecond(.asyncHTTPClient), label == "tokens"
            {
                let ratio = library / ahc
                targets.add(["(b) ≥ 3× (d), \(label)", fixed(ratio, 1) + "×", verdict(ratio >= 3)])
            }
            if let listen = result.megabytesPerSecond(.sseListen), let curl = result.megabytesPerSecond(.curl) {
                let ratio = listen / curl
                targets.add(["(c) ≥ 50 % of (a)'s MB/s, \(label)", fixed(ratio * 100, 0) + " %", verdict(ratio >= 0.5)])
            }
        }
        text += targets.text
        if !mismatches.isEmpty {
            text += "\n### COUNT MISMATCH\n\n" + mismatches.map { "- \($0)\n" }.joined()
        }
        return text
    }
}
