import Testing

@testable import SSEClient

@Suite("Reconnect policy and decisions")
struct ReconnectPolicyTests {
    let policy = ReconnectPolicy.default

    @Test(
        "the documented delay table holds for the defaults",
        arguments: [
            (1, 0.5, 1.0), (2, 1.0, 2.0), (3, 2.0, 4.0), (4, 4.0, 8.0), (5, 8.0, 16.0), (6, 15.0, 30.0),
            (20, 15.0, 30.0),
        ]
    )
    func delayTable(attempt: Int, low: Double, high: Double) {
        let longest = policy.delay(attempt: attempt, base: .seconds(1), random: 0)
        let shortest = policy.delay(attempt: attempt, base: .seconds(1), random: 0.999_999_999)
        #expect(abs(longest.seconds - high) < 0.000_001)
        #expect(abs(shortest.seconds - low) < 0.000_01)
    }

    @Test("delays never exceed the maximum, whatever the base, attempt or random number")
    func neverAboveMaximum() {
        var random = 0.0
        for attempt in 1...200 {
            for base in [Duration.zero, .milliseconds(3), .seconds(1), .seconds(10_000)] {
                random = (random + 0.137).truncatingRemainder(dividingBy: 1)
                let delay = policy.delay(attempt: attempt, base: base, random: random)
                #expect(delay <= policy.maximumDelay)
                #expect(delay >= .zero)
            }
        }
    }

    @Test("jitter spreads the delay over [d/2, d] with the default jitter")
    func jitterRange() {
        let delays = stride(from: 0.0, to: 1.0, by: 0.01).map {
            policy.delay(attempt: 3, base: .seconds(1), random: $0)
        }
        #expect(Set(delays).count > 90)
        #expect(delays.allSatisfy { $0 >= .seconds(2) && $0 <= .seconds(4) })
    }

    @Test("from the second consecutive attempt the base is at least minimumRepeatDelay, so retry: 0 cannot flood")
    func minimumRepeatDelay() {
        let noJitter = ReconnectPolicy(jitter: 0)
        #expect(noJitter.delay(attempt: 1, base: .zero, random: 0) == .zero)
        #expect(noJitter.delay(attempt: 2, base: .zero, random: 0) == .milliseconds(200))
        #expect(noJitter.delay(attempt: 3, base: .zero, random: 0) == .milliseconds(400))
    }

    private func machine(
        _ policy: ReconnectPolicy = ReconnectPolicy(jitter: 0),
        mayRepeat: Bool = true,
        endOfStream: EventSource.EndOfStreamPolicy = .reconnect
    ) -> ReconnectStateMachine {
        ReconnectStateMachine(policy: policy, mayRepeatRequest: mayRepeat, endOfStream: endOfStream, url: "http://x/")
    }

    private let quick = ReconnectStateMachine.Summary(deliveredEvent: false, openDuration: .zero)
    private let network = EventSourceError(.transport("connection refused"), url: "http://x/")

