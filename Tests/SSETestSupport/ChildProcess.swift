import Foundation
import Synchronization

/// An executable a test started, with its standard output and error read to their ends on threads
/// of their own (never on Swift's cooperative pool, which has two threads on our machines), and
/// every wait bounded so that a hung child fails the test instead of stalling it.
///
/// Its standard input is a pipe that gets `stdin` and is closed at once.
public final class ChildProcess: Sendable {
    /// What a finished child left behind.
    public struct Result: Sendable {
        /// The exit status, or the number of the signal that ended it.
        public var status: Int32
        /// Everything written to standard output.
        public var stdout: [UInt8]
        /// Everything written to standard error.
        public var stderr: [UInt8]

        /// Standard output as UTF-8 text.
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        /// Standard error as UTF-8 text.
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    }

    private let process: Process
    /// One child is started at a time in this process. Foundation's `Process.run` lists
    /// `/proc/self/fd` for the descriptors to close in the child, and crashed there (a memcpy
    /// fault in `findMaximumOpenFromProcSelfFD`) with many children started at once from
    /// parallel tests; starting one takes about a millisecond.
    private static let spawning = Mutex(())
    private let stdoutReader = PipeReader()
    private let stderrReader = PipeReader()
    private let exit = ExitWatch()

    /// Starts `executable` with `arguments`.
    ///
    /// - Parameters:
    ///   - executable: The path of the program.
    ///   - arguments: Its arguments.
    ///   - environment: Its whole environment; `nil` (the default) inherits this process's.
    ///   - stdin: Bytes for its standard input, which is closed after them; none by default.
    public init(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        stdin: [UInt8]? = nil
    ) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        let stdinPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = stdinPipe
        process.terminationHandler = { [exit] _ in exit.markExited() }
        try Self.spawning.withLock { _ in try process.run() }
        stdoutReader.start(stdoutPipe.fileHandleForReading)
        stderrReader.start(stderrPipe.fileHandleForReading)
        // Written on a thread of its own: a large input blocks until the child has read it.
        let input = stdinPipe.fileHandleForWriting
        Thread.detachNewThread {
            if let stdin { input.write(Data(stdin)) }
            try? input.close()
        }
    }

    /// A child nobody waits for any more (a test that failed early) is killed, not left running.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The child's process ID.
    public var pid: Int32 { process.processIdentifier }

    /// Standard output so far.
    public var stdout: [UInt8] { stdoutReader.bytes }

    /// Standard error so far.
    public var stderr: [UInt8] { stderrReader.bytes }

    /// Sends `signal` to the child.
    public func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Returns once `condition` holds for the output so far.
    ///
    /// - Throws: ``TimedOut`` after `timeout` (30 seconds by default), or as soon as both output
    ///   streams have ended without the condition holding; the error quotes the output's end.
    public func waitForOutput(
        _ what: String,
        timeout: Duration = .seconds(30),
        _ condition: @Sendable (_ stdout: [UInt8], _ stderr: [UInt8]) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            // Read "ended" first: output that ended before the check is all there will be.
            let ended = stdoutReader.isDone && stderrReader.isDone
            if condition(stdout, stderr) { return }
            if ended || ContinuousClock.now >= deadline {
                let text = "\(what) (\(ended ? "the output ended" : "still running")); \(outputSummary)"
                throw TimedOut(text, after: timeout)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The first line of standard output, without its line feed.
    ///
    /// - Throws: ``TimedOut`` after `timeout` (30 seconds by default) or when the output ends first.
    public func firstLine(timeout: Duration = .seconds(30)) async throws -> String {
        try await waitForOutput("a first line on stdout", timeout: timeout) { stdout, _ in
            stdout.contains(UInt8(ascii: "\n"))
        }
        return String(decoding: stdout.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    }

    /// Waits for the child to exit and for its output streams to close, and returns what it left.
    ///
    /// - Throws: ``TimedOut`` when it still runs after `timeout` (60 seconds by default: the bound
    ///   says a hang is a failure, not how fast a child exits); it is then killed.
    public func finish(timeout: Duration = .seconds(60)) async throws -> Result {
        do {
            try await withTimeout("the process to exit", timeout: timeout) { [exit] in try await exit.wait() }
        } catch let error as TimedOut {
            send(SIGKILL)
            try? await withTimeout("the killed process to exit", timeout: .seconds(10)) { [exit] in
                try await exit.wait()
            }
            throw TimedOut("\(error.what); \(outputSummary)", after: error.after)
        }
        // A grandchild holding the pipes open would keep them from closing.
        try await waitUntil("the output pipes to close", timeout: .seconds(10)) {
            stdoutReader.isDone && stderrReader.isDone
        }
        return Result(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// Runs `executable` with `arguments` to its end (see ``init(_:_:environment:stdin:)`` and
    /// ``finish(timeout:)``).
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        stdin: [UInt8]? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> Result {
        try await ChildProcess(executable, arguments, environment: environment, stdin: stdin)
            .finish(timeout: timeout)
    }

    private var outputSummary: String {
        let out = String(decoding: stdout.suffix(500), as: UTF8.self)
        let err = String(decoding: stderr.suffix(500), as: UTF8.self)
        return "stdout: \(out); stderr: \(err)"
    }
}

/// Lets tasks wait for a process's termination handler; a waiting task that is cancelled stops
/// waiting.
private final class ExitWatch: Sendable {
    private struct State {
        var exited = false
        var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    func markExited() {
        let waiters = state.withLock { state in
            state.exited = true
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    if state.exited { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(throwing: CancellationError())
        }
    }
}

/// Reads a pipe to its end on a thread of its own (blocking reads), never on the test's pool.
private final class PipeReader: Sendable {
    private let buffer = Mutex<[UInt8]>([])
    private let done = Atomic<Bool>(false)

    var bytes: [UInt8] { buffer.withLock { $0 } }
    var isDone: Bool { done.load(ordering: .acquiring) }

    func start(_ handle: FileHandle) {
        let fd = handle.fileDescriptor
        Thread.detachNewThread {
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    self.buffer.withLock { $0.append(contentsOf: chunk[0..<count]) }
                } else if count == 0 || errno != EINTR {
                    break
                }
            }
            try? handle.close()
            self.done.store(true, ordering: .releasing)
        }
    }
}
