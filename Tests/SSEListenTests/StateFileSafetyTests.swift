import Foundation
import SSEListenCore
import SSETestServer
import Testing

/// `--state-file` never replaces what is not a regular file: devices, FIFOs and directories are
/// refused before anything is sent, and a symbolic link is followed to the file it names.
@Suite("state file safety", .timeLimit(.minutes(1)))
struct StateFileSafetyTests {
    /// Whether this process may make device nodes (root with CAP_MKNOD): tried once in a
    /// throw-away directory.
    static let canMakeDeviceNodes: Bool = {
        guard getuid() == 0, let directory = try? TemporaryDirectory() else { return false }
        return mknod(directory.file("probe"), S_IFCHR | 0o600, 0) == 0
    }()

    static func fileType(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT
    }

    /// Runs `sse-listen --state-file PATH` against a server and checks the usage error: exit 1,
    /// one error line naming the file and what it is, the hint, and no request sent.
    func expectRefused(_ path: String, saying text: String) async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run([
                server.url(for: .numbered(count: 1)), "--state-file", path, "--no-reconnect",
            ])
            #expect(result.status == 1)
            #expect(result.stdout.isEmpty)
            let lines = result.stderrLines
            #expect(lines.count == 2, "\(lines)")
            #expect(lines.first == "sse-listen: error: state file '\(path)' \(text)", "\(lines)")
            #expect(lines.last == "sse-listen: see 'sse-listen --help' for the options")
            #expect(server.requests.isEmpty)
        }
    }

    @Test("a device node is refused and left as it was", .enabled(if: canMakeDeviceNodes))
    func deviceNode() async throws {
        let directory = try TemporaryDirectory()
        let device = directory.file("null")
        // Device 0:0, a private node in a temporary directory: nothing real is at stake.
        try #require(mknod(device, S_IFCHR | 0o666, 0) == 0)
        try await expectRefused(
            device, saying: "is a character device, not a regular file; name a file (created if missing) instead")
        #expect(Self.fileType(device) == S_IFCHR)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["null"])
    }

    @Test("a symbolic link to a device node is refused", .enabled(if: canMakeDeviceNodes))
    func linkToDevice() async throws {
        let directory = try TemporaryDirectory()
        try #require(mknod(directory.file("null"), S_IFCHR | 0o666, 0) == 0)
        try FileManager.default.createSymbolicLink(atPath: directory.file("link"), withDestinationPath: "null")
        try await expectRefused(
            directory.file("link"),
            saying: "is a symbolic link to '\(directory.path)/null', which is a character device, "
                + "not a regular file; name a file (created if missing) instead"
        )
        #expect(Self.fileType(directory.file("null")) == S_IFCHR)
        #expect(Self.fileType(directory.file("link")) == S_IFLNK)
    }

    @Test("a FIFO is refused at once, without blocking on it")
    func fifo() async throws {
        let directory = try TemporaryDirectory()
        let fifo = directory.file("fifo")
        try #require(mkfifo(fifo, 0o600) == 0)
        try await expectRefused(
            fifo, saying: "is a FIFO (named pipe), not a regular file; name a file (created if missing) instead")
        #expect(Self.fileType(fifo) == S_IFIFO)
    }

    @Test("a directory is refused")
    func directory() async throws {
        let directory = try TemporaryDirectory()
        try await expectRefused(
            directory.path,
            saying: "is a directory, not a regular file; name a file (created if missing) instead")
        #expect(Self.fileType(directory.path) == S_IFDIR)
    }

    @Test("a symbolic link is followed: resumes from its target, updates the target, and stays a link")
    func symbolicLink() async throws {
        let linkDirectory = try TemporaryDirectory()
        let targetDirectory = try TemporaryDirectory()
        let target = targetDirectory.file("state")
        try Data("3\n".utf8).write(to: URL(fileURLWithPath: target))
        let link = linkDirectory.file("state")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run([
                server.url(for: .numbered(count: 5)), "--state-file", link, "--no-reconnect",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.ids == ["4", "5"])
            #expect(server.requests.first?.header("Last-Event-ID") == "3")
        }
        #expect(Self.fileType(link) == S_IFLNK)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "5\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: target)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        // The temporary file was made beside the target (a rename cannot cross file systems),
        // and none is left anywhere.
        #expect(try FileManager.default.contentsOfDirectory(atPath: linkDirectory.path) == ["state"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: targetDirectory.path) == ["state"])
    }

    @Test("a relative link, a chain of links and a dangling link name the file they lead to")
    func resolution() throws {
        let directory = try TemporaryDirectory()
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory.file("sub"), withIntermediateDirectories: false)
        try manager.createSymbolicLink(atPath: directory.file("sub/real-link"), withDestinationPath: "../real")
        try manager.createSymbolicLink(atPath: directory.file("chain"), withDestinationPath: "sub/real-link")
        #expect(try StateFile(path: directory.file("chain")).resolvedTarget() == directory.path + "/sub/../real")
        // Dangling: the target does not exist yet, and is created by the first write.
        try StateFile(path: directory.file("chain")).write("7")
        #expect(try String(contentsOfFile: directory.file("real"), encoding: .utf8) == "7\n")
        #expect(Self.fileType(directory.file("chain")) == S_IFLNK)
        #expect(try StateFile(path: directory.file("chain")).read() == "7")
        // A plain missing file is itself.
        #expect(try StateFile(path: directory.file("none")).resolvedTarget() == directory.file("none"))
    }

    @Test("a loop of links is refused")
    func linkLoop() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createSymbolicLink(atPath: directory.file("a"), withDestinationPath: "b")
        try FileManager.default.createSymbolicLink(atPath: directory.file("b"), withDestinationPath: "a")
        #expect(throws: ListenError.self) { try StateFile(path: directory.file("a")).checkWritable() }
    }

    @Test("a path that turned into a FIFO after the start is not replaced by a write")
    func checkedOnEveryWrite() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("state")
        let file = StateFile(path: path)
        try file.checkWritable()
        try #require(mkfifo(path, 0o600) == 0)
        #expect(
            throws: ListenError.stateFile(
                "state file '\(path)' is a FIFO (named pipe), not a regular file; "
                    + "name a file (created if missing) instead")
        ) {
            try file.write("1")
        }
        #expect(Self.fileType(path) == S_IFIFO)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["state"])
    }
}
