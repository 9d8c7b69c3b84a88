import Foundation

/// Which corpus to generate: `gen_corpus.py --profile PROFILE --size SIZE` with its default seed.
struct CorpusSpec {
    /// `mixed` or `tokens`.
    var profile: String
    /// The `--size` argument, such as `64M`.
    var size: String

    /// The name used in the table, such as `mixed 64 MiB`.
    var label: String {
        size.hasSuffix("M") ? "\(profile) \(size.dropLast()) MiB" : "\(profile) \(size)"
    }

    /// The file name in the corpus folder; the summary sits next to it.
    var fileName: String { "\(profile)-\(size).sse" }
}

/// A generated corpus file and what its generator said about it.
struct Corpus {
    var spec: CorpusSpec
    /// The corpus file.
    var path: String
    /// Its size in bytes.
    var byteCount: Int
    /// How many events a WHATWG parser dispatches from it, as the generator counted them.
    var dispatchedEvents: Int
    /// The generator's SHA-256 of the bytes.
    var sha256: String

    /// Reuses the corpus in `directory` when its summary matches the file and is newer than the
    /// generator, else generates it.
    static func prepare(_ spec: CorpusSpec, in directory: URL, bench: SharedBench) throws -> Corpus {
        let file = directory.appendingPathComponent(spec.fileName)
        let summaryFile = directory.appendingPathComponent(spec.fileName + ".summary")
        if !isOlder(summaryFile, than: bench.generator),
            let corpus = try? load(spec, file: file, summaryFile: summaryFile)
        {
            return corpus
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        printError("generating \(spec.label) corpus into \(file.path)")
        // Written under a temporary name and renamed, so an interrupted run never leaves a
        // truncated corpus that looks complete.
        let partial = directory.appendingPathComponent(spec.fileName + ".partial")
        let output = try runProcess([
            "python3", bench.generator.path, "-o", partial.path, "--profile", spec.profile, "--size", spec.size,
        ])
        guard output.status == 0 else {
            throw BenchmarkError("gen_corpus.py exited with status \(output.status): \(output.standardError)")
        }
        try? FileManager.default.removeItem(at: file)
        try FileManager.default.moveItem(at: partial, to: file)
        try output.standardError.write(to: summaryFile, atomically: true, encoding: .utf8)
        return try load(spec, file: file, summaryFile: summaryFile)
    }

    /// Whether `file` was modified before `other`, as a corpus is when the generator changed since.
    private static func isOlder(_ file: URL, than other: URL) -> Bool {
        let manager = FileManager.default
        guard let fileDate = (try? manager.attributesOfItem(atPath: file.path))?[.modificationDate] as? Date,
            let otherDate = (try? manager.attributesOfItem(atPath: other.path))?[.modificationDate] as? Date
        else { return true }
        return fileDate < otherDate
    }

    private static func load(_ spec: CorpusSpec, file: URL, summaryFile: URL) throws -> Corpus {
        let summary = try String(contentsOf: summaryFile, encoding: .utf8)
        let values = keyValues(in: summary)
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        guard let bytes = values["bytes"].flatMap({ Int($0) }),
            let events = values["events"].flatMap({ Int($0) }),
            let sha256 = values["sha256"],
            (attributes[.size] as? NSNumber)?.intValue == bytes
        else {
            throw BenchmarkError("the summary \(summaryFile.path) does not describe \(file.path)")
        }
        return Corpus(spec: spec, path: file.path, byteCount: bytes, dispatchedEvents: events, sha256: sha256)
    }

    /// The whole file in memory.
    func readBytes() throws -> [UInt8] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard data.count == byteCount else {
            throw BenchmarkError("\(path) has \(data.count) bytes, its summary says \(byteCount)")
        }
        return [UInt8](data)
    }
}

/// Writes a line to standard error, where progress goes so that standard output is only the report.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
