#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A compiled C helper program in a temporary folder, removed by ``remove()``.
public struct CompiledProgram: Sendable {
    /// The executable.
    public let path: String

    /// Compiles `source` with `gcc -O2` into a new temporary folder, linking `libraries`
    /// (`"curl"` for `-lcurl`).
    public init(source: String, libraries: [String] = []) throws {
        let directory = try temporaryDirectory("bin")
        path = try compileC(source, into: directory, libraries: libraries)
    }

    /// Deletes the executable and its folder.
    public func remove() {
        unlink(path)
        rmdir(String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]))
    }
}

/// A running loopback server started from a ``CompiledProgram``; stopped by ``stop()`` or when
/// released.
public final class LocalServer: Sendable {
    /// The port it listens on, on 127.0.0.1.
    public let port: Int
    /// The server process.
    public let process: ChildProcess

    init(port: Int, process: ChildProcess) {
        self.port = port
        self.process = process
    }

    /// `http://127.0.0.1:PORT` followed by `pathAndQuery`.
    public func url(_ pathAndQuery: String = "/") -> String {
        "http://127.0.0.1:\(port)\(pathAndQuery)"
    }

    /// Stops the server (SIGTERM) and returns the CPU seconds it used.
    @discardableResult
    public func stop() -> Double {
        process.terminate().cpuSeconds
    }

    /// `shared/bench/blast.c` serving `corpus` (`?n=K` repeats it K times, 1 by default) on a
    /// free port; returns once it listens.
    public static func blast(_ program: CompiledProgram, corpus: Corpus) throws -> LocalServer {
        try blast(program, file: corpus.path)
    }

    /// `shared/bench/blast.c` serving the file at `path` (which should end on a blank line) on a
    /// free port; returns once it listens.
    public static func blast(_ program: CompiledProgram, file path: String) throws -> LocalServer {
        let port = try freePort()
        let process = try ChildProcess(
            [program.path, path, String(port), "1"], standardOutput: .discard, standardError: .pipe)
        // blast says "blast: N bytes x K on http://…" once it listens.
        guard let line = process.readLine(from: process.standardError!, timeout: 30), line.hasPrefix("blast:") else {
            process.terminate()
            throw BenchmarkError("blast did not start on port \(port)")
        }
        return LocalServer(port: port, process: process)
    }

    /// `Benchmarks/Servers/ticker.c` on a port of its choosing; returns once it listens.
    public static func ticker(_ program: CompiledProgram) throws -> LocalServer {
        let process = try ChildProcess([program.path, "0"], standardOutput: .pipe, standardError: .inherit)
        guard let line = process.readLine(from: process.standardOutput!, timeout: 30), line.hasPrefix("port="),
            let port = Int(line.dropFirst(5))
        else {
            process.terminate()
            throw BenchmarkError("ticker did not start")
        }
        return LocalServer(port: port, process: process)
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and released).
public func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw BenchmarkError("cannot create a socket") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
        }
    }
    guard bound else { throw BenchmarkError("cannot bind a socket to 127.0.0.1:0") }
    return Int(UInt16(bigEndian: address.sin_port))
}
