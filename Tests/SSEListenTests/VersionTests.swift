import Foundation
import SSEParser
import SSETestServer
import Testing

/// One version, everywhere it is shown: `sse-listen --version`, `sse-test-server --version` and
/// the `User-Agent` the library sends.
@Suite("version", .timeLimit(.minutes(1)))
struct VersionTests {
    @Test("the constant is a semantic version")
    func constant() {
        let parts = SwiftSSEVersion.current.split(separator: ".")
        #expect(parts.count == 3 && parts.allSatisfy { Int($0) != nil }, "\(SwiftSSEVersion.current)")
    }

    @Test("sse-listen --version prints it and exits 0")
    func listen() async throws {
        let result = try await ListenProcess.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout == SwiftSSEVersion.current + "\n")
        #expect(result.stderr.isEmpty)
    }

    @Test("sse-test-server --version prints it and exits 0")
    func testServer() async throws {
        let binary = URL(fileURLWithPath: ListenProcess.binary).deletingLastPathComponent()
            .appendingPathComponent("sse-test-server").path
        let result = try await ListenProcess.run(["--version"], shell: "exec \(binary) \"${@:2}\"")
        #expect(result.status == 0)
        #expect(result.stdout == SwiftSSEVersion.current + "\n")
    }

    @Test("the User-Agent is swift-sse/VERSION libcurl/VERSION")
    func userAgent() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run([server.url(for: .numbered(count: 1)), "--no-reconnect"])
            #expect(result.status == 0)
            let agent = try #require(server.requests.first?.header("User-Agent"))
            #expect(agent.hasPrefix("swift-sse/\(SwiftSSEVersion.current) libcurl/"), "\(agent)")
        }
    }
}
