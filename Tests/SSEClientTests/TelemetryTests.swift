import MetricsTestKit
import SSEClient
import SSEParser
import SSETestServer
import SSETestSupport
import Testing

/// What a source records through swift-metrics, against scripted TestServer runs. Each test
/// records into its own `TestMetrics` (injected, not bootstrapped), so parallel tests do not mix.
@Suite("Telemetry (swift-metrics)", .timeLimit(.minutes(1)))
struct TelemetryTests {
    static let source = ("sse.source", "telemetry-test")

    static func run(_ source: EventSource) async throws -> EventSourceError? {
        try await withTimeout("the source to end") {
            do throws(EventSourceError) {
                for try await _ in source.updates {}
            } catch {
                return error
            }
            return nil
        }
    }

    static func counter(_ metrics: TestMetrics, _ label: String, _ dimension: (String, String)? = nil) -> Int64 {
        let dimensions = [source] + (dimension.map { [$0] } ?? [])
        return (try? metrics.expectCounter(label, dimensions).totalValue) ?? 0
    }

    @Test("drops: attempts, reconnects by cause, events, bytes, durations per connection, streams open back to 0")
    func drops() async throws {
        let metrics = TestMetrics()
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 7).droppingAfter(events: 3, with: .finish)),
                configuration: .testing {
                    $0.metricsLabel = "telemetry-test"
                    $0.terminator = .matching("event 7") { $0.id == "7" }
                },
                environment: EventSource.Environment(metricsFactory: metrics))
            #expect(try await Self.run(source) == nil)

            #expect(Self.counter(metrics, "sse.client.connection.attempts", ("sse.attempt.result", "open")) == 3)
            #expect(Self.counter(metrics, "sse.client.reconnects", ("sse.reconnect.cause", "endOfStream")) == 2)
            #expect(Self.counter(metrics, "sse.client.events") == 6)
            // The snapshot agrees with what was recorded.
            #expect(Self.counter(metrics, "sse.client.events") == Int64(source.metrics.events))
            #expect(Self.counter(metrics, "sse.client.received.bytes") == Int64(source.metrics.bytes))
            #expect(try metrics.expectTimer("sse.client.response_head.duration", [Self.source]).values.count == 3)
            // The third connection's only event is the terminator, which is not delivered.
            #expect(try metrics.expectTimer("sse.client.first_event.duration", [Self.source]).values.count == 2)
            let dropped = try metrics.expectTimer(
                "sse.client.connection.duration", [Self.source, ("sse.connection.ending", "endOfStream")])
            #expect(dropped.values.count == 2)
            let completed = try metrics.expectTimer(
                "sse.client.connection.duration", [Self.source, ("sse.connection.ending", "completed")])
            #expect(completed.values.count == 1)
            #expect(try metrics.expectTimer("sse.client.reconnect.delay", [Self.source]).values.count == 2)
            #expect(try metrics.expectMeter("sse.client.streams.open", [Self.source]).lastValue == 0)
        }
    }

    @Test("a 503 with Retry-After: the attempt counted by its status class, the reconnect and its delay")
    func retryAfter() async throws {
        let metrics = TestMetrics()
        let sleeps = RecordedSleeps()
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: Scenario.numbered(count: 2).failing(with: 503, times: 1, retryAfter: "2")),
                configuration: .testing {
                    $0.metricsLabel = "telemetry-test"
                    $0.endOfStream = .finish
                },
                environment: EventSource.Environment(clock: sleeps, metricsFactory: metrics))
            #expect(try await Self.run(source) == nil)
            #expect(Self.counter(metrics, "sse.client.connection.attempts", ("sse.attempt.result", "5xx")) == 1)
            #expect(Self.counter(metrics, "sse.client.connection.attempts", ("sse.attempt.result", "open")) == 1)
            #expect(Self.counter(metrics, "sse.client.reconnects", ("sse.reconnect.cause", "retryableStatus")) == 1)
            let delays = try metrics.expectTimer("sse.client.reconnect.delay", [Self.source]).values
            // The delay the source slept: Retry-After, capped by the (test) policy's maximum.
            let slept = sleeps.all.map {
                $0.components.seconds * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000
            }
            #expect(delays == slept)
            #expect(delays.count == 1)
        }
    }

    @Test("a refused connection counts as a transport attempt; an idle timeout as a reconnect by idleTimeout")
    func failures() async throws {
        let metrics = TestMetrics()
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: Scenario.numbered(count: 1).ending(with: .hang)),
                configuration: .testing {
                    $0.metricsLabel = "telemetry-test"
                    $0.idleTimeout = .milliseconds(300)
                    $0.reconnect.maximumAttempts = 1
                },
                environment: EventSource.Environment(metricsFactory: metrics))
            let error = try await Self.run(source)
            // The first connection delivers event 1 and goes silent; the resumed one has nothing.
            #expect(error?.code == .gaveUp)
            #expect(Self.counter(metrics, "sse.client.reconnects", ("sse.reconnect.cause", "idleTimeout")) >= 1)
            let idle = try metrics.expectTimer(
                "sse.client.connection.duration", [Self.source, ("sse.connection.ending", "idleTimeout")])
            #expect(idle.values.allSatisfy { $0 >= 300_000_000 })
        }
        let refusedMetrics = TestMetrics()
        let refused = EventSource(
            url: "http://127.0.0.1:1/events",
            configuration: .testing {
                $0.metricsLabel = "telemetry-test"
                $0.reconnect = .disabled
            },
            environment: EventSource.Environment(metricsFactory: refusedMetrics))
        #expect(try await Self.run(refused)?.code == .transport)
        #expect(
            Self.counter(refusedMetrics, "sse.client.connection.attempts", ("sse.attempt.result", "transport")) == 1)
    }

    @Test(
        "a slow consumer: the pauses for backpressure are timed, as many as the snapshot counts; the bytes buffered are bounded"
    )
    func backpressure() async throws {
        let metrics = TestMetrics()
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 400, payloadSize: 2000)),
                configuration: .testing {
                    $0.metricsLabel = "telemetry-test"
                    $0.maximumBufferedBytes = 16 * 1024
                    $0.endOfStream = .finish
                },
                environment: EventSource.Environment(metricsFactory: metrics))
            try await withTimeout("the slow consumer") {
                var count = 0
                for try await _ in source.events {
                    count += 1
                    if count.isMultiple(of: 50) { try await Task.sleep(for: .milliseconds(20)) }
                }
            }
            let pauses = source.metrics.pauses
            #expect(pauses > 0)
            let paused = try metrics.expectTimer("sse.client.backpressure.paused", [Self.source]).values
            #expect(paused.count == pauses)
            #expect(source.metrics.pausedTime > .zero)
            // What waits for the consumer: some, never more than the limit plus one of libcurl's
            // reads (64 KiB; the pause comes at the read after the limit), and none at the end.
            let buffered = try metrics.expectMeter("sse.client.buffered.bytes", [Self.source]).values
            #expect(buffered.contains { $0 > 0 })
            #expect(buffered.allSatisfy { $0 >= 0 && $0 < Double(16 * 1024 + 64 * 1024) })
            #expect(buffered.last == 0)
        }
    }

    @Test("the snapshot's longest silence: at least the server's tick, not counting the reconnect delay")
    func longestSilence() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 3, interval: .milliseconds(200))),
                configuration: .testing { $0.endOfStream = .finish })
            let error = try await Self.run(source)
            #expect(error == nil)
            #expect(source.metrics.longestSilence >= .milliseconds(150))
            #expect(source.metrics.events == 3)
        }
    }
}
