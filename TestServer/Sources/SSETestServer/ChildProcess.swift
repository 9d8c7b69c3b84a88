import Dispatch
import Foundation

/// Waiting on an executable a test started, without blocking Swift's cooperative pool and
/// without hanging: every wait is bounded.
public enum ChildProcess {
    /// The first line `process` writes to `handle` (without its line feed), read on a dispatch
    /// thread.
    ///
    /// - Throws: ``TestServerError`` with code `timedOut` after `timeout` (10 seconds by default),
    ///   having terminated the process; `toolFailed` when the output ends before a line feed.
    public static func firstLine(
        of handle: FileHandle,
        from process: Process,
        timeout: Duration = .seconds(10)
    ) async throws -> String {
        try await withThrowingTaskGroup(of: String.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { continuation in
                    DispatchQueue.global().async {
                        var bytes: [UInt8] = []
                        while true {
                            guard let byte = handle.readData(ofLength: 1).first else {
                                return continuation.resume(
                                    throwing: TestServerError.toolFailed("the output ended before a first line"))
                            }
                            if byte == UInt8(ascii: "\n") { break }
                            bytes.append(byte)
                        }
                        continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                process.terminate()
                throw TestServerError.timedOut("a first line of output", after: timeout)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// The exit status of `process`, once it has exited.
    ///
    /// - Throws: ``TestServerError`` with code `timedOut` when it still runs after `timeout`
    ///   (10 seconds by default).
    public static func exitStatus(of process: Process, timeout: Duration = .seconds(10)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                throw TestServerError.timedOut("the process to exit", after: timeout)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }
}
