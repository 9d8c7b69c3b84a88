import BenchSupport
import Foundation

/// `parser-bench`: our parser, swift-openapi-runtime's decoder and the C limit on the same
/// in-memory corpora, in one run; a Markdown report on standard output, progress on standard error.
@main
enum ParserBench {
    static func main() async {
        await benchmarkMain("parser-bench", Options.self) { options in try await run(options) }
    }

    /// Measures every case and prints the report.
    ///
    /// Runs on the main actor, so the synchronous measurements and the waits for subprocesses
    /// keep the main thread busy rather than a thread of the cooperative pool.
    ///
    /// - Returns: Whether every event count agreed with the corpus summary and the C limit.
    @MainActor
    static func run(_ options: Options) async throws -> Bool {
        let bench = try SharedBench.locate()
        let corpusDirectory =
            options.corpusDirectory.map { URL(fileURLWithPath: $0) }
            ?? SharedBench.benchmarksDirectory.appendingPathComponent(".corpora")
        let plan = Plan(quick: options.quick)
        var corpora: [String: Corpus] = [:]
        for spec in plan.corpora {
            corpora[spec.label] = try Corpus.prepare(spec, in: corpusDirectory, bench: bench)
        }
        let limit = try CLimit.compile(bench)
        defer { limit.remove() }

        var results = Results(plan: plan, runs: options.runs, loadAtStart: loadAverage())
        for spec in plan.corpora {
            let corpus = corpora[spec.label]!
            let bytes = try corpus.readBytes()
            for chunkSize in plan.chunkSizes(for: spec) {
                try await measureCase(
                    corpus: corpus,
                    bytes: bytes,
                    chunkSize: chunkSize,
                    options: options,
                    limit: limit,
                    into: &results
                )
            }
        }
        results.loadAtEnd = loadAverage()
        results.corpora = plan.corpora.map { corpora[$0.label]! }

        print(results.markdown(command: CommandLine.arguments.joined(separator: " ")))
        if !results.mismatches.isEmpty {
            let list = results.mismatches.map { "- \($0)" }.joined(separator: "\n")
            print("\n### EVENT COUNT MISMATCH\n\n\(list)")
            printError("\nparser-bench: EVENT COUNT MISMATCH\n\(list)")
            return false
        }
        return true
    }

    /// The C limit, our parser and swift-openapi-runtime on one corpus with one chunk size.
    @MainActor
    private static func measureCase(
        corpus: Corpus,
        bytes: [UInt8],
        chunkSize: Int,
        options: Options,
        limit: CLimit,
        into results: inout Results
    ) async throws {
        let chunk = chunkLabel(chunkSize)
        let expected = corpus.dispatchedEvents
        func record(_ implementation: Implementation, _ outcome: Row.Outcome) {
            results.rows.append(
                Row(corpus: corpus, chunkSize: chunkSize, implementation: implementation, outcome: outcome))
        }

        printError("measuring \(corpus.spec.label), \(chunk) chunks: \(Implementation.cLimit.rawValue)")
        let c = try limit.run(corpus: corpus, chunkSize: chunkSize, runs: options.runs)
        guard c.byteCount == corpus.byteCount else {
            throw BenchmarkError("limit read \(c.byteCount) bytes of \(corpus.path), expected \(corpus.byteCount)")
        }
        if c.events != expected {
            results.mismatches.append(
                "\(corpus.spec.label), \(chunk) chunks: the C limit counted \(c.events) events, "
                    + "the corpus summary says \(expected)"
            )
        }
        record(.cLimit, .measured(c.timing, events: c.events))

        printError("measuring \(corpus.spec.label), \(chunk) chunks: \(Implementation.ours.rawValue)")
        let ours = try bytes.withUnsafeBytes { raw in
            try measure(runs: options.runs) {
                try EventStreamParserBench.countEvents(in: raw, chunkSize: chunkSize)
            }
        }
        if ours.events != expected || ours.events != c.events {
            results.mismatches.append(
                "\(corpus.spec.label), \(chunk) chunks: EventStreamParser dispatched \(ours.events) events, "
                    + "the corpus summary says \(expected) and the C limit counted \(c.events)"
            )
        }
        record(.ours, .measured(ours.timing, events: ours.events))

        printError("measuring \(corpus.spec.label), \(chunk) chunks: \(Implementation.openAPIRuntime.rawValue)")
        let chunks = stride(from: 0, to: bytes.count, by: chunkSize).map {
            bytes[$0..<min($0 + chunkSize, bytes.count)]
        }
        let openAPI = try await OpenAPIRuntimeBench.measure(
            chunks: chunks,
            runs: options.runs,
            budget: options.budgetSeconds
        )
        switch openAPI {
        case .measured(let timing, let count):
            if count.withData != expected {
                results.notes.append(
                    "\(corpus.spec.label), \(chunk) chunks: swift-openapi-runtime emitted \(count.withData) events "
                        + "with data, the corpus summary says \(expected) (not ours to fix; reported for the record)"
                )
            }
            results.openAPIEmitted[corpus.spec.label] = (count.emitted, count.withData)
            record(.openAPIRuntime, .measured(timing, events: count.withData))
        case .abandoned(let seconds, let count):
            let reason =
                "skipped: the warm-up had decoded \(count.withData) of \(expected) events "
                + "(\(percent(Double(count.withData) / Double(expected)))) when it was stopped after "
                + "\(fixed(seconds, 1)) s (--budget \(fixed(options.budgetSeconds, 0)))"
            record(.openAPIRuntime, .skipped(reason))
        }
    }

    /// The 1-, 5- and 15-minute load averages, when the system has them.
    private static func loadAverage() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}

/// The corpora and chunk sizes of a run.
struct Plan {
    /// The large mixed corpus, fed in 16 KiB chunks.
    var mixed: CorpusSpec
    /// The many-small-events corpus, fed in 16 KiB chunks.
    var tokens: CorpusSpec
    /// A smaller mixed corpus fed both in 16 KiB and in 1-byte chunks, for the slowdown factor.
    var mixedSmall: CorpusSpec

    static let largeChunk = 16 * 1024

    init(quick: Bool) {
        mixed = CorpusSpec(profile: "mixed", size: quick ? "8M" : "64M")
        tokens = CorpusSpec(profile: "tokens", size: quick ? "2M" : "16M")
        mixedSmall = CorpusSpec(profile: "mixed", size: quick ? "1M" : "4M")
    }

    /// In the order they are measured and reported.
    var corpora: [CorpusSpec] { [mixed, tokens, mixedSmall] }

    func chunkSizes(for spec: CorpusSpec) -> [Int] {
        spec.label == mixedSmall.label ? [Plan.largeChunk, 1] : [Plan.largeChunk]
    }
}

/// `16 KiB`, `1 B`.
func chunkLabel(_ size: Int) -> String {
    size % 1024 == 0 ? "\(size / 1024) KiB" : "\(size) B"
}
