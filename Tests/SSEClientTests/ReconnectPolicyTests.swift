import SSEParser
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

    private let quick = ReconnectStateMachine.Summary(deliveredEvent: false, wasOpen: true)
    private let network = EventSourceError.transport("connection refused", url: "http://x/")

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

    @Test("a connection that delivered new events is progress: the next delay is the base again")
    func progressResetsBackoff() {
        var machine = machine()
        _ = machine.decide(after: .endOfStream, summary: quick, now: .zero, random: 0)
        #expect(
            machine.decide(after: .endOfStream, summary: quick, now: .zero, random: 0)
                == .reconnect(delay: .seconds(2), attempt: 2))
        // However briefly it was open, a connection with new events starts the backoff over.
        let progress = ReconnectStateMachine.Summary(deliveredEvent: true, wasOpen: true)
        #expect(
            machine.decide(after: .endOfStream, summary: progress, now: .zero, random: 0)
                == .reconnect(delay: .seconds(1), attempt: 1))
        // Also when it ended in a failure after its events.
        let network = EventSourceError.transport("reset", url: "http://x/")
        #expect(
            machine.decide(after: .failure(network, retryAfter: nil), summary: progress, now: .zero, random: 0)
                == .reconnect(delay: .seconds(1), attempt: 1))
        // A long-lived connection without events is not progress.
        let silent = ReconnectStateMachine.Summary(deliveredEvent: false, wasOpen: true)
        #expect(
            machine.decide(after: .endOfStream, summary: silent, now: .zero, random: 0)
                == .reconnect(delay: .seconds(2), attempt: 2))
    }

    @Test("a poll-style server (one event, then close, retry: 500) is met after its retry: every time")
    func pollStyleServer() {
        var machine = machine(ReconnectPolicy())
        machine.serverRequestedRetry(.milliseconds(500))
        let progress = ReconnectStateMachine.Summary(deliveredEvent: true, wasOpen: true)
        for random in stride(from: 0.0, to: 1.0, by: 0.1) {
            guard
                case .reconnect(let delay, let attempt) = machine.decide(
                    after: .endOfStream, summary: progress, now: .zero, random: random)
            else {
                Issue.record("expected a reconnect")
                return
            }
            #expect(attempt == 1)
            // Never sooner than the server asked; jitter spreads the delay above it.
            #expect(delay >= .milliseconds(500) && delay < .milliseconds(750), "\(delay)")
        }
    }

    @Test("jitter never takes a delay below the server's retry:, at any attempt, nor a cap below it")
    func neverSoonerThanServerAsked() {
        let policy = ReconnectPolicy()
        for attempt in 1...8 {
            for random in [0, 0.25, 0.5, 0.999_999] {
                let delay = policy.delay(attempt: attempt, base: .milliseconds(1200), setByServer: true, random: random)
                #expect(delay >= .milliseconds(1200))
                #expect(delay <= .seconds(45))
            }
        }
        // A server's retry: above the maximum delay is still honoured.
        #expect(policy.delay(attempt: 1, base: .seconds(60), setByServer: true, random: 0) == .seconds(60))
        #expect(policy.delay(attempt: 3, base: .seconds(60), setByServer: true, random: 0) == .seconds(60))
        // The client's own base keeps jitter below it.
        #expect(policy.delay(attempt: 1, base: .seconds(1), random: 0.5) == .milliseconds(750))
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
        let busy = EventSourceError.unexpectedStatus(503, url: "http://x/")
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
        guard case .fail(let error) = third, error.code == .gaveUp, let attempts = error.attempts,
            let last = error.lastFailure?.description ?? error.description as String?
        else {
            Issue.record("expected gave up, got \(third)")
            return
        }
        #expect(attempts == 3)
        #expect(last.contains("connection refused"))
    }

    @Test("a connection that delivers an event resets the give-up count")
    func deliveredEventResetsGiveUp() {
        var machine = machine(ReconnectPolicy(jitter: 0, maximumAttempts: 1))
        let delivered = ReconnectStateMachine.Summary(deliveredEvent: true, wasOpen: true)
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
        guard case .fail(let error) = late, error.code == .gaveUp else {
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

    // MARK: Request-scoped streams: terminators and resuming

    private func scoped(
        mayRepeat: Bool = false, endOfStream: EventSource.EndOfStreamPolicy = .finish, canResume: Bool = false,
        policy: ReconnectPolicy = .default
    ) -> ReconnectStateMachine {
        ReconnectStateMachine(
            policy: policy, mayRepeatRequest: mayRepeat, endOfStream: endOfStream,
            expectedTerminator: #"data "[DONE]""#, canResume: canResume, url: "http://x/")
    }

    private let streamed = ReconnectStateMachine.Summary(deliveredEvent: true, wasOpen: true)

    @Test("with a terminator, a POST that ends cleanly without it is truncated, whatever endOfStream says")
    func cleanEndWithoutTerminatorIsTruncated() {
        for endOfStream in [EventSource.EndOfStreamPolicy.finish, .reconnect] {
            var machine = scoped(endOfStream: endOfStream)
            let decision = machine.decide(after: .endOfStream, summary: streamed, now: .zero, random: 0)
            guard case .fail(let error) = decision else {
                Issue.record("\(decision)")
                continue
            }
            #expect(error.code == .truncated)
            #expect(error.expectedTerminator == #"data "[DONE]""#)
            #expect(error.lastFailure == nil)
        }
    }

    @Test("with a terminator, a POST whose open stream broke is truncated, carrying the failure")
    func brokenStreamIsTruncated() {
        var machine = scoped()
        let decision = machine.decide(
            after: .failure(network, retryAfter: nil), summary: streamed, now: .zero, random: 0)
        #expect(
            decision == .fail(.truncated(expectedTerminator: #"data "[DONE]""#, lastFailure: network, url: "http://x/"))
        )
    }

    @Test("a POST that never opened a stream fails with its own error, not truncated")
    func neverOpenedIsNotTruncated() {
        var machine = scoped()
        let unopened = ReconnectStateMachine.Summary(deliveredEvent: false, wasOpen: false)
        #expect(
            machine.decide(after: .failure(network, retryAfter: nil), summary: unopened, now: .zero, random: 0)
                == .fail(network))
    }

    @Test("an in-band error event ends a POST with the server's error itself")
    func serverErrorIsNotTruncated() {
        var machine = scoped()
        let error = EventSourceError.serverError(ServerSentEvent(type: "error", data: "overloaded"), url: "http://x/")
        #expect(
            machine.decide(after: .failure(error, retryAfter: nil), summary: streamed, now: .zero, random: 0)
                == .fail(error))
    }

    @Test("a repeatable request, or one a hook resumes, reconnects when the terminator has not come")
    func continuesWhenPossible() {
        for (mayRepeat, canResume) in [(true, false), (false, true)] {
            var machine = scoped(mayRepeat: mayRepeat, canResume: canResume)
            #expect(
                machine.decide(after: .endOfStream, summary: streamed, now: .zero, random: 0)
                    == .reconnect(delay: .seconds(1), attempt: 1))
            #expect(
                machine.decide(after: .failure(network, retryAfter: nil), summary: streamed, now: .zero, random: 0)
                    == .reconnect(delay: .seconds(1), attempt: 1))
        }
    }

    @Test("reconnecting disabled: nothing continues the stream, so it is truncated")
    func disabledTruncates() {
        var machine = scoped(mayRepeat: true, canResume: true, policy: .disabled)
        guard case .fail(let error) = machine.decide(after: .endOfStream, summary: streamed, now: .zero, random: 0)
        else {
            Issue.record("not failed")
            return
        }
        #expect(error.code == .truncated)
    }

    @Test("the terminator completes the stream: no reconnect, no error")
    func completedFinishes() {
        var machine = scoped(mayRepeat: true)
        #expect(machine.decide(after: .completed, summary: streamed, now: .zero, random: 0) == .finish)
    }

    @Test("without a terminator, a hook resumes a POST whose stream closed (MCP), but endOfStream .finish completes it")
    func resumeWithoutTerminator() {
        var mcp = ReconnectStateMachine(
            policy: .default, mayRepeatRequest: false, endOfStream: .reconnect, canResume: true, url: "http://x/")
        #expect(
            mcp.decide(after: .endOfStream, summary: streamed, now: .zero, random: 0)
                == .reconnect(delay: .seconds(1), attempt: 1))
        var chat = ReconnectStateMachine(
            policy: .default, mayRepeatRequest: false, endOfStream: .finish, canResume: true, url: "http://x/")
        #expect(chat.decide(after: .endOfStream, summary: streamed, now: .zero, random: 0) == .finish)
    }
}
