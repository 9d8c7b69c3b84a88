import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An executable a test started, with its standard output and error read to their ends on threads
/// of their own (never on Swift's cooperative pool, which has two threads on our machines), and
/// every wait bounded so that a hung child fails the test instead of stalling it.
///
/// Its standard input is a pipe that gets `stdin` and is then closed, at once unless the child
/// is started with `keepingInputOpen`.
///
/// Started with `posix_spawn`, not Foundation's `Process`: `Process.run` lists `/proc/self/fd` to
/// find the descriptors to close in the child, and crashed there (a memcpy fault in
/// `findMaximumOpenFromProcSelfFD`) while parallel tests with about 1,800 descriptors open started
/// children. Here the pipes are close-on-exec and the child closes every descriptor above 2 before
/// it runs, so a child holds no other child's pipe open, and nothing lists a folder.
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

    /// The child's process ID.
    public let pid: Int32
    private let stdoutReader = PipeReader()
    private let stderrReader = PipeReader()
    private let exit = ExitWatch()
    private let input: InputWriter

    /// Starts `executable` with `arguments`.
    ///
    /// - Parameters:
    ///   - executable: The path of the program (not looked up in `PATH`).
    ///   - arguments: Its arguments.
    ///   - environment: Its whole environment; `nil` (the default) inherits this process's.
    ///   - directory: Its working directory; `nil` (the default) inherits this process's.
    ///   - stdin: Bytes for its standard input; none by default.
    ///   - keepingInputOpen: Whether standard input stays open after `stdin` until
    ///     ``closeInput()``, the end of ``finish(timeout:)`` or this value goes away; `false`
    ///     (the default) closes it after `stdin`.
    /// - Throws: ``SpawnFailed`` when the program cannot be started.
    public init(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil,
        stdin: [UInt8]? = nil,
        keepingInputOpen: Bool = false
    ) throws {
        let stdinPipe = try Self.makePipe()
        let stdoutPipe = try Self.makePipe()
        let stderrPipe = try Self.makePipe()
        let childEnds = [stdinPipe.read, stdoutPipe.write, stderrPipe.write]
        do {
            pid = try Self.spawn(
                executable, arguments, environment: environment, directory: directory, stdio: childEnds
            )
        } catch {
            for fd in childEnds + [stdinPipe.write, stdoutPipe.read, stderrPipe.read] { close(fd) }
            throw error
        }
        for fd in childEnds { close(fd) }
        stdoutReader.start(stdoutPipe.read)
        stderrReader.start(stderrPipe.read)
        exit.start(pid)
        input = InputWriter(fd: stdinPipe.write, bytes: stdin ?? [], closingAfterwards: !keepingInputOpen)
    }

    /// A child nobody waits for any more (a test that failed early) is killed, not left running.
    deinit {
        if !exit.hasExited { kill(pid, SIGKILL) }
        input.closeWhenWritten()
    }

    /// Standard output so far.
    public var stdout: [UInt8] { stdoutReader.bytes }

    /// Standard error so far.
    public var stderr: [UInt8] { stderrReader.bytes }

    /// Whether the child is still running (has not been reaped).
    public var isRunning: Bool { !exit.hasExited }

    /// Sends `signal` to the child, unless it has already been reaped (its ID may be reused).
    public func send(_ signal: Int32) {
        if !exit.hasExited { kill(pid, signal) }
    }

    /// Closes the child's standard input once the bytes given at the start are written.
    public func closeInput() {
        input.closeWhenWritten()
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
        input.closeWhenWritten()
        // A grandchild holding the pipes open would keep them from closing.
        try await waitUntil("the output pipes to close", timeout: .seconds(10)) {
            stdoutReader.isDone && stderrReader.isDone
        }
        return Result(status: exit.status, stdout: stdout, stderr: stderr)
    }

    /// Runs `executable` with `arguments` to its end (see
    /// ``init(_:_:environment:directory:stdin:keepingInputOpen:)`` and ``finish(timeout:)``).
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil,
        stdin: [UInt8]? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> Result {
        try await ChildProcess(executable, arguments, environment: environment, directory: directory, stdin: stdin)
            .finish(timeout: timeout)
    }

    private var outputSummary: String {
        let out = String(decoding: stdout.suffix(500), as: UTF8.self)
        let err = String(decoding: stderr.suffix(500), as: UTF8.self)
        return "stdout: \(out); stderr: \(err)"
    }

    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        // Not `pipe2(O_CLOEXEC)`, which Swift's Glibc does not export: a spawn between the two
        // calls cannot leak these anyway, as every child closes all descriptors above 2.
        guard pipe(&fds) == 0 else { throw SpawnFailed("pipe", errno: errno) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    /// `posix_spawn` with `stdio` as the child's descriptors 0, 1 and 2, every other descriptor
    /// closed, every signal at its default disposition and none blocked (the test process may
    /// ignore SIGPIPE or SIGTERM; a child must not inherit that).
    private static func spawn(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]?,
        directory: String?,
        stdio: [Int32]
    ) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, fd) in stdio.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, fd, Int32(target))
        }
        if let directory {
            guard let addChdir = SpawnExtensions.addChdir else {
                throw SpawnFailed("posix_spawn_file_actions_addchdir_np (not in this C library)", errno: ENOSYS)
            }
            let result = directory.withCString { addChdir(&actions, $0) }
            guard result == 0 else { throw SpawnFailed("posix_spawn_file_actions_addchdir_np", errno: result) }
        }
        // Descriptors other tests opened without close-on-exec (libcurl's, say) stay out of the child.
        if let addCloseFrom = SpawnExtensions.addCloseFrom { _ = addCloseFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) }
        defer { for pointer in argv { free(pointer) } }
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } }
        defer { for pointer in envp ?? [] { free(pointer) } }

        var pid: pid_t = 0
        let result = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            if let envp {
                return (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                    posix_spawn(
                        &pid, executable, &actions, &attributes, argvBuffer.baseAddress!, envpBuffer.baseAddress!)
                }
            }
            return posix_spawn(&pid, executable, &actions, &attributes, argvBuffer.baseAddress!, environ)
        }
        guard result == 0 else { throw SpawnFailed("posix_spawn \(executable)", errno: result) }
        return pid
    }
}

