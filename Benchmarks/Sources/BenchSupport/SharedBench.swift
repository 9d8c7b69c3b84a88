#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where things are: this checkout's `Benchmarks` folder, the repository, and the helpers in
/// `shared/bench` (the corpus generator and the C servers).
public struct BenchPaths: Sendable {
    /// The folder holding `gen_corpus.py`, `blast.c` and `sink.c`.
    public let sharedBench: String

    /// The `Benchmarks` folder of this checkout, found from this source file's path.
    public static let benchmarks: String = {
        var path = "\(#filePath)"
        for _ in 0..<3 {  // BenchSupport/SharedBench.swift, Sources, Benchmarks
            path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        }
        return path
    }()

    /// The repository root (the parent of `Benchmarks`).
    public static var repository: String {
        String(benchmarks[..<(benchmarks.lastIndex(of: "/") ?? benchmarks.startIndex)])
    }

    /// `Benchmarks/Servers`, the C servers of these benchmarks.
    public static var servers: String { benchmarks + "/Servers" }
    /// `Benchmarks/Clients`: the C clients that give floors (`epoll_floor.c`).
    public static var clients: String { benchmarks + "/Clients" }

    /// `shared/bench/gen_corpus.py`.
    public var generator: String { sharedBench + "/gen_corpus.py" }

    /// The path of a file in `shared/bench`.
    public func shared(_ name: String) -> String { sharedBench + "/" + name }

    /// Finds the helpers: in `$SHARED_BENCH` when it is set, else in `shared/bench` next to the
    /// repository, else next to the working directory or its parent.
    public static func locate() throws -> BenchPaths {
        let candidates: [String]
        if let explicit = getenv("SHARED_BENCH").map({ String(cString: $0) }), !explicit.isEmpty {
            // Asked for by name: no quiet fallback to another copy.
            candidates = [explicit]
        } else {
            candidates = [repository + "/../shared/bench", "../shared/bench", "../../shared/bench"]
        }
        for candidate in candidates
        where access(candidate + "/gen_corpus.py", R_OK) == 0 && access(candidate + "/blast.c", R_OK) == 0 {
            return BenchPaths(sharedBench: canonical(candidate))
        }
        throw BenchmarkError(
            "cannot find gen_corpus.py and blast.c in any of \(candidates.joined(separator: ", ")); "
                + "set SHARED_BENCH to the folder that holds them"
        )
    }
}

/// The absolute path with `..` resolved, or the path as given if it does not exist.
public func canonical(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}

/// Compiles a C program with `gcc -O2` into `directory` and returns the executable's path.
public func compileC(_ source: String, into directory: String, libraries: [String] = []) throws -> String {
    var name = String(source[source.index(after: source.lastIndex(of: "/") ?? source.startIndex)...])
    if name.hasSuffix(".c") { name.removeLast(2) }
    let executable = directory + "/" + name
    let compiler = try runProgram(["gcc", "-O2", "-o", executable, source] + libraries.map { "-l" + $0 })
    guard compiler.termination.status == 0 else {
        throw BenchmarkError("gcc -O2 could not compile \(source):\n\(compiler.standardError)")
    }
    return executable
}

/// The `key=value` words of some text, such as `bytes=4198993 (4.00 MiB)  events=2039`.
public func keyValues(in text: some StringProtocol) -> [String: String] {
    var result: [String: String] = [:]
    for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
        guard let equals = word.firstIndex(of: "=") else { continue }
        result[String(word[..<equals])] = String(word[word.index(after: equals)...])
    }
    return result
}
