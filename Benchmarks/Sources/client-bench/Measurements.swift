import BenchSupport
import SSEClient
import SSEParser

#if canImport(Glibc)
    import Glibc
#endif

/// How each client is run and timed.
enum Measurements {
    /// `sink PORT PATH BUFFER`: its own timing (connect to end of body), bytes include the head.
    static func sink(_ program: String, server: LocalServer, pathAndQuery: String, buffer: Int) throws -> Sample {
        let output = try runProgram([program, String(server.port), pathAndQuery, String(buffer)])
        let values = keyValues(in: output.standardOutput)
        guard output.termination.status == 0, let bytes = values["bytes"].flatMap({ Int($0) }),
            let seconds = values["seconds"].flatMap({ Double($0) })
        else {
            throw BenchmarkError("sink failed (status \(output.termination.status)): \(output.standardError)")
        }
        return Sample(wallSeconds: seconds, cpuSeconds: output.termination.cpuSeconds, bytes: bytes, events: nil)
    }

    /// `curl -sN URL -o /dev/null`, timed by curl itself (`%{time_total}`: from the start of the
    /// transfer to its end, without the process's start-up, as for the in-process clients).
    static func curl(url: String, options: [String] = []) throws -> Sample {
        let output = try runProgram(
            ["curl", "-sN"] + options + [url, "-o", "/dev/null", "-w", "%{time_total} %{size_download}"])
        let words = output.standardOutput.split(separator: " ")
        guard output.termination.status == 0, words.count == 2, let seconds = Double(words[0]),
            let bytes = Int(words[1])
        else {
            throw BenchmarkError("curl failed (status \(output.termination.status)): \(output.standardOutput)")
        }
        return Sample(wallSeconds: seconds, cpuSeconds: output.termination.cpuSeconds, bytes: bytes, events: nil)
    }

    /// `sse-listen -q --format data --no-reconnect URL`, standard output to `outputPath`
    /// (`/dev/null` when timing), timed from start to exit as a user of the command would see it.
    static func sseListen(_ program: String, url: String, outputPath: String = "/dev/null") throws -> Sample {
        let watch = Stopwatch()
        let child = try ChildProcess(
            [program, "-q", "--format", "data", "--no-reconnect", url],
            standardOutput: .file(outputPath),
            standardError: .inherit
        )
        let termination = child.wait()
        let wall = watch.wallSeconds
        guard termination.status == 0 else {
            throw BenchmarkError("sse-listen exited with status \(termination.status)")
        }
        return Sample(wallSeconds: wall, cpuSeconds: termination.cpuSeconds, bytes: 0, events: nil)
    }

    /// An `EventSource` consumed with `for try await` and a body that only counts: created,
    /// connected and drained under the clocks. It finishes at the end of the body, and does not
    /// reconnect, so a failure shows instead of being retried.
    static func library(url: String, transport: HTTP2Front? = nil) async throws -> Sample {
        var configuration = EventSource.Configuration(reconnect: .disabled, endOfStream: .finish)
        if let transport {
            configuration.tls.caFile = transport.certificatePath
            configuration.transport.httpVersion = .http2
        }
        let watch = Stopwatch()
        let source = EventSource(url: url, configuration: configuration)
        var events = 0
        for try await _ in source.events {
            events += 1
        }
        let wall = watch.wallSeconds
        let cpu = watch.cpuSeconds
        let metrics = source.metrics
        return Sample(wallSeconds: wall, cpuSeconds: cpu, bytes: metrics.bytes, events: events, pauses: metrics.pauses)
    }

    /// What `sse-listen --format data` writes for `repeats` copies of the corpus: each event's data
    /// and a line feed, found with `EventStreamParser` on the file.
    static func expectedDataOutput(corpus: Corpus, repeats: Int) throws -> (bytes: Int, events: Int) {
        let bytes = try readFile(corpus.path)
        var parser = EventStreamParser()
        var outputBytes = 0
        var events = 0
        try bytes.withUnsafeBytes { buffer in
            try parser.parse(buffer) { item in
                if case .event(let event) = item {
                    outputBytes += event.data.utf8.count + 1
                    events += 1
                }
            }
        }
        parser.finish()
        return (outputBytes * repeats, events * repeats)
    }
}

/// nginx in front of blast for `--http2`: the URL and the CA file that verifies it.
struct HTTP2Front {
    var url: String
    var certificatePath: String

    /// curl's options for it.
    var curlOptions: [String] { ["--http2", "--cacert", certificatePath] }
}

/// The whole file in memory.
func readFile(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else {
        throw BenchmarkError("cannot read \(path): \(String(cString: strerror(errno)))")
    }
    defer { fclose(file) }
    fseek(file, 0, SEEK_END)
    let size = ftell(file)
    fseek(file, 0, SEEK_SET)
    var bytes = [UInt8](repeating: 0, count: size)
    let count = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, file) }
    guard count == size else { throw BenchmarkError("short read of \(path)") }
    return bytes
}
