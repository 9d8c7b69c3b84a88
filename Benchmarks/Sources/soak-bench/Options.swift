import BenchSupport

/// The command line of `soak-bench`.
struct Options {
    /// How long to run, in minutes.
    var minutes = 0.5
    /// Seconds at the start not counted in the memory trend; by default a tenth of the run,
    /// between 5 and 60 s.
    var warmUpSeconds: Double?
    /// Streams of small events from ticker.c.
    var tickerStreams = 16
    /// Where corpora are generated and reused.
    var corpusDirectory = Corpus.defaultDirectory
    /// `--help` was given.
    var showsHelp = false

    var seconds: Double { minutes * 60 }
    var warmUp: Double { warmUpSeconds ?? min(60, max(5, seconds / 10)) }

    static let usage = """
        usage: soak-bench [--minutes N] [--warm-up SECONDS] [--ticker-streams N] [--corpus-dir DIR]

        Streams continuously for N minutes with periodic drops and samples the resident memory
        every second; reports it after the warm-up and at the end, its trend, and the counters.
        In one process, all at once:
          - a blast.c stream of the mixed 4 MiB corpus, consumed as fast as it comes; the server
            closes after each copy (a clean end) and the source reconnects at once;
          - the same with a consumer that pauses 5 ms every 1,000 events, so the source's buffer
            fills and the transfer is paused and resumed (flow control);
          - --ticker-streams streams of ticker.c, an event every millisecond on each, dropped
            every 2,000 events, half with a clean close and half with a reset;
          - churn: a new source every 200 ms that takes 5 events and is closed.

          --minutes N          how long to run (default 0.5; the issue's long run is 10)
          --warm-up SECONDS    not counted in the trend (default a tenth of the run, 5 to 60 s)
          --ticker-streams N   ticker.c streams (default 16)
          --corpus-dir DIR     where corpora are generated and reused (default Benchmarks/.corpora)
          -h, --help           show this help
        """

    /// Parses the arguments after the program name.
    init(arguments: [String]) throws {
        var arguments = Arguments(arguments)
        while let name = arguments.next() {
            switch name {
            case "--minutes": minutes = try arguments.number(of: name)
            case "--warm-up": warmUpSeconds = try arguments.number(of: name)
            case "--ticker-streams": tickerStreams = try arguments.integer(of: name, in: 0...1000)
            case "--corpus-dir": corpusDirectory = try arguments.value(of: name)
            case "-h", "--help": showsHelp = true
            default: throw BenchmarkError("unknown argument '\(name)'")
            }
        }
        if warmUp >= seconds {
            throw BenchmarkError("the warm-up (\(warmUp) s) must be shorter than the run (\(seconds) s)")
        }
    }
}

extension Options: BenchmarkOptions {}
