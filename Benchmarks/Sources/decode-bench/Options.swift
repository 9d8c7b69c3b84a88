import BenchSupport

/// The command line of `decode-bench`.
struct Options: BenchmarkOptions {
    /// Measured rounds after one warm-up round; the median is reported.
    var runs = 5
    /// Token chunks in the corpus (two more chunks, the first and the last, and `[DONE]` are added).
    var tokenCount = 200_000
    /// Bytes per chunk handed to each parser.
    var chunkSize = 16_384
    /// The corpus generator's seed.
    var seed: UInt64 = 14
    /// Whether to also measure `EventSource.events.decoded(as:using:)` against `blast.c` on loopback.
    var measuresLoopback = true
    /// The cases to measure; all unless `--cases` names some.
    var cases = Case.allCases
    /// `--help` was given.
    var showsHelp = false

    static let usage = """
        usage: decode-bench [--runs N] [--events N] [--chunk-size BYTES] [--seed N] [--no-loopback]
                            [--cases LIST] [--quick]

        Typed decoding of an OpenAI chat-completion stream, in memory: EventStreamParser with
        ServerSentEvent.decodeData(as:using:) against swift-openapi-runtime 1.13.4's
        asDecodedServerSentEventsWithJSONData(of:decoder:while:), the same Decodable type and the
        same JSONDecoder, with parse-only and JSONDecoder-only baselines measured in the same run
        to show where the time goes. Prints a Markdown report; progress goes to standard error.

          --runs N             measured rounds after one warm-up; the median is reported (default 5)
          --events N           token chunks in the generated stream (default 200000)
          --chunk-size BYTES   bytes per chunk fed to the parsers (default 16384)
          --seed N             the generator's seed; the same seed gives the same bytes (default 14)
          --no-loopback        skip EventSource.events.decoded(as:) over loopback (needs gcc and
                               shared/bench/blast.c, found in SHARED_BENCH or next to the repository)
          --cases LIST         a subset of ours-sync,ours-async,peer,loopback,parse-sync,parse-async,
                               parse-peer,parse-loopback,copy,copy-json,json (default: all)
          --quick              20000 token chunks and 2 runs, a smoke run of the harness
          -h, --help           show this help

        Exit status: 0 when every case decoded the chunks and content bytes the generator wrote,
        1 when one did not (the report says which) or on any other error.
        """

    /// Parses the arguments after the program name.
    init(arguments: [String]) throws {
        var arguments = Arguments(arguments)
        while let name = arguments.next() {
            switch name {
            case "--runs": runs = try arguments.integer(of: name, in: 1...100)
            case "--events": tokenCount = try arguments.integer(of: name, in: 1...20_000_000)
            case "--chunk-size": chunkSize = try arguments.integer(of: name, in: 1...(64 << 20))
            case "--seed": seed = UInt64(try arguments.integer(of: name, in: 0...Int.max))
            case "--no-loopback": measuresLoopback = false
            case "--cases":
                let names = try arguments.value(of: name).split(separator: ",").map(String.init)
                cases = try names.map { name in
                    guard let found = Case.allCases.first(where: { $0.argument == name }) else {
                        throw BenchmarkError(
                            "--cases: unknown case '\(name)'; the cases are "
                                + Case.allCases.map(\.argument).joined(separator: ","))
                    }
                    return found
                }
            case "--quick":
                tokenCount = 20_000
                runs = 2
            case "-h", "--help": showsHelp = true
            default: throw BenchmarkError("unknown argument '\(name)'")
            }
        }
    }
}
