import Foundation
import SSETestSupport
import Testing

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
        let process = try ChildProcess(executablePath!, ["--port", "0"])
        let line = try await process.firstLine()
        #expect(line.hasPrefix("listening on http://127.0.0.1:"))
        let port = try #require(Int(line.split(separator: ":").last ?? ""))
        // The raw client sends each request in one write and reads to the server's close. (The
        // service's own HTTPClient writes the request head and its end separately; a server that
        // answers and closes in between makes the second write fail with "I/O on closed channel".)
        let status = try await RawHTTPClient.exchange(port: port, .get("/", headers: ["Connection: close"]))
        #expect(status.status == 200)
        #expect(String(decoding: status.wireBody, as: UTF8.self).contains(#""name":"swift-sse""#))
        let stop = try await RawHTTPClient.exchange(port: port, .request("DELETE", "/"))
        #expect(stop.status == 204)

        let result = try await process.finish()
        #expect(result.status == 0)
        #expect(result.stderrText.contains("GET / -> 200"))
        #expect(result.stderrText.contains("stopped"))
    }

    @Test("stops on SIGTERM with exit code 0", .enabled(if: executablePath != nil))
    func terminates() async throws {
        let process = try ChildProcess(executablePath!, ["--port", "0", "--quiet"])
        _ = try await process.firstLine()
        process.send(SIGTERM)
        #expect(try await process.finish().status == 0)
    }

    @Test(
        "rejects bad arguments with exit code 1", .enabled(if: executablePath != nil),
        arguments: [
            ["--bogus"], ["--port"], ["--port", "70000"], ["--port", "x"],
        ])
    func badArguments(arguments: [String]) async throws {
        #expect(try await ChildProcess.run(executablePath!, arguments).status == 1)
    }
}
