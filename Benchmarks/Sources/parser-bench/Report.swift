import Foundation

/// What is measured.
enum Implementation: String {
    case cLimit = "C limit (limit.c sse, gcc -O2)"
    case ours = "EventStreamParser"
    case openAPIRuntime = "swift-openapi-runtime 1.13.4"
}

/// One implementation on one corpus with one chunk size.
struct Row {
    enum Outcome {
        case measured(Timing, events: Int)
        case skipped(String)
    }

    var corpus: Corpus
    var chunkSize: Int
    var implementation: Implementation
    var outcome: Outcome

    var timing: Timing? {
        if case .measured(let timing, _) = outcome { return timing }
        return nil
    }

    var events: Int? {
        if case .measured(_, let events) = outcome { return events }
        return nil
    }

    /// Megabytes (10^6 bytes) per second of wall time.
    var megabytesPerSecond: Double? {
        timing.map { Double(corpus.byteCount) / $0.wallSeconds / 1e6 }
    }

    /// Dispatched events per second of wall time.
    var eventsPerSecond: Double? {
        guard let timing, let events else { return nil }
        return Double(events) / timing.wallSeconds
    }
}

/// Everything measured in one run, and the report made of it.
struct Results {
    var plan: Plan
    var runs: Int
    var loadAtStart: String?
    var loadAtEnd: String?
    var corpora: [Corpus] = []
    var rows: [Row] = []
    /// Event counts that disagree with the corpus summary or the C limit: the run fails.
    var mismatches: [String] = []
    /// Things worth knowing that do not fail the run.
    var notes: [String] = []
    /// swift-openapi-runtime's counts per corpus: everything emitted, and those with data.
    var openAPIEmitted: [String: (emitted: Int, withData: Int)] = [:]

    init(plan: Plan, runs: Int, loadAtStart: String?) {
        self.plan = plan
        self.runs = runs
        self.loadAtStart = loadAtStart
    }

    func row(_ corpus: CorpusSpec, _ chunkSize: Int, _ implementation: Implementation) -> Row? {
        rows.first {
            $0.corpus.spec.label == corpus.label && $0.chunkSize == chunkSize && $0.implementation == implementation
        }
    }

    /// The time of `row` divided by the time of `other`, on wall and on CPU time, when both were
    /// measured; that is also the speed of `other` relative to the speed of `row`.
    func timeRatio(_ row: Row?, over other: Row?) -> (wall: Double, cpu: Double)? {
        guard let a = row?.timing, let b = other?.timing else { return nil }
        return (a.wallSeconds / b.wallSeconds, a.cpuSeconds / b.cpuSeconds)
    }

