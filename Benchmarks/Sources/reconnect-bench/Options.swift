import BenchSupport

/// The command line of `reconnect-bench`.
struct Options {
    /// Drops measured per drop kind with a zero reconnect delay.
    var drops = 300
    /// Concurrent sources in the backoff measurement.
    var sources = 10
    /// Times each of them runs through the attempts.
    var cycles = 2
    /// Reconnect attempts per cycle.
    var attempts = 4
    /// Base delay of the backoff measurement, in milliseconds.
    var baseMilliseconds = 1000
    /// How far an observed delay may exceed the documented interval (detection, sleep overshoot,
    /// connect), in milliseconds.
    var toleranceMilliseconds = 20.0
    /// Skips the backoff measurement.
    var skipBackoff = false
    /// `--help` was given.
    var showsHelp = false

    static let usage = """
        usage: reconnect-bench [--drops N] [--sources N] [--cycles N] [--attempts N] [--base-ms MS]
                               [--tolerance-ms MS] [--no-backoff]

        Reconnects of EventSource against Benchmarks/Servers/ticker.c, which stamps every event
        with CLOCK_MONOTONIC times: when it dropped the previous connection of the same client,
        when it accepted this one, and when it wrote the event.

        1. Zero delay (initialDelay 0, minimumRepeatDelay 0, jitter 0): the time from the server
           dropping the connection (FIN, then RST) to the first event of the new connection
           reaching the consumer.
        2. Backoff (initialDelay --base-ms, the other ReconnectPolicy defaults): sources whose
           every connection is dropped after one event, so the attempt number grows; the delay
           each attempt announced (.waitingToReconnect) and the delay the server observed (drop to
           accept) per attempt, against the interval of ReconnectPolicy's documented formula.

          --drops N           drops per kind with zero delay (default 300)
          --sources N         concurrent sources for the backoff measurement (default 10)
          --cycles N          runs through the attempts per source (default 2)
          --attempts N        reconnect attempts per run (default 4: 0.5-1, 1-2, 2-4, 4-8 s)
          --base-ms MS        the backoff's initial delay (default 1000)
          --tolerance-ms MS   how far an observed delay may exceed the documented interval (default 20)
          --no-backoff        only the zero-delay measurement
          -h, --help          show this help

        Exit status: 0 when every reconnect was measured, 1 when some did not happen in time (a
        time-out ends each part) or on any other error.
        """

    /// Parses the arguments after the program name.
    init(arguments: [String]) throws {
        var arguments = Arguments(arguments)
        while let name = arguments.next() {
            switch name {
            case "--drops": drops = try arguments.integer(of: name, in: 1...100_000)
            case "--sources": sources = try arguments.integer(of: name, in: 1...1000)
            case "--cycles": cycles = try arguments.integer(of: name, in: 1...100)
            case "--attempts": attempts = try arguments.integer(of: name, in: 1...10)
            case "--base-ms": baseMilliseconds = try arguments.integer(of: name, in: 1...60000)
            case "--tolerance-ms": toleranceMilliseconds = try arguments.number(of: name)
            case "--no-backoff": skipBackoff = true
            case "-h", "--help": showsHelp = true
            default: throw BenchmarkError("unknown argument '\(name)'")
            }
        }
    }
}

extension Options: BenchmarkOptions {}
