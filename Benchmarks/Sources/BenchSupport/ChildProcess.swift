import CBenchShims

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A program started with `posix_spawnp`, without Foundation: no helper thread watches it, so
/// starting one does not change this process's thread count, and `wait4` reports its CPU time.
///
/// `@unchecked Sendable`: the process id and descriptors are fixed at creation; `termination` is
/// written once by `wait()`, which callers use from one thread.
public final class ChildProcess: @unchecked Sendable {
    /// Where a standard stream of the child goes.
    public enum Output: Sendable {
        /// This process's own stream.
        case inherit
        /// `/dev/null`.
        case discard
        /// A pipe this process reads from (``standardOutput`` or ``standardError``).
        case pipe
        /// A file, created or truncated.
        case file(String)
    }

    /// How a child ended.
    public struct Termination: Sendable {
        /// The exit status, or 128 plus the signal that killed it.
        public var status: Int32
        /// Its CPU time, user plus system, in seconds.
        public var cpuSeconds: Double
        /// Its peak resident memory in bytes.
        public var maximumResidentBytes: Int
    }

    /// The arguments, the program first.
    public let arguments: [String]
    /// The process id.
    public let pid: pid_t
    /// The read end of the child's standard output, for ``Output/pipe``.
    public let standardOutput: Int32?
    /// The read end of the child's standard error, for ``Output/pipe``.
    public let standardError: Int32?
    private var termination: Termination?

    /// Starts `arguments[0]`, found on `PATH`, with standard input from `/dev/null`.
    public init(_ arguments: [String], standardOutput: Output = .inherit, standardError: Output = .inherit) throws {
        precondition(!arguments.isEmpty, "no program to start")
        self.arguments = arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        func arrange(_ output: Output, _ target: Int32) throws -> Int32? {
            switch output {
            case .inherit:
                return nil
            case .discard:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
                return nil
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                return nil
            case .pipe:
                var ends: [Int32] = [-1, -1]
                guard pipe(&ends) == 0 else {
                    throw BenchmarkError("cannot create a pipe: \(String(cString: strerror(errno)))")
                }
                // Not inherited by other children (a server started later must not hold the pipe).
                _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
                _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
                posix_spawn_file_actions_adddup2(&actions, ends[1], target)
                parentEnds.append(ends[0])
                childEnds.append(ends[1])
                return ends[0]
            }
        }
        self.standardOutput = try arrange(standardOutput, 1)
        self.standardError = try arrange(standardError, 2)

        // Nothing but the three standard streams is inherited (an event loop's descriptors are
        // not always close-on-exec).
        _ = bench_spawn_file_actions_addclosefrom(&actions, 3)

        // The spawning thread may be one of the runtime's, which block most signals and ignore
        // SIGPIPE: the child starts with no signal blocked and default handlers, so that SIGTERM
        // stops it and a closed pipe ends it as it would from a shell.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let result = posix_spawnp(&pid, arguments[0], &actions, &attributes, &argv, environ)
        for descriptor in childEnds { close(descriptor) }
        guard result == 0 else {
            for descriptor in parentEnds { close(descriptor) }
            throw BenchmarkError("cannot start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    deinit {
        if termination == nil {
            kill(pid, SIGKILL)
            _ = wait()
        }
        if let standardOutput { close(standardOutput) }
        if let standardError { close(standardError) }
    }

    /// Waits for the child to end (blocking this thread); later calls return the same.
    @discardableResult
    public func wait() -> Termination {
        if let termination { return termination }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as functions.
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        let ended = Termination(
            status: code,
            cpuSeconds: usage.cpuSeconds,
            maximumResidentBytes: Int(usage.ru_maxrss) * 1024
        )
        termination = ended
        return ended
    }

    /// Sends SIGTERM and waits.
    @discardableResult
    public func terminate() -> Termination {
        if termination == nil { kill(pid, SIGTERM) }
        return wait()
    }

    /// Reads one line from `descriptor` (a pipe from the child), waiting at most `timeout`
    /// seconds; `nil` at the end of the pipe or on time-out. Reads a byte at a time, so nothing
    /// after the line is consumed.
    public func readLine(from descriptor: Int32, timeout: Double) -> String? {
        var line: [UInt8] = []
        let deadline = Clock.seconds() + timeout
        while true {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(0, (deadline - Clock.seconds()) * 1000))
            let ready = poll(&poller, 1, remaining)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            var byte: UInt8 = 0
            let count = read(descriptor, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }
}

/// What a finished program wrote.
public struct ProgramOutput: Sendable {
    /// How it ended.
    public var termination: ChildProcess.Termination
    /// Its standard output.
    public var standardOutput: String
    /// Its standard error.
    public var standardError: String
}

/// Runs a program found on `PATH` to its end, collecting what it writes (through temporary
/// files, so that neither stream can fill a pipe and block it).
public func runProgram(_ arguments: [String]) throws -> ProgramOutput {
    let outputPath = try temporaryFile("out")
    let errorPath = try temporaryFile("err")
    defer {
        unlink(outputPath)
        unlink(errorPath)
    }
    let child = try ChildProcess(arguments, standardOutput: .file(outputPath), standardError: .file(errorPath))
    let termination = child.wait()
    return ProgramOutput(
        termination: termination,
        standardOutput: readSmallFile(outputPath),
        standardError: readSmallFile(errorPath)
    )
}

/// Creates an empty temporary file and returns its path.
public func temporaryFile(_ tag: String) throws -> String {
    let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    var template = Array("\(directory)/sse-bench-\(tag)-XXXXXX".utf8CString)
    let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard descriptor >= 0 else {
        throw BenchmarkError("cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))")
    }
    close(descriptor)
    return string(fromNulTerminated: template)
}

/// Creates a temporary folder and returns its path.
public func temporaryDirectory(_ tag: String) throws -> String {
    let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    var template = Array("\(directory)/sse-bench-\(tag)-XXXXXX".utf8CString)
    let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard result != nil else {
        throw BenchmarkError("cannot create a temporary folder in \(directory): \(String(cString: strerror(errno)))")
    }
    return string(fromNulTerminated: template)
}

private func string(fromNulTerminated characters: [CChar]) -> String {
    String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
