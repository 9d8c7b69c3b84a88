import Foundation
import SSEClient
import SSEParser
import SSETestServer
import SSETestSupport
import Synchronization
import Testing

/// The chaos soak: the test server's broadcast hub publishes numbered messages in bursts while its
/// fault injector (``Chaos``) drops connections at random byte offsets (FIN or RST), answers 503
/// with `Retry-After`, and hangs (so idle timeouts must fire), and the test restarts the whole
/// server on the same port now and then. Library consumers and `sse-listen` processes with state
/// files (one of them killed with SIGKILL and restarted) must each end with every message, in order.
///
/// It runs twice: over HTTP/1.1, and over HTTP/2 (TLS with ALPN), where the library consumers share
/// one connection, and the injector also ends whole connections (`GOAWAY`, TCP resets) under all
/// their streams at once.
///
/// CI runs a short mode (about 20 s each). `SSE_SOAK_MINUTES=30 make soak` runs the long one;
/// `SSE_SOAK_SEED` replays a seed. The figures are printed at the end.
@Suite("Chaos soak", .timeLimit(.minutes(90)))
struct ChaosSoakTests {
    private let environment = ProcessInfo.processInfo.environment

    @Test(
        "every consumer receives every message exactly once, in order, whatever the server does",
        arguments: ["HTTP/1.1", "HTTP/2"]
    )
    func soak(_ httpVersion: String) async throws {
        let http2 = httpVersion == "HTTP/2"
        // Over HTTP/2: TLS, so that ALPN negotiates it and libcurl multiplexes the library's
        // consumers on one connection (this libcurl cannot multiplex h2c, see HTTP2MultiplexingTests).
        let certificates = http2 ? try await TLSTerminator() : nil
        let tls = certificates?.serverIdentity()
        let minutes = environment["SSE_SOAK_MINUTES"].flatMap(Double.init) ?? 0
        let duration: Duration = minutes > 0 ? .milliseconds(Int64(minutes * 60_000)) : .seconds(20)
        let seed = environment["SSE_SOAK_SEED"].flatMap { UInt64($0) } ?? 0x50AC
        var random = SeededRandom(seed: seed)

        func configuration(history: [ServerSentEvent]) -> TestServer.Configuration {
            TestServer.Configuration(
                historyCapacity: 1_000_000, chaos: Chaos(seed: random.next(), endsConnections: http2),
                initialHubHistory: history, tls: tls)
        }
        var server = try await TestServer.start(configuration: configuration(history: []))
        let port = server.port
        let url = "\(http2 ? "https" : "http")://127.0.0.1:\(port)/subscribe"
        var versionsSeen: Set<String> = []
        var requestsPerConnection: [Double] = []
        func record(_ server: TestServer) {
            versionsSeen.formUnion(server.requests.map(\.httpVersion))
            requestsPerConnection.append(Double(server.requests.count) / Double(max(1, server.connectionCount)))
        }
        var faults: [Chaos.Fault: Int] = [:]
        var restarts = 0

        // Library consumers.
        let policy = ReconnectPolicy(
            initialDelay: .milliseconds(10),
            maximumDelay: .milliseconds(250),
            minimumRepeatDelay: .milliseconds(10)
        )
        let received = (0..<3).map { _ in IDSink() }
        var consumers: [Task<Void, any Error>] = []
        var sources: [EventSource] = []
        for index in 0..<3 {
            let source = EventSource(
                url: url,
                // "0": the hub replays everything after it, so a consumer that connects late, or
                // whose first connections fail, still starts at message 1.
                configuration: .init(
                    lastEventID: "0",
                    reconnect: policy,
                    idleTimeout: .milliseconds(250),
                    connectTimeout: .seconds(2),
                    tls: .init(caFile: certificates?.path("ca.pem"))
                )
            )
            sources.append(source)
            let sink = received[index]
            consumers.append(
                Task {
                    for try await event in source.events {
                        sink.ids.withLock { $0.append(Int(event.id) ?? -1) }
                    }
                })
        }

        // sse-listen consumers with state files; the second is killed and restarted.
        let directory = try TemporaryDirectory()
        func listen(_ index: Int) throws -> ListenProcess {
            try ListenProcess(
                [
                    url, "--format", "data", "--state-file", directory.file("state-\(index)"), "--last-event-id", "0",
                    "--retry-initial", "10",
                    "--retry-max", "250", "--idle-timeout", "0.25", "-q",
                ] + (certificates.map { ["--cacert", $0.path("ca.pem")] } ?? []))
        }
        let steady = try listen(0)
        var killed = try listen(1)
        var killedOutputs: [String] = []
        var kills = 0

        // Publish in bursts; restart the server now and then; kill one CLI consumer once in a while.
        let clock = ContinuousClock()
        let start = clock.now
        var published = 0
        var nextRestart = start + .seconds(3)
        var nextKill = start + .seconds(5)
        while clock.now - start < duration {
            for _ in 0..<(1 + Int(random.next() % 20)) {
                published += 1
                try await server.publish("\(published)")
            }
            try await Task.sleep(for: .milliseconds(Int64(random.next() % 15)))
            if clock.now >= nextRestart {
                let history = try await server.hubHistory()
                faults.merge(server.injectedFaults, uniquingKeysWith: +)
                record(server)
                try await server.shutdown()
                server = try await TestServer.start(port: port, configuration: configuration(history: history))
                restarts += 1
                nextRestart = clock.now + .milliseconds(2000 + Int64(random.next() % 3000))
            }
            if clock.now >= nextKill {
                killed.send(SIGKILL)
                killedOutputs.append(try await killed.finish().stdout)
                killed = try listen(1)
                kills += 1
                nextKill = clock.now + .milliseconds(4000 + Int64(random.next() % 4000))
            }
        }

        // Everyone must catch up with everything published.
        let total = published
        let deadline = clock.now + .seconds(60)
        func endsWithTotal(_ output: String) -> Bool { output == "\(total)\n" || output.hasSuffix("\n\(total)\n") }
        func caughtUp() -> Bool {
            // The restarted consumer's output so far may be empty: killed after the last message,
            // its predecessor had printed everything, and it has nothing to add.
            let killedOutput = ([killed.stdoutSoFar] + killedOutputs.reversed()).first { !$0.isEmpty } ?? ""
            return received.allSatisfy { $0.ids.withLock { $0.last == total } }
                && endsWithTotal(steady.stdoutSoFar) && endsWithTotal(killedOutput)
        }
        let catchUpStart = clock.now
        while !caughtUp() && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        if !caughtUp() {
            // Not a failure by itself (the checks below judge what each consumer ends with), but
            // a consumer this late is worth naming.
            func lastID(_ output: String) -> String { String(output.split(separator: "\n").last ?? "none") }
            let library = received.map { $0.ids.withLock { $0.last.map(String.init) ?? "none" } }
            print(
                "chaos soak over \(httpVersion): not all caught up with \(total) after "
                    + "\(clock.now - catchUpStart): library consumers at \(library), sse-listen at "
                    + "\(lastID(steady.stdoutSoFar)) and \(lastID(killed.stdoutSoFar)) (restarted)")
        }
        faults.merge(server.injectedFaults, uniquingKeysWith: +)
        record(server)
        for source in sources { source.close() }
        for consumer in consumers { _ = try? await consumer.value }
        steady.send(SIGTERM)
        killed.send(SIGTERM)
        let steadyOutput = try await steady.finish().stdout
        killedOutputs.append(try await killed.finish().stdout)
        try await server.shutdown()

        // Verify: every message once and in order; for the consumer killed with SIGKILL, the
        // messages of the batch it was writing at a kill may be printed again after it (its state
        // file is saved after each batch), but only those, and none may be missing.
        let expected = Array(1...total)
        var lost = 0
        var duplicated = 0
        for (index, sink) in received.enumerated() {
            let ids = sink.ids.withLock { $0 }
            let exact = ids == expected
            #expect(exact, "library consumer \(index): \(summary(ids, expected))")
            if !exact { lost += Set(expected).subtracting(ids).count }
        }
        let steadyIDs = steadyOutput.split(separator: "\n").compactMap { Int($0) }
        let steadyExact = steadyIDs == expected
        #expect(steadyExact, "sse-listen: \(summary(steadyIDs, expected))")
        var resumed: [Int] = []
        var duplicatesAtKills = 0
        for output in killedOutputs {
            let ids = output.split(separator: "\n").compactMap { Int($0) }
            let overlap = ids.prefix { $0 <= (resumed.last ?? 0) }.count
            #expect(
                Array(ids.prefix(overlap)) == Array(resumed.suffix(overlap)),
                "a restart may only repeat the last messages printed before the kill")
            duplicatesAtKills += overlap
            resumed += ids.dropFirst(overlap)
        }
        let resumedExact = resumed == expected
        #expect(resumedExact, "killed sse-listen: \(summary(resumed, expected))")
        lost += Set(expected).subtracting(resumed).count + Set(expected).subtracting(steadyIDs).count
        duplicated =
            received.map { sink in sink.ids.withLock { $0.count - Set($0).count } }.reduce(0, +)
            + (steadyIDs.count - Set(steadyIDs).count)
        #expect(lost == 0)
        #expect(duplicated == 0)
        #expect(restarts >= 2)
        #expect(faults[.dropFIN, default: 0] + faults[.dropRST, default: 0] > 10)
        #expect(versionsSeen == [httpVersion])
        if http2 {
            #expect(faults[.goAway, default: 0] + faults[.connectionReset, default: 0] > 2)
            // The library's three consumers shared connections: more requests than connections.
            #expect(requestsPerConnection.contains { $0 > 1.2 }, "\(requestsPerConnection)")
        }

        let faultList = Chaos.Fault.allCases.map { "\($0.rawValue) \(faults[$0, default: 0])" }.joined(separator: ", ")
        print(
            """
            chaos soak over \(httpVersion): seed \(seed), \(duration), \(total) messages to 5 consumers; \
            faults injected: \(faultList); server restarts \(restarts); SIGKILLs \(kills); \
            lost \(lost), duplicated \(duplicated), repeated after SIGKILL \(duplicatesAtKills)
            """
        )
    }

    private func summary(_ ids: [Int], _ expected: [Int]) -> String {
        let missing = Set(expected).subtracting(ids).sorted()
        let duplicates = ids.count - Set(ids).count
        return "\(ids.count) received, \(missing.count) missing (first \(missing.prefix(5))), \(duplicates) duplicated"
    }
}

/// The IDs one consumer received, in order.
final class IDSink: Sendable {
    let ids = Mutex<[Int]>([])
}
