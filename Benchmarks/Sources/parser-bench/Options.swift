import BenchSupport

/// The command line of `parser-bench`.
struct Options {
    /// Measured runs per case, after one warm-up; the median is reported.
    var runs = 5
    /// Smaller corpora, for a smoke run of the harness.
    var quick = false
    /// Where corpora are generated and reused; `Benchmarks/.corpora` unless given.
    var corpusDirectory: String? = nil
    /// How long a slow case (swift-openapi-runtime with 1-byte chunks) may take, in seconds,
    /// before it is skipped or run fewer times.
    var budgetSeconds = 60.0
    /// `--help` was given.
    var showsHelp = false

    static let usage = """
        usage: parser-bench [--runs N] [--quick] [--corpus-dir DIR] [--budget SECONDS]

        Measures EventStreamParser, swift-openapi-runtime 1.13.4's SSE decoder and the C limit
        (shared/bench/limit.c, sse mode) on the same in-memory corpora, and prints a Markdown table.

          --runs N            measured runs per case after one warm-up; the median is reported (default 5)
          --quick             small corpora (mixed 8 MiB, mixed 1 MiB, tokens 2 MiB) for a smoke run
          --corpus-dir DIR    where corpora are generated and reused (default Benchmarks/.corpora)
          --budget SECONDS    time allowed for a slow case (swift-openapi-runtime with 1-byte chunks)
                              before it is skipped or run fewer times (default 60)
          -h, --help          show this help

        Environment: SHARED_BENCH, the folder holding gen_corpus.py and limit.c (default: the
        shared/bench folder next to the repository).
        Exit status: 0 when every event count agrees, 1 on a count mismatch or any other error.
        """

    /// Parses the arguments after the program name.
    init(arguments: [String]) throws(UsageError) {
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            // Accept both `--runs 3` and `--runs=3`.
            let name: Substring
            var inlineValue: Substring? = nil
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = argument[..<equals]
                inlineValue = argument[argument.index(after: equals)...]
            } else {
                name = argument[...]
            }
            func value() throws(UsageError) -> String {
                if let inlineValue { return String(inlineValue) }
                guard let next = remaining.popFirst() else { throw UsageError("\(name) needs a value") }
                return next
            }
            switch name {
            case "--runs":
                let text = try value()
                guard let runs = Int(text), (1...100).contains(runs) else {
                    throw UsageError("--runs must be a whole number from 1 to 100, not '\(text)'")
                }
                self.runs = runs
            case "--quick":
                quick = true
            case "--corpus-dir":
                corpusDirectory = try value()
            case "--budget":
                let text = try value()
                guard let seconds = Double(text), seconds > 0 else {
                    throw UsageError("--budget must be a positive number of seconds, not '\(text)'")
                }
                budgetSeconds = seconds
            case "-h", "--help":
                showsHelp = true
            default:
                throw UsageError("unknown argument '\(argument)'")
            }
        }
    }
}

/// A command line that cannot be run.
struct UsageError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

extension Options: BenchmarkOptions {}
