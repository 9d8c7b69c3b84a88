import BenchSupport
import Foundation

/// `decode-bench`: typed decoding of an OpenAI chat-completion stream, ours against
/// swift-openapi-runtime's, with the baselines that show where the time goes, all in one run; a
/// Markdown report on standard output, progress on standard error.
@main
enum DecodeBench {
    static func main() async {
        await benchmarkMain("decode-bench", Options.self) { options in try await run(options) }
    }

    /// Generates the corpus, measures every case in interleaved rounds and prints the report.
    ///
    /// - Returns: Whether every case found what the generator wrote (so ours and the peer agree).
    static func run(_ options: Options) async throws -> Bool {
        let loadAtStart = loadAverage()
        printError("generating \(grouped(options.tokenCount)) token chunks (seed \(options.seed))")
        let corpus = ChatCompletionCorpus(tokenCount: options.tokenCount, seed: options.seed)
        var cases = Case.allCases.filter { options.cases.contains($0) }
        var loopback: LoopbackServer? = nil
        if options.measuresLoopback && cases.contains(where: \.usesLoopback) {
            loopback = try LoopbackServer(serving: corpus.bytes)
        } else {
            cases.removeAll { $0.usesLoopback }
        }
        defer { loopback?.stop() }
        let inputs = Inputs(corpus: corpus, chunkSize: options.chunkSize, loopbackURL: loopback?.url)

        var wall: [Case: [Double]] = [:]
        var cpu: [Case: [Double]] = [:]
        var tallies: [Case: Tally] = [:]
        // Every round runs every case once, the order reversed every other round (ABBA), so that
        // a slow spell of the shared machine is spread over the cases, and the cases compared
        // with each other run next to each other: the report's ratios and shares pair the cases
        // round by round.
        let order = Case.measurementOrder.filter { cases.contains($0) }
        for round in 0...options.runs {
            printError(round == 0 ? "warm-up round" : "round \(round) of \(options.runs)")
            for measured in round % 2 == 1 ? order : order.reversed() {
                let watch = Stopwatch()
                let tally = try await measured.run(inputs)
                let wallSeconds = watch.wallSeconds
                let cpuSeconds = watch.cpuSeconds
                if round == 0 {
                    tallies[measured] = tally
                    continue
                }
                guard tally == tallies[measured] else {
                    throw BenchmarkError(
                        "\(measured.rawValue) found \(tallies[measured]!) in the warm-up and then \(tally)")
                }
                wall[measured, default: []].append(wallSeconds)
                cpu[measured, default: []].append(cpuSeconds)
            }
        }

        let report = Report(
            options: options,
            corpus: corpus,
            chunkCount: inputs.chunkRanges.count,
            cases: cases,
            wall: wall,
            cpu: cpu,
            tallies: tallies,
            loads: (loadAtStart, loadAverage())
        )
        print(report.text, terminator: "")
        for mismatch in report.mismatches {
            printError("decode-bench: MISMATCH: \(mismatch)")
        }
        return report.mismatches.isEmpty
    }
}

/// `shared/bench/blast.c` serving the corpus on a free loopback port, from a temporary file.
struct LoopbackServer {
    private let program: CompiledProgram
    private let server: LocalServer
    private let file: String

    /// The stream's URL.
    var url: String { server.url("/?n=1") }

    /// Compiles `blast.c` with `gcc -O2`, writes `bytes` to a temporary file and starts it.
    init(serving bytes: [UInt8]) throws {
        let paths = try BenchPaths.locate()
        program = try CompiledProgram(source: paths.shared("blast.c"))
        file = try temporaryFile("decode-corpus")
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            server = try LocalServer.blast(program, file: file)
        } catch {
            try? FileManager.default.removeItem(atPath: file)
            program.remove()
            throw error
        }
    }

    /// Stops the server and deletes what it needed.
    func stop() {
        server.stop()
        program.remove()
        try? FileManager.default.removeItem(atPath: file)
    }
}
