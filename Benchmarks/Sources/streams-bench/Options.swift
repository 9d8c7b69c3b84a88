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
    /// Open the streams this many at a time, each batch once the last has its first events;
    /// `nil`: 1, 10, 100, then all the rest at once.
    var rampStep: Int?
    /// Run each consumer task on ``EventSource/ioExecutor`` (the I/O thread) instead of the
    /// global concurrent pool.
    var consumesOnIOThread = false
    /// Also run the Python peers (aiohttp, httpx-sse) on the same ticker, after the C floor.
    var runsPeers = false
    /// Measure HTTP/2 against HTTP/1.1 through nginx (TLS), each in a process of its own.
    var comparesHTTP2 = false
    /// Measure the streams of this URL instead of starting ticker.c (no C floor then).
    var url: String?
    /// The CA file that verifies ``url``'s server.
    var caFile: String?
    /// The HTTP version to ask for: `1.1`, `2`, or `nil` for libcurl's default (ALPN on https).
    var httpVersion: String?
    /// `--help` was given.
    var showsHelp = false

    static let usage = """
        usage: streams-bench [--streams N] [--seconds S] [--interval-ms MS] [--pad BYTES]
                             [--ramp-step N] [--consumers pool|io] [--peers]
                             [--http2-versus-http1 | --url URL [--cacert FILE] [--http-version 1.1|2]]

        Many concurrent EventSources in one process against Benchmarks/Servers/ticker.c (a C epoll
        server in its own process), each stream sent one small timestamped event per interval, the
        streams' events spread evenly over the interval. Reports the process's OS threads and
        resident memory with no stream, one stream and all of them, CPU per 1,000 events, and the
        delivery latency from the server's write to the consumer's loop body.

          --streams N       concurrent event sources (default 1000)
          --seconds S       how long to measure once all streams are open (default 20)
          --interval-ms MS  time between events on each stream (default 1000)
          --pad BYTES       padding in each event's data (default 32)
          --ramp-step N     open the streams N at a time, each batch once the last is open
                            (default: 1, 10, 100, then the rest at once)
          --consumers WHERE pool (default): each stream's consumer task runs on Swift's global
                            concurrent pool, as an app's do by default; io: on the I/O thread
                            (EventSource.ioExecutor), with no hand-over per event, as sse-listen
                            load's do
          --peers           also run Clients/peers.py on the same ticker after the C floor: Python
                            asyncio with aiohttp (raw chunks) and with httpx-sse, the same streams
                            counting events (pip install aiohttp httpx httpx-sse)
          --http2-versus-http1
                            put nginx (TLS, ALPN h2 and http/1.1) in front of ticker.c and measure
                            the streams over HTTP/1.1, then over HTTP/2, each in a fresh process
                            with --ramp-step 100 unless given (libcurl 7.88 gives every source
                            started while its connections are full a connection of its own, and
                            takes at most 100 streams on one); report both and their ratios
          --url URL         measure the streams of URL (a ticker.c behind something) instead of
                            starting ticker.c; no C floor
          --cacert FILE     trust FILE's CA for --url
          --http-version V  1.1 or 2 for --url (default: libcurl's, HTTP/2 by ALPN on https)
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
            case "--ramp-step": rampStep = try arguments.integer(of: name, in: 1...30000)
            case "--consumers":
                let place = try arguments.value(of: name)
                guard ["pool", "io"].contains(place) else { throw BenchmarkError("--consumers is pool or io") }
                consumesOnIOThread = place == "io"
            case "--peers": runsPeers = true
            case "--http2-versus-http1": comparesHTTP2 = true
            case "--url": url = try arguments.value(of: name)
            case "--cacert": caFile = try arguments.value(of: name)
            case "--http-version":
                let version = try arguments.value(of: name)
                guard ["1.1", "2"].contains(version) else { throw BenchmarkError("--http-version is 1.1 or 2") }
                httpVersion = version
            case "-h", "--help": showsHelp = true
            default: throw BenchmarkError("unknown argument '\(name)'")
            }
        }
    }
}

extension Options: BenchmarkOptions {}
