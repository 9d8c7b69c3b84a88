import Foundation
import SSEClient
import SSEListenCore
import SSETestServer
import Testing

/// `--connect-timeout` and `--max-event-size`: the library settings they map to, their checks,
/// and the event size limit against the real server.
@Suite("sse-listen --connect-timeout and --max-event-size", .timeLimit(.minutes(1)))
struct LimitOptionTests {
    static let pipes = TerminalEnvironment(stdoutIsTerminal: false, stderrIsTerminal: false, variables: [:])

    func configuration(_ arguments: [String]) throws -> EventSource.Configuration {
        try ListenPlan.resolve(SSEListen.parse(["http://h/"] + arguments), environment: Self.pipes).configuration
    }

    @Test("defaults are the library's: 30 s to connect, 16 MiB per event")
    func defaults() throws {
        let configuration = try configuration([])
        #expect(configuration.connectTimeout == .seconds(30))
        #expect(configuration.maximumEventSize == 16 * 1024 * 1024)
    }

    @Test("--connect-timeout SECONDS and --max-event-size BYTES reach the configuration")
    func mapped() throws {
        let configuration = try configuration(["--connect-timeout", "2.5", "--max-event-size", "1024"])
        #expect(configuration.connectTimeout == .milliseconds(2500))
        #expect(configuration.maximumEventSize == 1024)
        // Never rounded down to nothing.
        #expect(try self.configuration(["--connect-timeout", "0.0001"]).connectTimeout == .milliseconds(1))
    }

    @Test(
        "bad values are usage errors that say what is wanted",
        arguments: [
            (["--connect-timeout", "0"], "--connect-timeout must be positive (a finite number of seconds), got 0"),
            (["--connect-timeout", "-3"], "--connect-timeout must be positive (a finite number of seconds), got -3"),
            (["--connect-timeout", "inf"], "--connect-timeout must be positive (a finite number of seconds), got inf"),
            (["--max-event-size", "0"], "--max-event-size must be positive (bytes), got 0"),
            (["--max-event-size", "-1"], "--max-event-size must be positive (bytes), got -1"),
        ]
    )
    func badValues(arguments: [String], message: String) async throws {
        let result = try await ListenProcess.run(["http://127.0.0.1:1/"] + arguments)
        #expect(result.status == 1)
        #expect(result.stderrLines.first == "sse-listen: error: \(message)")
    }

    @Test("an event over --max-event-size ends the run with 2 and says so; a larger limit lets it through")
    func eventSize() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .largeEvent(size: 4096))
            let tooLarge = try await ListenProcess.run([url, "--max-event-size", "1000", "--format", "data"])
            #expect(tooLarge.status == 2)
            #expect(tooLarge.stdout.isEmpty)
            #expect(
                tooLarge.stderrLines.last
                    == "sse-listen: error: an event from \(url) is larger than the maximum event size of 1000 bytes; "
                    + "not retrying")

            let fits = try await ListenProcess.run([
                url, "--max-event-size", "5000", "--format", "data", "--no-reconnect",
            ])
            #expect(fits.status == 0)
            #expect(fits.stdout.utf8.count == 4096 + 1)
        }
    }

    @Test("--connect-timeout fails an attempt whose server never sends the response head, and retries")
    func connectTimeout() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run(
                [server.url(for: .hangBeforeHeaders), "--connect-timeout", "0.3", "--max-retries", "1"] + fastRetries)
            #expect(result.status == 2)
            #expect(server.requests.count == 2)
            #expect(result.stderr.contains("gave up"))
            #expect(result.stderr.contains("sent no response within 300 ms (connect timeout)"), "\(result.stderr)")
        }
    }
}
