import SSEClient
import SSEParser
import SSETestServer
import Synchronization
import Testing

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out: \(what)" }
}

/// Runs `body`, failing with `TimedOut` if it takes longer than `timeout`.
func withTimeout<T: Sendable>(
    _ timeout: Duration = .seconds(10),
    _ what: String = "operation",
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TimedOut(what: what)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

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

/// Collects the first `count` events of `source` (closing it afterwards), within `timeout`.
func collectEvents(
    _ source: EventSource,
    count: Int,
    timeout: Duration = .seconds(10)
) async throws -> [ServerSentEvent] {
    try await withTimeout(timeout, "\(count) events") {
        var events: [ServerSentEvent] = []
        for try await event in source.events {
            events.append(event)
            if events.count == count { break }
        }
        return events
    }
}

/// Collects events until the source finishes (or throws), within `timeout`.
func collectUntilEnd(
    _ source: EventSource,
    timeout: Duration = .seconds(10)
) async throws -> (events: [ServerSentEvent], error: EventSourceError?) {
    try await withTimeout(timeout, "end of stream") {
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

/// Records the delays the source asked to sleep and returns at once.
final class RecordedSleeps: Sendable {
    private let delays = Mutex<[Duration]>([])

    var all: [Duration] { delays.withLock { $0 } }

    var hook: @Sendable (Duration) async throws -> Void {
        { [self] delay in
            delays.withLock { $0.append(delay) }
            try Task.checkCancellation()
        }
    }
}
