import AsyncHTTPClient
import BenchSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `client-bench`: events/s and MB/s of curl, EventSource, sse-listen and async-http-client with
/// swift-openapi-runtime, against blast.c on loopback, in one run; a Markdown report on standard
/// output, progress on standard error.
@main
enum ClientBench {
    static func main() async {
        DiscardingMetrics.bootstrapIfAsked()
        await benchmarkMain("client-bench", Options.self) { options in try await run(options) }
    }

    /// Measures every client on every corpus and prints the report.
    ///
    /// Runs on the main actor: the waits for subprocesses block the main thread, never a thread
    /// of the cooperative pool, and the in-process clients run on the pool as they would in an app.
    ///
    /// - Returns: Whether every event and byte count agreed with the corpus.
    @MainActor
    static func run(_ options: Options) async throws -> Bool {
        let paths = try BenchPaths.locate()
        let plan: [(profile: String, size: String, repeats: Int)] =
            options.quick
            ? [("mixed", "8M", options.mixedRepeats), ("tokens", "2M", options.tokensRepeats)]
            : [("mixed", "64M", options.mixedRepeats), ("tokens", "16M", options.tokensRepeats)]
        var clients = options.clients
        var notes: [String] = []
        if options.http2 {
            clients = clients.filter { $0 == .curl || $0 == .library }
            notes.append(
                "over HTTP/2: nginx (TLS, ALPN) in front of blast.c, one stream per transfer; (a) is curl --http2, "
                    + "EventSource asks for .http2")
        }
        if clients.contains(.sseListen) {
            if let program = options.sseListen, access(program, X_OK) == 0 {
                notes.append("sse-listen: \(program)")
            } else {
                clients.removeAll { $0 == .sseListen }
                notes.append(
                    "sse-listen skipped: no executable at \(options.sseListen ?? "(none given)"); build it with "
                        + "`swift build -c release --package-path Benchmarks --product sse-listen`"
                )
            }
        }

        let blast = try CompiledProgram(source: paths.shared("blast.c"))
        let sink = try CompiledProgram(source: paths.shared("sink.c"))
        defer {
            blast.remove()
            sink.remove()
        }
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)

        var report = Report(runs: options.runs, loadAtStart: loadAverage(), notes: notes)
        do {
            for entry in plan {
                let corpus = try Corpus.prepare(
                    profile: entry.profile, size: entry.size, in: options.corpusDirectory, paths: paths)
                let result = try await measure(
                    corpus: corpus,
                    repeats: entry.repeats,
                    clients: clients,
                    options: options,
                    blast: blast,
                    sink: sink,
                    httpClient: httpClient
                )
                report.corpora.append(result)
            }
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
        report.loadAtEnd = loadAverage()
        print(report.markdown, terminator: "")
        if !report.mismatches.isEmpty {
            printError("client-bench: COUNT MISMATCH\n" + report.mismatches.joined(separator: "\n"))
        }
        return report.mismatches.isEmpty
    }

    /// Serves `corpus` × `repeats` with blast and measures each client: one warm-up each (which
    /// also checks sse-listen's output), then `runs` rounds, the order rotated every round so
    /// that drift in the machine's load does not always favour the same client.
    @MainActor
    static func measure(
        corpus: Corpus,
        repeats: Int,
        clients: [Client],
        options: Options,
        blast: CompiledProgram,
        sink: CompiledProgram,
        httpClient: HTTPClient
    ) async throws -> CorpusResult {
        let expected = try Measurements.expectedDataOutput(corpus: corpus, repeats: repeats)
        let server = try LocalServer.blast(blast, corpus: corpus)
        defer { server.stop() }
        let pathAndQuery = "/?n=\(repeats)"
        let nginx = options.http2 ? try NginxFront(.proxy(upstreamPort: server.port)) : nil
        defer { nginx?.stop() }
        let front = nginx.map { HTTP2Front(url: $0.url(pathAndQuery), certificatePath: $0.certificatePath) }
        let url = front?.url ?? server.url(pathAndQuery)
        var result = CorpusResult(corpus: corpus, repeats: repeats)
        if expected.events != corpus.dispatchedEvents * repeats {
            result.mismatches.append(
                "\(corpus.label): EventStreamParser found \(expected.events) events in \(repeats) copies, "
                    + "the generator says \(corpus.dispatchedEvents) per copy")
        }

        func sample(_ client: Client, verifyingOutput: Bool = false) async throws -> Sample {
            switch client {
            case .sink:
                return try Measurements.sink(sink.path, server: server, pathAndQuery: pathAndQuery, buffer: 102_400)
            case .sink16K:
                return try Measurements.sink(sink.path, server: server, pathAndQuery: pathAndQuery, buffer: 16_384)
            case .curl:
                return try Measurements.curl(url: url, options: front?.curlOptions ?? [])
            case .library:
                return try await Measurements.library(url: url, transport: front)
            case .sseListen:
                guard verifyingOutput else { return try Measurements.sseListen(options.sseListen!, url: url) }
                let outputPath = try temporaryFile("sse-listen-output")
                defer { unlink(outputPath) }
                var sample = try Measurements.sseListen(options.sseListen!, url: url, outputPath: outputPath)
                let written = fileSize(outputPath)
                if written != expected.bytes {
                    result.mismatches.append(
                        "\(corpus.label): sse-listen wrote \(written) bytes, expected \(expected.bytes) "
                            + "(each event's data and a line feed)")
                } else {
                    sample.events = expected.events
                }
                return sample
            case .asyncHTTPClient:
                return try await AsyncHTTPClientMeasurement.measure(url: url, client: httpClient)
            }
        }

        func check(_ client: Client, _ sample: Sample) {
            if let events = sample.events, events != expected.events {
                result.mismatches.append(
                    "\(corpus.label): \(client.rawValue) received \(events) events, expected \(expected.events)")
            }
            let body = corpus.byteCount * repeats
            if client == .curl || client == .library, sample.bytes != body {
                result.mismatches.append(
                    "\(corpus.label): \(client.rawValue) received \(sample.bytes) body bytes, expected \(body)")
            }
        }

        for client in clients {
            printError("\(corpus.label) × \(repeats): warm-up \(client.rawValue)")
            check(client, try await sample(client, verifyingOutput: true))
        }
        for round in 0..<options.runs {
            let order = Array(clients[(round % clients.count)...] + clients[..<(round % clients.count)])
            for client in order {
                let measured = try await sample(client)
                check(client, measured)
                result.samples[client, default: []].append(measured)
                printError(
                    "\(corpus.label) × \(repeats): run \(round + 1)/\(options.runs) \(client.rawValue): "
                        + "\(fixed(measured.wallSeconds, 3)) s, CPU \(fixed(measured.cpuSeconds, 3)) s"
                        + (measured.pauses.map { ", \($0) pauses" } ?? ""))
            }
        }
        return result
    }
}
