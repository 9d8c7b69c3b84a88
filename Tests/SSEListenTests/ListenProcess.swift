import Foundation
import SSETestSupport
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

    private let child: ChildProcess

    /// Starts `sse-listen arguments…` with `environment` added to a copy of this process's
    /// (minus `NO_COLOR` and the proxy variables, unless given), writing `stdin` to its standard
    /// input and closing it.
    init(
        _ arguments: [String],
        environment: [String: String] = [:],
        stdin: [UInt8]? = nil,
        shell script: String? = nil
    ) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw HarnessError("sse-listen not built: \(Self.binary) (run swift build --build-tests)")
        }
        var variables = ProcessInfo.processInfo.environment
        variables["NO_COLOR"] = nil
        // A proxy the machine's environment names must not catch the tests' loopback requests.
        for name in ["http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"] {
            variables[name] = nil
        }
        variables.merge(environment) { $1 }
        if let script {
            // `bash -c SCRIPT bash BINARY ARGUMENTS…`: the script runs the binary as "$@".
            child = try ChildProcess(
                "/bin/bash", ["-c", script, "bash", Self.binary] + arguments, environment: variables, stdin: stdin)
        } else {
            child = try ChildProcess(Self.binary, arguments, environment: variables, stdin: stdin)
        }
    }

    var pid: Int32 { child.pid }

    /// Standard output so far.
    var stdoutSoFar: String { String(decoding: child.stdout, as: UTF8.self) }

    /// Standard error so far.
    var stderrSoFar: String { String(decoding: child.stderr, as: UTF8.self) }

    /// Waits until standard output has at least `count` lines (30 seconds at most).
    func waitForStdoutLines(_ count: Int, timeout: Duration = .seconds(30)) async throws {
        try await child.waitForOutput("\(count) lines on stdout", timeout: timeout) { stdout, _ in
            stdout.split(separator: UInt8(ascii: "\n")).count >= count
        }
    }

    /// Waits until standard error contains `text` (30 seconds at most).
    func waitForStderr(containing text: String, timeout: Duration = .seconds(30)) async throws {
        try await child.waitForOutput("'\(text)' on stderr", timeout: timeout) { _, stderr in
            String(decoding: stderr, as: UTF8.self).contains(text)
        }
    }

    func send(_ signal: Int32) {
        child.send(signal)
    }

    /// Waits for the process to exit (killing it after `timeout`: a bound on a hang, 60 seconds by
    /// default) and for both pipes to close.
    func finish(timeout: Duration = .seconds(60)) async throws -> ListenResult {
        let result = try await child.finish(timeout: timeout)
        return ListenResult(
            status: result.status,
            stdout: result.stdoutText,
            stderr: result.stderrText,
            stdoutBytes: result.stdout
        )
    }

    /// Runs `sse-listen arguments…` to its end.
    static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        stdin: [UInt8]? = nil,
        shell script: String? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> ListenResult {
        try await ListenProcess(arguments, environment: environment, stdin: stdin, shell: script)
            .finish(timeout: timeout)
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
