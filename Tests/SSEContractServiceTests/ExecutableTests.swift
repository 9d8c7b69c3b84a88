import Foundation
import SSETestServer
import Testing

@testable import SSEContractService

/// The `sse-contract-service` executable, built next to the test bundle.
let executablePath: String? = {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("sse-contract-service").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory.deleteLastPathComponent()
    }
    return nil
}()

@Suite("The sse-contract-service executable", .timeLimit(.minutes(1)))
struct ExecutableTests {
    @Test(
        "prints the URL it listens on, serves, logs on stderr, and exits 0 on DELETE /",
        .enabled(if: executablePath != nil))
    func runs() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executablePath!)
        process.arguments = ["--port", "0"]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let line = try await ChildProcess.firstLine(of: output.fileHandleForReading, from: process)
        #expect(line.hasPrefix("listening on http://127.0.0.1:"))
        let url = try #require(HTTPURL(String(line.dropFirst("listening on ".count))))
        let client = HTTPClient()
        let status = try await client.send(HTTPRequestMessage(method: "GET", target: "/"), to: url)
        #expect(status.status == 200)
        #expect(status.bodyText.contains(#""name":"swift-sse""#))
        let stop = try await client.send(HTTPRequestMessage(method: "DELETE", target: "/"), to: url)
        #expect(stop.status == 204)

        #expect(try await ChildProcess.exitStatus(of: process) == 0)
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("GET / -> 200"))
        #expect(log.contains("stopped"))
    }

    @Test("stops on SIGTERM with exit code 0", .enabled(if: executablePath != nil))
    func terminates() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executablePath!)
        process.arguments = ["--port", "0", "--quiet"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        _ = try await ChildProcess.firstLine(of: output.fileHandleForReading, from: process)
        process.terminate()
        #expect(try await ChildProcess.exitStatus(of: process) == 0)
    }

    @Test(
        "rejects bad arguments with exit code 1", .enabled(if: executablePath != nil),
        arguments: [
            ["--bogus"], ["--port"], ["--port", "70000"], ["--port", "x"],
        ])
    func badArguments(arguments: [String]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executablePath!)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        #expect(try await ChildProcess.exitStatus(of: process) == 1)
    }
}