    @Test("each consecutive failure doubles the delay")
    func backoffGrows() {
        var machine = machine()
        let delays = (0..<4).map { _ in
            machine.decide(after: .failure(network, retryAfter: nil), summary: quick, now: .zero, random: 0)
        }
        #expect(
            delays == [
                .reconnect(delay: .seconds(1), attempt: 1), .reconnect(delay: .seconds(2), attempt: 2),
                .reconnect(delay: .seconds(4), attempt: 3), .reconnect(delay: .seconds(8), attempt: 4),
            ]
        )
    }

    @Test("the attempt number resets only after a connection delivered an event and stayed healthy")
    func resetAfterHealthyConnection() {
        var machine = machine()
        _ = machine.decide(after: .endOfStream, summary: quick, now: .zero, random: 0)
        _ = machine.decide(after: .endOfStream, summary: quick, now: .zero, random: 0)
        // Delivered events, but only for 59 s: not healthy yet.
        let short = ReconnectStateMachine.Summary(deliveredEvent: true, openDuration: .seconds(59))
        #expect(
            machine.decide(after: .endOfStream, summary: short, now: .zero, random: 0)
                == .reconnect(delay: .seconds(4), attempt: 3))
        // 60 s without an event is not healthy either.
        let silent = ReconnectStateMachine.Summary(deliveredEvent: false, openDuration: .seconds(600))
        #expect(
            machine.decide(after: .endOfStream, summary: silent, now: .zero, random: 0)
                == .reconnect(delay: .seconds(8), attempt: 4))
        let healthy = ReconnectStateMachine.Summary(deliveredEvent: true, openDuration: .seconds(60))
        #expect(
            machine.decide(after: .endOfStream, summary: healthy, now: .zero, random: 0)
                == .reconnect(delay: .seconds(1), attempt: 1))
    }

    @Test("the server's retry: sets the base delay")
    func serverRetry() {
        var machine = machine()
        machine.serverRequestedRetry(.milliseconds(250))
        #expect(
            machine.decide(after: .endOfStream, summary: quick, now: .zero, random: 0)
                == .reconnect(delay: .milliseconds(250), attempt: 1))
        #expect(
            machine.decide(after: .endOfStream, summary: quick, now: .zero, random: 0)
                == .reconnect(delay: .milliseconds(500), attempt: 2))
    }

    @Test("a server that closes at once with retry: 0 gets growing delays, not a tight loop")
    func retryZeroDoesNotFlood() {
        var machine = machine()
        machine.serverRequestedRetry(.zero)
        let delays = (0..<5).map { _ -> Duration in
            guard
                case .reconnect(let delay, _) = machine.decide(
                    after: .endOfStream, summary: quick, now: .zero, random: 0)
            else { return .zero }
            return delay
        }
        #expect(delays == [.zero, .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600)])
    }

    @Test("Retry-After raises the delay, capped at the maximum")
    func retryAfter() {
        var machine = machine()
        let busy = EventSourceError(.unexpectedStatus(503), url: "http://x/")
        #expect(
            machine.decide(after: .failure(busy, retryAfter: .seconds(7)), summary: quick, now: .zero, random: 0)
                == .reconnect(delay: .seconds(7), attempt: 1)
        )
        #expect(
            machine.decide(after: .failure(busy, retryAfter: .seconds(3600)), summary: quick, now: .zero, random: 0)
                == .reconnect(delay: .seconds(30), attempt: 2)
        )
    }

    @Test("giving up after the maximum number of consecutive failed attempts carries the last failure")
    func giveUpAfterAttempts() {
        var machine = machine(ReconnectPolicy(jitter: 0, maximumAttempts: 2))
        #expect(
            machine.decide(after: .failure(network, retryAfter: nil), summary: quick, now: .zero, random: 0) != .finish)
        #expect(
            machine.decide(after: .failure(network, retryAfter: nil), summary: quick, now: .zero, random: 0) != .finish)
        let third = machine.decide(after: .failure(network, retryAfter: nil), summary: quick, now: .zero, random: 0)
        guard case .fail(let error) = third, case .gaveUp(let attempts, let last) = error.code else {
            Issue.record("expected gave up, got \(third)")
            return
        }
        #expect(attempts == 3)
        #expect(last.contains("connection refused"))
    }

    @Test("a connection that delivers an event resets the give-up count")
    func deliveredEventResetsGiveUp() {
        var machine = machine(ReconnectPolicy(jitter: 0, maximumAttempts: 1))
        let delivered = ReconnectStateMachine.Summary(deliveredEvent: true, openDuration: .seconds(1))
        for _ in 0..<5 {
            #expect(machine.decide(after: .endOfStream, summary: quick, now: .zero, random: 0) != .finish)
            #expect(machine.decide(after: .endOfStream, summary: delivered, now: .zero, random: 0) != .finish)
        }
    }

    @Test("giving up after the maximum elapsed time of a failure streak")
    func giveUpAfterTime() {
        var machine = machine(ReconnectPolicy(jitter: 0, maximumElapsed: .seconds(10)))
        #expect(
            machine.decide(after: .failure(network, retryAfter: nil), summary: quick, now: .seconds(100), random: 0)
                != .finish)
        #expect(
            machine.decide(after: .failure(network, retryAfter: nil), summary: quick, now: .seconds(105), random: 0)
                != .finish)
        let late = machine.decide(
            after: .failure(network, retryAfter: nil), summary: quick, now: .seconds(110), random: 0)
        guard case .fail(let error) = late, case .gaveUp = error.code else {
            Issue.record("expected gave up, got \(late)")
            return
        }
    }

    @Test("a clean end with the finish policy finishes")
    func finishPolicy() {
        var requestScoped = self.machine(endOfStream: .finish)
        #expect(requestScoped.decide(after: .endOfStream, summary: quick, now: .zero, random: 0) == .finish)
    }

    @Test("a request that may not be repeated (POST) is not replayed")
    func postNotReplayed() {
        var machine = machine(mayRepeat: false)
        #expect(machine.decide(after: .endOfStream, summary: quick, now: .zero, random: 0) == .finish)
        #expect(
            machine.decide(after: .failure(network, retryAfter: nil), summary: quick, now: .zero, random: 0)
                == .fail(network))
    }

    @Test("with reconnecting disabled, a failure ends the source with that failure")
    func disabled() {
        var machine = machine(.disabled)
        #expect(
            machine.decide(after: .failure(network, retryAfter: nil), summary: quick, now: .zero, random: 0)
                == .fail(network))
        #expect(machine.decide(after: .endOfStream, summary: quick, now: .zero, random: 0) == .finish)
    }

    @Test("a restart reconnects at once without counting an attempt")
    func restart() {
        var machine = machine()
        #expect(
            machine.decide(after: .restart, summary: quick, now: .zero, random: 0)
                == .reconnect(delay: .zero, attempt: 0))
    }

    @Test("POST is only replayed when allowed")
    func mayRepeatRequest() {
        #expect(EventSource.Configuration(method: "GET").mayRepeatRequest)
        #expect(!EventSource.Configuration(method: "POST").mayRepeatRequest)
        #expect(EventSource.Configuration(method: "post", replaysNonIdempotentRequests: true).mayRepeatRequest)
    }
}
