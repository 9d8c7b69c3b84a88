import BenchSupport

/// The command line of `client-bench`.
struct Options {
    /// Measured runs per client and corpus, after one warm-up; the median is reported.
    var runs = 5
    /// Times blast sends the mixed corpus per request.
    var mixedRepeats = 16
    /// Times blast sends the tokens corpus per request.
    var tokensRepeats = 16
    /// Small corpora, for a smoke run of the harness.
    var quick = false
    /// Where corpora are generated and reused.
    var corpusDirectory = Corpus.defaultDirectory
    /// The `sse-listen` binary; `nil` skips client (c).
    var sseListen: String? = BenchPaths.benchmarks + "/.build/release/sse-listen"
    /// Which clients to measure.
    var clients = Client.allCases
    /// Measure over HTTP/2 through nginx (TLS): curl --http2 and EventSource only.
    var http2 = false
    /// `--help` was given.
    var showsHelp = false

    static let usage = """
        usage: client-bench [--runs N] [--mixed-repeats K] [--tokens-repeats K] [--quick]
                            [--corpus-dir DIR] [--sse-listen PATH | --no-sse-listen] [--clients LIST]
                            [--http2]

        Throughput of SSE clients over loopback against shared/bench/blast.c, in one run: the raw
        socket (sink.c), curl, EventSource (this library), sse-listen, and async-http-client 1.37.0
        with swift-openapi-runtime 1.13.4's decoder. Prints a Markdown report with issue 6's targets.

          --runs N             measured runs per client and corpus after one warm-up (default 5)
          --mixed-repeats K    copies of the 64 MiB mixed corpus per request (default 16)
          --tokens-repeats K   copies of the 16 MiB tokens corpus per request (default 16)
          --quick              mixed 8 MiB and tokens 2 MiB corpora, for a smoke run
          --corpus-dir DIR     where corpora are generated and reused (default Benchmarks/.corpora)
          --sse-listen PATH    the sse-listen binary (default Benchmarks/.build/release/sse-listen,
                               built by `swift build -c release --package-path Benchmarks --product sse-listen`)
          --no-sse-listen      skip sse-listen
          --clients LIST       comma-separated subset of: \(Client.allCases.map(\.rawValue).joined(separator: ","))
          --http2              put nginx (TLS, HTTP/2 by ALPN) in front of blast.c, and measure curl
                               --http2 and EventSource through it (the other clients speak no HTTP/2)
          -h, --help           show this help

        Environment: SHARED_BENCH, the folder holding gen_corpus.py, blast.c and sink.c (default: the
        shared/bench folder next to the repository).
        Exit status: 0 when every event count agrees, 1 on a count mismatch or any other error.
        """

    /// Parses the arguments after the program name.
    init(arguments: [String]) throws {
        var arguments = Arguments(arguments)
        while let name = arguments.next() {
            switch name {
            case "--runs": runs = try arguments.integer(of: name, in: 1...100)
            case "--mixed-repeats": mixedRepeats = try arguments.integer(of: name, in: 1...1000)
            case "--tokens-repeats": tokensRepeats = try arguments.integer(of: name, in: 1...1000)
            case "--quick": quick = true
            case "--corpus-dir": corpusDirectory = try arguments.value(of: name)
            case "--sse-listen": sseListen = try arguments.value(of: name)
            case "--no-sse-listen": sseListen = nil
            case "--clients":
                let list = try arguments.value(of: name).split(separator: ",")
                clients = try list.map { word in
                    guard let client = Client(rawValue: String(word)) else {
                        throw BenchmarkError("unknown client '\(word)' in --clients")
                    }
                    return client
                }
            case "--http2": http2 = true
            case "-h", "--help": showsHelp = true
            default: throw BenchmarkError("unknown argument '\(name)'")
            }
        }
    }
}

extension Options: BenchmarkOptions {}