    func markdown(command: String) -> String {
        var out: [String] = []
        out.append("## Parser benchmark")
        out.append("")
        out.append("Command: `\(command)`  ")
        var machine = "\(ProcessInfo.processInfo.activeProcessorCount) cores"
        if let loadAtStart, let loadAtEnd { machine += "; load average \(loadAtStart) at start, \(loadAtEnd) at end" }
        out.append("Machine: \(machine).  ")
        out.append(
            "Median of \(runs) runs after 1 warm-up, on corpora loaded fully into memory; MB = 10^6 bytes; "
                + "MB/s, events/s and ratios from wall time (CPU time in the last columns)."
        )
        out.append("")
        out.append("Corpora (`gen_corpus.py`, seed 1):")
        for corpus in corpora {
            out.append(
                "- \(corpus.spec.label) (`--profile \(corpus.spec.profile) --size \(corpus.spec.size)`): "
                    + "\(grouped(Double(corpus.byteCount), 0)) bytes, "
                    + "\(grouped(Double(corpus.dispatchedEvents), 0)) events, sha256 \(corpus.sha256.prefix(16))…"
            )
        }
        out.append("")
        out.append(
            "| corpus | chunk | implementation | MB/s | events/s | vs C limit | vs swift-openapi-runtime "
                + "| wall ms | CPU ms | runs |"
        )
        out.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in rows {
            let cells: [String]
            switch row.outcome {
            case .measured(let timing, _):
                let c = self.row(row.corpus.spec, row.chunkSize, .cLimit)
                let openAPI = self.row(row.corpus.spec, row.chunkSize, .openAPIRuntime)
                let versusC = timeRatio(c, over: row).map { percent($0.wall) } ?? "–"
                let versusOpenAPI = timeRatio(openAPI, over: row).map { times($0.wall) } ?? "–"
                cells = [
                    grouped(row.megabytesPerSecond!, 1), grouped(row.eventsPerSecond!, 0), versusC, versusOpenAPI,
                    fixed(timing.wallSeconds * 1000, 3), fixed(timing.cpuSeconds * 1000, 3), "\(timing.runs)",
                ]
            case .skipped(let reason):
                cells = [reason, "", "", "", "", "", ""]
            }
            let name = row.implementation == .ours ? "**\(row.implementation.rawValue)**" : row.implementation.rawValue
            out.append(
                "| " + ([row.corpus.spec.label, chunkLabel(row.chunkSize), name] + cells).joined(separator: " | ")
                    + " |"
            )
        }
        out.append("")

        let small = plan.mixedSmall
        let large = Plan.largeChunk
        out.append("1-byte chunks against 16 KiB chunks, \(small.label) (wall time; CPU time in parentheses):")
        for implementation in [Implementation.ours, .cLimit, .openAPIRuntime] {
            let slow = row(small, 1, implementation)
            if let ratio = timeRatio(slow, over: row(small, large, implementation)) {
                out.append("- \(implementation.rawValue): \(times(ratio.wall)) slower (\(times(ratio.cpu)))")
            } else {
                out.append("- \(implementation.rawValue): not measured")
            }
        }
        out.append("")

        out.append("Targets (issue 2):")
        out.append("")
        out.append("| target | measured (wall; CPU) | result |")
        out.append("| --- | --- | --- |")
        let mixedOurs = row(plan.mixed, large, .ours)
        out.append(
            target(
                "\(plan.mixed.label), 16 KiB: at least 40% of the C limit's MB/s",
                timeRatio(row(plan.mixed, large, .cLimit), over: mixedOurs),
                format: percent
            ) { $0 >= 0.40 }
        )
        out.append(
            target(
                "\(plan.mixed.label), 16 KiB: at least 5x swift-openapi-runtime's MB/s",
                timeRatio(row(plan.mixed, large, .openAPIRuntime), over: mixedOurs),
                format: times
            ) { $0 >= 5 }
        )
        out.append(
            target(
                "\(plan.tokens.label), 16 KiB: at least 25% of the C limit's events/s",
                timeRatio(row(plan.tokens, large, .cLimit), over: row(plan.tokens, large, .ours)),
                format: percent
            ) { $0 >= 0.25 }
        )
        out.append(
            target(
                "\(small.label): 1-byte chunks at most 20x slower than 16 KiB chunks",
                timeRatio(row(small, 1, .ours), over: row(small, large, .ours)),
                format: { "\(times($0)) slower" }
            ) { $0 <= 20 }
        )
        out.append("")

        out.append("Notes:")
        for label in plan.corpora.map(\.label) {
            guard let counts = openAPIEmitted[label], counts.emitted != counts.withData else { continue }
            out.append(
                "- swift-openapi-runtime emits an event for every blank line, so on \(label) it emitted "
                    + "\(grouped(Double(counts.emitted), 0)) events of which \(grouped(Double(counts.withData), 0)) "
                    + "have data; events/s counts only those, the events the WHATWG standard dispatches."
            )
        }
        out.append(contentsOf: notes.map { "- \($0)" })
        out.append(
            "- mattt/EventSource 1.1.1 does not build on Linux; `shared/bench/README.md` quotes about 6 MB/s "
                + "for its parser on the mixed corpus with 16 KiB chunks."
        )
        out.append("- Targets are figures to watch, not a test: a FAIL does not change the exit status.")
        return out.joined(separator: "\n")
    }

    /// A row of the targets table, from a value measured on wall time and on CPU time; pass or
    /// fail is decided on wall time.
    private func target(
        _ name: String,
        _ value: (wall: Double, cpu: Double)?,
        format: (Double) -> String,
        passes: (Double) -> Bool
    ) -> String {
        guard let value else { return "| \(name) | not measured | n/a |" }
        return "| \(name) | \(format(value.wall)); \(format(value.cpu)) | \(passes(value.wall) ? "PASS" : "**FAIL**") |"
    }
}

/// `12.3%` of a fraction.
func percent(_ fraction: Double) -> String {
    fixed(fraction * 100, 1) + "%"
}

/// `4.2x`.
func times(_ factor: Double) -> String {
    fixed(factor, factor >= 100 ? 0 : 1) + "x"
}

/// A number with `decimals` places.
func fixed(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}

/// A number with `decimals` places and thousands separated by commas: `5,312.4`.
func grouped(_ value: Double, _ decimals: Int) -> String {
    let text = fixed(value, decimals)
    let integerEnd = text.firstIndex(of: ".") ?? text.endIndex
    let sign = text.hasPrefix("-") ? "-" : ""
    let digits = Array(text[text.index(text.startIndex, offsetBy: sign.count)..<integerEnd])
    var integer = ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { integer.append(",") }
        integer.append(digit)
    }
    return sign + integer + text[integerEnd...]
}
