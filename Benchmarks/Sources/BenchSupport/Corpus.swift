#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A corpus file made by `gen_corpus.py --profile PROFILE --size SIZE` (default seed), and what
/// the generator said about it. Generated once into a folder (by default `Benchmarks/.corpora`,
/// shared with `parser-bench`) and reused while its summary is newer than the generator.
public struct Corpus: Sendable {
    /// `mixed` or `tokens`.
    public var profile: String
    /// The `--size` argument, such as `64M`.
    public var size: String
    /// The corpus file.
    public var path: String
    /// Its size in bytes.
    public var byteCount: Int
    /// How many events a WHATWG parser dispatches from it, as the generator counted them.
    public var dispatchedEvents: Int
    /// The generator's SHA-256 of the bytes.
    public var sha256: String

    /// The name used in tables, such as `mixed 64 MiB`.
    public var label: String {
        size.hasSuffix("M") ? "\(profile) \(size.dropLast()) MiB" : "\(profile) \(size)"
    }

    /// The default corpus folder, `Benchmarks/.corpora`.
    public static var defaultDirectory: String { BenchPaths.benchmarks + "/.corpora" }

    /// Reuses the corpus in `directory` when its summary describes the file and is newer than the
    /// generator, else generates it (under a temporary name, renamed when complete).
    public static func prepare(profile: String, size: String, in directory: String, paths: BenchPaths) throws -> Corpus
    {
        let file = "\(directory)/\(profile)-\(size).sse"
        let summaryFile = file + ".summary"
        if modificationTime(summaryFile) >= modificationTime(paths.generator),
            let corpus = load(profile: profile, size: size, file: file, summaryFile: summaryFile)
        {
            return corpus
        }
        mkdir(directory, 0o755)
        printError("generating the \(profile) \(size) corpus into \(file)")
        let partial = file + ".partial"
        let output = try runProgram([
            "python3", paths.generator, "-o", partial, "--profile", profile, "--size", size,
        ])
        guard output.termination.status == 0 else {
            throw BenchmarkError(
                "gen_corpus.py exited with status \(output.termination.status): \(output.standardError)")
        }
        guard rename(partial, file) == 0 else {
            throw BenchmarkError("cannot rename \(partial) to \(file): \(String(cString: strerror(errno)))")
        }
        try writeFile(summaryFile, output.standardError)
        guard let corpus = load(profile: profile, size: size, file: file, summaryFile: summaryFile) else {
            throw BenchmarkError("the summary \(summaryFile) does not describe \(file)")
        }
        return corpus
    }

    private static func load(profile: String, size: String, file: String, summaryFile: String) -> Corpus? {
        let values = keyValues(in: readSmallFile(summaryFile))
        guard let bytes = values["bytes"].flatMap({ Int($0) }), let events = values["events"].flatMap({ Int($0) }),
            let sha256 = values["sha256"], fileSize(file) == bytes
        else { return nil }
        return Corpus(
            profile: profile, size: size, path: file, byteCount: bytes, dispatchedEvents: events, sha256: sha256)
    }
}

/// The modification time of a file in seconds, or -1 if it does not exist.
func modificationTime(_ path: String) -> Double {
    var status = stat()
    guard stat(path, &status) == 0 else { return -1 }
    return Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) * 1e-9
}

/// The size of a file in bytes, or -1 if it does not exist.
public func fileSize(_ path: String) -> Int {
    var status = stat()
    guard stat(path, &status) == 0 else { return -1 }
    return Int(status.st_size)
}

/// Writes `text` to the file at `path`, replacing it.
func writeFile(_ path: String, _ text: String) throws {
    guard let file = fopen(path, "w") else {
        throw BenchmarkError("cannot write \(path): \(String(cString: strerror(errno)))")
    }
    defer { fclose(file) }
    fputs(text, file)
}
