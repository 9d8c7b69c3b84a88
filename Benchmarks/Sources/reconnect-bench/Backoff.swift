import BenchSupport
import SSEClient

/// One reconnect of the backoff measurement.
struct BackoffSample {
    /// The backoff attempt number (1 for the first reconnect).
    var attempt: Int
    /// The delay the source announced in `.waitingToReconnect`, in milliseconds.
    var announced: Double
    /// The server's drop of the previous connection to its accept of this one, in milliseconds.
    var observed: Double
}

enum Backoff {
    /// Runs `sources` sources at once, each `cycles` times through `attempts` reconnects, every
    /// connection dropped by the server (FIN) 20 ms after its first event.
    static func measure(server: LocalServer, options: Options) async throws -> [BackoffSample] {
        let policy = ReconnectPolicy(initialDelay: .milliseconds(options.baseMilliseconds))
        return try await withThrowingTaskGroup(of: [BackoffSample].self) { group in
            for index in 0..<options.sources {
                group.addTask {
                    var samples: [BackoffSample] = []
                    for cycle in 0..<options.cycles {
                        let client = 100 + index * options.cycles + cycle
                        let url = server.url("/?interval_us=20000&drop_after=1&client=\(client)&pad=8")
                        samples += try await cycleThrough(url: url, policy: policy, attempts: options.attempts)
                    }
                    return samples
                }
            }
            var all: [BackoffSample] = []
            for try await part in group { all += part }
            return all
        }
    }

    /// One source through `attempts` reconnects: pairs each `.waitingToReconnect` with the
    /// first event of the connection that follows it.
    private static func cycleThrough(url: String, policy: ReconnectPolicy, attempts: Int) async throws
        -> [BackoffSample]
    {
        let source = EventSource(url: url, configuration: .init(reconnect: policy))
        // Every attempt at its longest, and a minute more: then something is wrong.
        var longest = Duration.seconds(60)
        for attempt in 1...attempts {
            longest += policy.delay(attempt: attempt, base: policy.initialDelay, random: 0)
        }
        let watchdog = Task { [longest] in
            try await Task.sleep(for: longest)
            source.close()
        }
        defer { watchdog.cancel() }
        var samples: [BackoffSample] = []
        var pending: (delay: Duration, attempt: Int)?
        for try await update in source.updates {
            switch update {
            case .state(.waitingToReconnect(let delay, let attempt, _)):
                pending = (delay, attempt)
            case .event(let event):
                guard let fields = TickerEvent(event.data) else {
                    throw BenchmarkError("not a ticker event: \(event.data)")
                }
                guard let waited = pending, fields.previousDrop != 0 else { continue }
                pending = nil
                samples.append(
                    BackoffSample(
                        attempt: waited.attempt,
                        announced: waited.delay.milliseconds,
                        observed: milliseconds(fields.accepted &- fields.previousDrop)
                    ))
            default:
                break
            }
            if samples.count == attempts { break }
        }
        source.close()
        return samples
    }

    /// The documented interval of attempt `attempt` for `policy` with base `base`, in
    /// milliseconds: `d = min(maximumDelay, base' × multiplier^(n − 1))`, delay in
    /// `[d × (1 − jitter), d]`, with `base' = max(base, minimumRepeatDelay)` from n = 2 on.
    static func documentedInterval(attempt: Int, base: Double, policy: ReconnectPolicy) -> ClosedRange<Double> {
        var baseMilliseconds = base
        if attempt >= 2 {
            baseMilliseconds = max(baseMilliseconds, policy.minimumRepeatDelay.milliseconds)
        }
        var d = baseMilliseconds
        for _ in 1..<max(1, attempt) { d *= policy.multiplier }
        d = min(policy.maximumDelay.milliseconds, d)
        return (d * (1 - policy.jitter))...d
    }
}

extension Duration {
    /// The duration in milliseconds.
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
