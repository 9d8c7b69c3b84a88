import NIOCore
import SSETestSupport
import Testing

@testable import SSETestServer

@Suite("Chaos", .timeLimit(.minutes(1)))
struct ChaosTests {
    /// The first `count` draws of `chaos`, each with the scenario it makes of the plain hub stream.
    private func draws(_ chaos: Chaos, count: Int) -> [(fault: Chaos.Fault, scenario: Scenario)] {
        var random = SeededRandom(seed: chaos.seed)
        return (0..<count).map { _ in
            var scenario = Scenario()
            let fault = chaos.apply(to: &scenario, random: &random)
            return (fault, scenario)
        }
    }

    @Test("the same seed draws the same faults, with the same scenarios; another seed draws others")
    func sameSeedSameDraws() {
        let first = draws(Chaos(seed: 7), count: 200)
        let again = draws(Chaos(seed: 7), count: 200)
        #expect(first.map(\.fault) == again.map(\.fault))
        #expect(first.map(\.scenario) == again.map(\.scenario))
        #expect(draws(Chaos(seed: 8), count: 200).map(\.fault) != first.map(\.fault))
    }

    @Test("each fault becomes the scenario its documentation names, drops within the maximum offset")
    func faultsBecomeScenarios() {
        let chaos = Chaos(seed: 42, maximumDropOffset: 50)
        let all = draws(chaos, count: 1000)
        var counts: [Chaos.Fault: Int] = [:]
        for (fault, scenario) in all {
            counts[fault, default: 0] += 1
            switch fault {
            case .dropFIN, .dropRST:
                #expect((1...50).contains(scenario.dropAfterBytes ?? 0))
                #expect(scenario.ending == (fault == .dropFIN ? .close : .reset))
            case .goAway, .connectionReset:
                Issue.record("\(fault) drawn without endsConnections")
            case .unavailable:
                #expect(scenario.status == 503 && scenario.retryAfter == "0")
            case .hang:
                #expect(scenario.hang == .beforeHeaders)
            case .none:
                #expect(scenario == Scenario())
            }
        }
        // 25 %, 25 %, 10 %, 8 % and 32 % of the rolls: every kind turns up in a thousand.
        #expect(Set(counts.keys) == Set(Chaos.Fault.allCases).subtracting([.goAway, .connectionReset]), "\(counts)")
        #expect(counts.values.allSatisfy { $0 >= 30 }, "\(counts)")
    }

    @Test("with endsConnections, some drops end the whole connection: GOAWAY or a TCP reset")
    func connectionFaults() {
        let all = draws(Chaos(seed: 42, maximumDropOffset: 50, endsConnections: true), count: 1000)
        var counts: [Chaos.Fault: Int] = [:]
        for (fault, scenario) in all {
            counts[fault, default: 0] += 1
            let ending: [Chaos.Fault: Scenario.Ending] = [
                .dropFIN: .close, .dropRST: .reset, .goAway: .goAway, .connectionReset: .resetConnection,
            ]
            if let expected = ending[fault] {
                #expect(scenario.ending == expected)
                #expect((1...50).contains(scenario.dropAfterBytes ?? 0))
            }
        }
        // 20 %, 20 %, 6 %, 6 %, 8 %, 8 % and 32 %: every kind turns up in a thousand.
        #expect(Set(counts.keys) == Set(Chaos.Fault.allCases), "\(counts)")
        #expect(counts.values.allSatisfy { $0 >= 30 }, "\(counts)")
    }

    @Test("a server draws the generator's sequence, one fault per subscriber request, and applies it")
    func serverDrawsTheSequence() async throws {
        let chaos = Chaos(seed: 7)
        let expected = draws(chaos, count: 40).map(\.fault)
        #expect(Set(expected).count >= 3)
        try await TestServer.withRunning(configuration: .init(chaos: chaos)) { server in
            try await withThrowingTaskGroup(of: (Int, RawResponse).self) { group in
                var drawn: [Chaos.Fault] = []
                for connection in 1...40 {
                    // Each request is read, and its fault drawn, before the next connects: the
                    // connection order is the draw order, however slow the machine. The bound only
                    // keeps a hang from stalling the run: shutting the server down ends every
                    // exchange still open.
                    group.addTask {
                        let response = try await RawHTTPClient.exchange(
                            port: server.port, .get("/subscribe"), timeout: .seconds(50))
                        return (connection, response)
                    }
                    drawn = try await server.waitForInjectedFaults(count: connection)
                }
                #expect(drawn == expected)
                #expect(server.injectedFaults == expected.reduce(into: [:]) { $0[$1, default: 0] += 1 })
                try await server.shutdown()
                for try await (connection, response) in group {
                    switch expected[connection - 1] {
                    case .unavailable: #expect(response.status == 503, "connection \(connection)")
                    case .hang: #expect(response.bytes.isEmpty, "connection \(connection)")
                    case .dropFIN, .dropRST, .goAway, .connectionReset, .none:
                        #expect(response.status == 200, "connection \(connection)")
                    }
                }
            }
        }
    }
}