/// A child could not be started: what failed, and the system's reason.
public struct SpawnFailed: Error, CustomStringConvertible {
    /// A sentence such as `posix_spawn /nonexistent failed: No such file or directory`.
    public let description: String

    init(_ what: String, errno code: Int32) {
        description = "\(what) failed: \(String(cString: strerror(code)))"
    }
}

/// The GNU extensions of `posix_spawn` that Swift's C library module does not export (glibc
/// declares them only with `_GNU_SOURCE`); looked up once, `nil` where the C library lacks them.
private enum SpawnExtensions {
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias AddChdir =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static let addCloseFrom: AddCloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
    static let addChdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np")

    private static func symbol<T>(_ name: String) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let address = dlsym(handle, name) else { return nil }
        return unsafeBitCast(address, to: T.self)
    }
}

/// Reaps one child on a thread of its own (a blocking `waitpid` for its ID only), and lets tasks
/// wait for that; a waiting task that is cancelled stops waiting.
private final class ExitWatch: Sendable {
    private struct State {
        var status: Int32?
        var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    var hasExited: Bool { state.withLock { $0.status != nil } }

    /// The exit status, or the number of the signal that ended the child; -1 before it exited.
    var status: Int32 { state.withLock { $0.status ?? -1 } }

    func start(_ pid: Int32) {
        Thread.detachNewThread {
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
            // The W* macros, which Swift does not import: the low 7 bits are the signal, if any.
            let signal = raw & 0x7f
            self.markExited(status: signal == 0 ? (raw >> 8) & 0xff : signal)
        }
    }

    private func markExited(status: Int32) {
        let waiters = state.withLock { state in
            state.status = status
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
                    if state.status != nil { return .success(()) }
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

/// Writes the child's standard input on a thread of its own (a large input blocks until the child
/// has read it), with SIGPIPE blocked on that thread so a child that exits without reading makes
/// the write fail with EPIPE instead of killing the test process.
private final class InputWriter: Sendable {
    private struct State {
        var fd: Int32
        var written = false
        var closeRequested = false
    }

    private let state: Mutex<State>

    init(fd: Int32, bytes: [UInt8], closingAfterwards: Bool) {
        state = Mutex(State(fd: fd, closeRequested: closingAfterwards))
        Thread.detachNewThread {
            var pipeSignal = sigset_t()
            sigemptyset(&pipeSignal)
            sigaddset(&pipeSignal, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
            var offset = 0
            while offset < bytes.count {
                let count = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    offset += count
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            self.state.withLock { state in
                state.written = true
                if state.closeRequested { Self.closeOnce(&state) }
            }
        }
    }

    /// Closes the pipe now if the bytes are written, or as soon as they are.
    func closeWhenWritten() {
        state.withLock { state in
            state.closeRequested = true
            if state.written { Self.closeOnce(&state) }
        }
    }

    private static func closeOnce(_ state: inout State) {
        guard state.fd >= 0 else { return }
        close(state.fd)
        state.fd = -1
    }
}

/// Reads a pipe to its end on a thread of its own (blocking reads), never on the test's pool.
private final class PipeReader: Sendable {
    private let buffer = Mutex<[UInt8]>([])
    private let done = Atomic<Bool>(false)

    var bytes: [UInt8] { buffer.withLock { $0 } }
    var isDone: Bool { done.load(ordering: .acquiring) }

    func start(_ fd: Int32) {
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
            close(fd)
            self.done.store(true, ordering: .releasing)
        }
    }
}
