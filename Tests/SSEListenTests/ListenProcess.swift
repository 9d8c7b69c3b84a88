import Foundation
import Synchronization
import Testing

/// A failure of the harness itself: something took too long, or a file was missing.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What a finished `sse-listen` run left behind.
struct ListenResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutBytes: [UInt8]

    var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }

    /// The jsonl lines decoded as `[key: value]`, failing the test on a line that is not a JSON object.
    func jsonObjects(sourceLocation: SourceLocation = #_sourceLocation) -> [[String: String]] {
        stdoutLines.compactMap { line in
            guard let data = line.data(using: .utf8),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: String]
            else {
                Issue.record("not a JSON object of strings: \(line)", sourceLocation: sourceLocation)
                return nil
            }
            return object
        }
    }

    var ids: [String] { jsonObjects().map { $0["id"] ?? "?" } }
}

/// The `sse-listen` binary built next to this test bundle, run as a subprocess with pipes.
///
/// `swift build --build-tests` builds every product into the same directory as the test bundle
/// (`.build/<triple>/debug`), so the binary is found by walking up from the running executable.
/// `SSE_LISTEN_BINARY` overrides the search.
final class ListenProcess: Sendable {
    static let binary: String = locateBinary()

    private static func locateBinary() -> String {
        if let override = ProcessInfo.processInfo.environment["SSE_LISTEN_BINARY"] { return override }
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        for _ in 0..<6 {
            for candidate in ["sse-listen", "debug/sse-listen"] {
                let path = directory.appendingPathComponent(candidate).path
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
            directory = directory.deletingLastPathComponent()
        }
        return "sse-listen-binary-not-found-next-to-\(executable)"
    }

    private let process: Process
    private let stdoutReader = PipeReader()
    private let stderrReader = PipeReader()
    private let exit = ExitWatch()

    /// Starts `sse-listen arguments…` with `environment` added to a copy of this process's
    /// (minus `NO_COLOR`, unless given), writing `stdin` to its standard input and closing it.
    init(
        _ arguments: [String],
        environment: [String: String] = [:],
        stdin: [UInt8]? = nil,
        shell script: String? = nil
    ) throws {
        process = Process()
        if let script {
            // `bash -c SCRIPT bash BINARY ARGUMENTS…`: the script runs the binary as "$@".
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", script, "bash", Self.binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = arguments
        }
        var variables = ProcessInfo.processInfo.environment
        variables["NO_COLOR"] = nil
        variables.merge(environment) { $1 }
        process.environment = variables
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        let stdinPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = stdinPipe
        process.terminationHandler = { [exit] _ in exit.markExited() }
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw HarnessError("sse-listen not built: \(Self.binary) (run swift build --build-tests)")
        }
        try process.run()
        stdoutReader.start(stdoutPipe.fileHandleForReading)
        stderrReader.start(stderrPipe.fileHandleForReading)
        let input = stdinPipe.fileHandleForWriting
        if let stdin { input.write(Data(stdin)) }
        try? input.close()
    }

    var pid: Int32 { process.processIdentifier }

    /// Standard output so far.
    var stdoutSoFar: String { String(decoding: stdoutReader.bytes, as: UTF8.self) }

    /// Standard error so far.
    var stderrSoFar: String { String(decoding: stderrReader.bytes, as: UTF8.self) }

    /// Waits until standard output has at least `count` lines.
    func waitForStdoutLines(_ count: Int, timeout: Duration = .seconds(10)) async throws {
        try await poll(timeout, "\(count) lines on stdout") {
            self.stdoutSoFar.split(separator: "\n").count >= count
        }
    }

    /// Waits until standard error contains `text`.
    func waitForStderr(containing text: String, timeout: Duration = .seconds(10)) async throws {
        try await poll(timeout, "'\(text)' on stderr") { self.stderrSoFar.contains(text) }
    }

    private func poll(_ timeout: Duration, _ what: String, _ condition: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            // Once both pipes are closed nothing more can arrive.
            let outputEnded = stdoutReader.isDone && stderrReader.isDone
            if outputEnded || ContinuousClock.now >= deadline {
                if outputEnded && condition() { return }
                throw HarnessError(
                    "no \(what) (\(outputEnded ? "output ended" : "timed out")); "
                        + "stdout: \(stdoutSoFar.suffix(500)); stderr: \(stderrSoFar.suffix(500))"
                )
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit (killing it after `timeout`) and for both pipes to close.
    func finish(timeout: Duration = .seconds(15)) async throws -> ListenResult {
        let finished = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.exit.wait()
                return true
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
        if !finished {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw HarnessError(
                "sse-listen did not exit within \(timeout); stdout: \(stdoutSoFar.suffix(500)); stderr: \(stderrSoFar.suffix(500))"
            )
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while !(stdoutReader.isDone && stderrReader.isDone) {
            // A grandchild holding the pipes open would keep them from closing.
            guard ContinuousClock.now < deadline else { throw HarnessError("the output pipes did not close") }
            try await Task.sleep(for: .milliseconds(5))
        }
        let stdoutBytes = stdoutReader.bytes
        return ListenResult(
            status: process.terminationStatus,
            stdout: String(decoding: stdoutBytes, as: UTF8.self),
            stderr: stderrSoFar,
            stdoutBytes: stdoutBytes
        )
    }

    /// Runs `sse-listen arguments…` to its end.
    static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        stdin: [UInt8]? = nil,
        shell script: String? = nil,
        timeout: Duration = .seconds(15)
    ) async throws -> ListenResult {
        try await ListenProcess(arguments, environment: environment, stdin: stdin, shell: script)
            .finish(timeout: timeout)
    }
}

/// Lets a task wait for a process's termination handler.
final class ExitWatch: Sendable {
    private let state = Mutex<(exited: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func markExited() {
        let waiter = state.withLock { state in
            state.exited = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if state.exited { return true }
                state.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }
}

/// Reads a pipe to its end on a thread of its own (blocking reads), never on the test's pool.
final class PipeReader: Sendable {
    private let buffer = Mutex<[UInt8]>([])
    private let done = Atomic<Bool>(false)

    var bytes: [UInt8] { buffer.withLock { $0 } }
    var isDone: Bool { done.load(ordering: .acquiring) }

    func start(_ handle: FileHandle) {
        let fd = handle.fileDescriptor
        Thread.detachNewThread {
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    self.buffer.withLock { $0.append(contentsOf: chunk[0..<count]) }
                } else if count == 0 || errno != EINTR {
                    break
                }
            }
            try? handle.close()
            self.done.store(true, ordering: .releasing)
        }
    }
}

/// A fresh temporary directory, removed when the value goes away.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "sse-listen-tests-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String { path + "/" + name }
}

/// Fast reconnects for the binary: `--retry-initial 10 --retry-max 50`.
let fastRetries = ["--retry-initial", "10", "--retry-max", "50"]
