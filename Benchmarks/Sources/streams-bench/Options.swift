import BenchSupport

/// The command line of `streams-bench`.
struct Options {
    /// Concurrent event sources.
    var streams = 1000
    /// Seconds measured once every stream has its first event.
    var seconds = 20.0
    /// Milliseconds between events on each stream.
    var intervalMilliseconds = 1000
    /// Padding bytes in each event's data (the event is about 90 bytes plus this).
    var padding = 32
    /// `--help` was given.
    var showsHelp = false

    static let usage = """
        usage: streams-bench [--streams N] [--seconds S] [--interval-ms MS] [--pad BYTES]

        Many concurrent EventSources in one process against Benchmarks/Servers/ticker.c (a C epoll
        server in its own process), each stream sent one small timestamped event per interval, the
        streams' events spread evenly over the interval. Reports the process's OS threads and
        resident memory with no stream, one stream and all of them, CPU per 1,000 events, and the
        delivery latency from the server's write to the consumer's loop body.

          --streams N       concurrent event sources (default 1000)
          --seconds S       how long to measure once all streams are open (default 20)
          --interval-ms MS  time between events on each stream (default 1000)
          --pad BYTES       padding in each event's data (default 32)
          -h, --help        show this help

        Raises its own open-file limit as far as the hard limit allows.
        Exit status: 0 when every stream received events, 1 otherwise or on any error.
        """

    /// Parses the arguments after the program name.
    init(arguments: [String]) throws {
        var arguments = Arguments(arguments)
        while let name = arguments.next() {
            switch name {
            case "--streams": streams = try arguments.integer(of: name, in: 1...30000)
            case "--seconds": seconds = try arguments.number(of: name)
            case "--interval-ms": intervalMilliseconds = try arguments.integer(of: name, in: 1...600_000)
            case "--pad": padding = try arguments.integer(of: name, in: 0...60000)
            case "-h", "--help": showsHelp = true
            default: throw BenchmarkError("unknown argument '\(name)'")
            }
        }
    }
}

extension Options: BenchmarkOptions {}
