import Foundation

/// The helpers in `shared/bench`: the corpus generator and the C reference parser.
struct SharedBench {
    /// The folder holding `gen_corpus.py` and `limit.c`.
    let directory: URL

    var generator: URL { directory.appendingPathComponent("gen_corpus.py") }
    var limitSource: URL { directory.appendingPathComponent("limit.c") }

    /// The `Benchmarks` folder of this checkout, found from this source file's path.
    static let benchmarksDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // parser-bench
        .deletingLastPathComponent()  // Sources
        .deletingLastPathComponent()  // Benchmarks

    /// Finds the helpers: in `$SHARED_BENCH` when it is set, else in `shared/bench` next to the
    /// repository (as laid out for developers and CI), else relative to the working directory.
    static func locate() throws -> SharedBench {
        let candidates: [URL]
        if let explicit = ProcessInfo.processInfo.environment["SHARED_BENCH"], !explicit.isEmpty {
            // Asked for by name: no quiet fallback to another copy.
            candidates = [URL(fileURLWithPath: explicit)]
        } else {
            candidates = defaultCandidates
        }
        for candidate in candidates {
            let bench = SharedBench(directory: candidate.standardizedFileURL)
            if FileManager.default.isReadableFile(atPath: bench.generator.path),
                FileManager.default.isReadableFile(atPath: bench.limitSource.path)
            {
                return bench
            }
        }
        throw BenchmarkError(
            "cannot find gen_corpus.py and limit.c in any of "
                + candidates.map { $0.standardizedFileURL.path }.joined(separator: ", ")
                + "; set SHARED_BENCH to the folder that holds them"
        )
    }

    /// `shared/bench` next to the repository, then next to the working directory or its parent.
    private static var defaultCandidates: [URL] {
        let repository = benchmarksDirectory.deletingLastPathComponent()
        let workingDirectory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        return [
            repository.appendingPathComponent("../shared/bench"),
            workingDirectory.appendingPathComponent("../shared/bench"),
            workingDirectory.appendingPathComponent("../../shared/bench"),
        ]
    }
}

/// What a finished subprocess wrote.
struct ProcessOutput {
    var status: Int32
    var standardOutput: String
    var standardError: String
}

/// Runs a program found on `PATH` and waits for it.
///
/// Both pipes are read to the end one after the other: the helpers run here write a few lines
/// at most, far less than a pipe holds, so neither can block on a full pipe.
func runProcess(_ arguments: [String]) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessOutput(
        status: process.terminationStatus,
        standardOutput: String(decoding: outputData, as: UTF8.self),
        standardError: String(decoding: errorData, as: UTF8.self)
    )
}

/// The `key=value` words of a line of text, such as `bytes=4198993 (4.00 MiB)  events=2039`.
func keyValues(in text: String) -> [String: String] {
    var result: [String: String] = [:]
    for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
        guard let equals = word.firstIndex(of: "=") else { continue }
        result[String(word[..<equals])] = String(word[word.index(after: equals)...])
    }
    return result
}

/// `limit.c` compiled with `gcc -O2` into a temporary folder.
struct CLimit {
    /// The compiled program.
    let executable: URL

    /// One `sse` mode result, as `limit` printed it.
    struct Result {
        var byteCount: Int
        var events: Int
        var timing: Timing
    }

    static func compile(_ bench: SharedBench) throws -> CLimit {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("parser-bench-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let executable = directory.appendingPathComponent("limit")
        let compiler = try runProcess(["gcc", "-O2", "-o", executable.path, bench.limitSource.path])
        guard compiler.status == 0 else {
            throw BenchmarkError("gcc -O2 could not compile \(bench.limitSource.path): \(compiler.standardError)")
        }
        return CLimit(executable: executable)
    }

    /// Runs `limit CORPUS CHUNK RUNS sse`: one warm-up, then `runs` timed runs, medians printed.
    ///
    /// Its output is a header line `# file=… bytes=N chunk=N runs=N …`, a column header, and
    /// `sse median_s MB/s events/s events lines cpu_s MB/s(cpu)`.
    func run(corpus: Corpus, chunkSize: Int, runs: Int) throws -> Result {
        let output = try runProcess([executable.path, corpus.path, String(chunkSize), String(runs), "sse"])
        guard output.status == 0 else {
            throw BenchmarkError("\(executable.path) exited with status \(output.status): \(output.standardError)")
        }
        let lines = output.standardOutput.split(separator: "\n")
        let header = keyValues(in: String(lines.first { $0.hasPrefix("# ") } ?? ""))
        let columns = lines.first { $0.hasPrefix("sse ") }?.split(separator: " ") ?? []
        guard let bytes = header["bytes"].flatMap({ Int($0) }), columns.count >= 7,
            let wall = Double(columns[1]), let events = Int(columns[4]), let cpu = Double(columns[6])
        else {
            throw BenchmarkError("cannot read the output of \(executable.path):\n\(output.standardOutput)")
        }
        return Result(byteCount: bytes, events: events, timing: Timing(wallSeconds: wall, cpuSeconds: cpu, runs: runs))
    }

    /// Deletes the temporary folder.
    func remove() {
        try? FileManager.default.removeItem(at: executable.deletingLastPathComponent())
    }
}
