import Foundation
import SSETestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The test harness's own child processes: what every end-to-end test here relies on.
@Suite("Child processes of the tests")
struct ChildProcessTests {
    @Test("a child sees its arguments, its environment and its stdin, and its exit status comes back")
    func argumentsEnvironmentInputAndStatus() async throws {
        let result = try await ChildProcess.run(
            "/bin/sh", ["-c", "printf '%s|%s|' \"$1\" \"$GREETING\"; cat; echo oops >&2; exit 7", "sh", "one two"],
            environment: ["GREETING": "hello"],
            stdin: Array("from stdin".utf8)
        )
        #expect(result.stdoutText == "one two|hello|from stdin")
        #expect(result.stderrText == "oops\n")
        #expect(result.status == 7)
    }

    @Test("a child killed by a signal reports the signal's number")
    func killedBySignal() async throws {
        let child = try ChildProcess("/bin/sh", ["-c", "echo ready; exec sleep 30"])
        #expect(try await child.firstLine() == "ready")
        child.send(SIGKILL)
        let result = try await child.finish()
        #expect(result.status == SIGKILL)
        #expect(!child.isRunning)
    }

    @Test("a descriptor this process holds without close-on-exec does not reach the child")
    func noInheritedDescriptors() async throws {
        let fd = open("/dev/null", O_RDONLY)  // no O_CLOEXEC, as libcurl's sockets may be
        try #require(fd > 2)
        defer { close(fd) }
        let result = try await ChildProcess.run(
            "/bin/sh", ["-c", "test -e /proc/self/fd/\(fd) && echo leaked || echo closed"])
        #expect(result.stdoutText == "closed\n")
    }

    @Test("the working directory is the one asked for")
    func workingDirectory() async throws {
        let result = try await ChildProcess.run("/bin/pwd", [], directory: "/")
        #expect(result.stdoutText == "/\n")
    }

    @Test("a child that exits without reading a large input does not take the test process with it")
    func unreadInputIsNotFatal() async throws {
        let result = try await ChildProcess.run("/bin/true", [], stdin: [UInt8](repeating: 0x61, count: 4 << 20))
        #expect(result.status == 0)
    }

    @Test("standard input kept open ends only when closed: the child sees its end then")
    func inputKeptOpen() async throws {
        let child = try ChildProcess(
            "/bin/sh", ["-c", "cat; echo end"], stdin: Array("a\n".utf8), keepingInputOpen: true)
        try await child.waitForOutput("the input echoed") { stdout, _ in stdout == Array("a\n".utf8) }
        #expect(child.isRunning)
        child.closeInput()
        let result = try await child.finish()
        #expect(result.stdoutText == "a\nend\n")
    }

    @Test("a program that does not exist is an error at the start, not a hang")
    func missingProgram() {
        #expect(throws: SpawnFailed.self) { try ChildProcess("/nonexistent/program", []) }
    }

    @Test("fifty children started at once from parallel tasks all run to their ends")
    func manyAtOnce() async throws {
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<50 {
                group.addTask { try await ChildProcess.run("/bin/echo", ["\(index)"]).stdoutText }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(outputs == Set((0..<50).map { "\($0)\n" }))
    }
}
