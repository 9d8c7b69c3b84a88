import SSEClient
import SSEParser
import SSETestServer
import SSETestSupport
import Synchronization
import Testing

/// Fast reconnects for tests: 5 ms base, 50 ms cap, no jitter.
extension ReconnectPolicy {
    static let fastForTests = ReconnectPolicy(
        initialDelay: .milliseconds(5),
        maximumDelay: .milliseconds(50),
        jitter: 0,
        minimumRepeatDelay: .milliseconds(5)
    )
}

extension EventSource.Configuration {
    static func testing(_ change: (inout Self) -> Void = { _ in }) -> Self {
        var configuration = Self(reconnect: .fastForTests, idleTimeout: .seconds(10), connectTimeout: .seconds(5))
        change(&configuration)
        return configuration
    }
}

/// Collects the first `count` events of `source` (closing it afterwards), within `timeout` (a bound
/// on a hang, 30 seconds by default).
func collectEvents(
    _ source: EventSource,
    count: Int,
    timeout: Duration = .seconds(30)
) async throws -> [ServerSentEvent] {
    try await withTimeout("\(count) events", timeout: timeout) {
        var events: [ServerSentEvent] = []
        for try await event in source.events {
            events.append(event)
            if events.count == count { break }
        }
        return events
    }
}

/// Collects events until the source finishes (or throws), within `timeout` (a bound on a hang, 30
/// seconds by default).
func collectUntilEnd(
    _ source: EventSource,
    timeout: Duration = .seconds(30)
) async throws -> (events: [ServerSentEvent], error: EventSourceError?) {
    try await withTimeout("end of stream", timeout: timeout) {
        var events: [ServerSentEvent] = []
        do {
            for try await event in source.events {
                events.append(event)
            }
            return (events, nil)
        } catch let error as EventSourceError {
            return (events, error)
        }
    }
}

/// A clock for reconnect delays that records each one and returns at once: its time moves
/// only when something sleeps on it.
final class RecordedSleeps: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let state = Mutex<(now: Duration, delays: [Duration])>((.zero, []))

    /// Every delay slept, in order.
    var all: [Duration] { state.withLock { $0.delays } }
    var now: Instant { Instant(offset: state.withLock { $0.now }) }
    var minimumResolution: Duration { .zero }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        state.withLock { state in
            state.delays.append(max(.zero, deadline.offset - state.now))
            state.now = max(state.now, deadline.offset)
        }
        try Task.checkCancellation()
    }

    /// An environment whose reconnect delays are slept on this clock.
    var environment: EventSource.Environment { EventSource.Environment(clock: self) }
}

/// Every state `source` reported, once its `states` sequence has ended: the positive signal that
/// the source is finished for good. A source reports `.connecting` before every request it makes,
/// so the states it reported are every request it will ever make. (The bound is on a hang.)
func finalStates(of source: EventSource, timeout: Duration = .seconds(30)) async throws -> [ConnectionState] {
    try await withTimeout("the states sequence to end", timeout: timeout) {
        var states: [ConnectionState] = []
        for await state in source.states { states.append(state) }
        return states
    }
}

/// How many connection attempts `states` reports.
func connectionAttempts(_ states: [ConnectionState]) -> Int {
    states.filter { if case .connecting = $0 { true } else { false } }.count
}

/// The requests `server` recorded before a marker request made now, once the marker is recorded.
///
/// Once a source has finished (see ``finalStates(of:timeout:)``), a request it made would have
/// reached the server before the marker: the marker's place in the record is the positive signal
/// that proves no request came, with no wait for one that might.
func requestsBeforeMarker(on server: TestServer) async throws -> [RecordedRequest] {
    let response = try await RawHTTPClient.exchange(port: server.port, .get("/marker?count=1"))
    #expect(response.status == 200)
    let requests = server.requests
    let marker = try #require(requests.lastIndex { $0.path == "/marker" })
    return Array(requests[..<marker])
}
