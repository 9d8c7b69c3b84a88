import Synchronization

/// A bounded wait ran out: what was awaited, and for how long.
public struct TimedOut: Error, CustomStringConvertible {
    /// What the test waited for, such as `"3 events"`.
    public var what: String
    /// How long it waited.
    public var after: Duration

    /// Creates the error for a wait for `what` that ran out after `after`.
    public init(_ what: String, after: Duration) {
        self.what = what
        self.after = after
    }

    /// A sentence such as `timed out after 10.0 seconds waiting for 3 events`.
    public var description: String { "timed out after \(after) waiting for \(what)" }
}

/// Runs `body`, and fails with ``TimedOut`` if it has not finished within `timeout`.
///
/// This is the only place the tests race an operation against a clock. The bound is there so a
/// hang fails instead of stalling CI, not to say how fast something is: choose one that a loaded
/// machine meets with room to spare, and leave speed to the benchmarks. On time-out, `body` is
/// cancelled and awaited, so it must respond to cancellation.
///
/// - Parameters:
///   - what: What `body` waits for, for the error.
///   - timeout: The bound; 30 seconds by default.
///   - body: The operation.
public func withTimeout<T: Sendable>(
    _ what: String,
    timeout: Duration = .seconds(30),
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let value = try await group.next() ?? nil else { throw TimedOut(what, after: timeout) }
        return value
    }
}

/// Returns once `condition` holds, checking it every `interval`; fails with ``TimedOut`` when it
/// still does not hold after `timeout`.
///
/// For state that offers no way to be awaited (a counter, a file, `/proc`). The bound only keeps a
/// hang from stalling CI: 30 seconds by default.
///
/// - Parameters:
///   - what: What the condition means, for the error.
///   - timeout: The bound; 30 seconds by default.
///   - interval: The time between checks; 5 ms by default.
///   - condition: The condition; checked at once, then after each interval.
public func waitUntil(
    _ what: @autoclosure () -> String,
    timeout: Duration = .seconds(30),
    interval: Duration = .milliseconds(5),
    _ condition: () throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(what(), after: timeout) }
        try await Task.sleep(for: interval)
    }
}

/// A value that concurrent tasks of a test share, behind a lock (a `Mutex` cannot be captured by
/// their closures).
public final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    /// Creates the shared value.
    public init(_ value: Value) {
        self.value = Mutex(value)
    }

    /// Runs `body` with the value, exclusively.
    public func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        value.withLock { body(&$0) }
    }

    /// A copy of the value now.
    public var current: Value { value.withLock { $0 } }
}
