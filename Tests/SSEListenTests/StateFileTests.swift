import Foundation
import SSEListenCore
import Testing

@Suite("state file")
struct StateFileTests {
    @Test("a missing file means no saved ID")
    func missing() throws {
        let directory = try TemporaryDirectory()
        #expect(try StateFile(path: directory.file("none")).read() == nil)
    }

    @Test("write then read: the ID and a line feed, mode 0600, no temporary file left, replaced in place")
    func writeAndRead() throws {
        let directory = try TemporaryDirectory()
        let file = StateFile(path: directory.file("state"))
        try file.write("event-41 ✓")
        try file.write("event-42 ✓")
        #expect(try file.read() == "event-42 ✓")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file.path)) == Data("event-42 ✓\n".utf8))
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["state"])
    }

    @Test("0600 even over a world-readable file")
    func tightensPermissions() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("state")
        _ = FileManager.default.createFile(
            atPath: path, contents: Data("1\n".utf8), attributes: [.posixPermissions: 0o644])
        try StateFile(path: path).write("2")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    @Test(
        "contents that are an ID: with or without a final line feed (or CRLF), or empty",
        arguments: [
            ("42\n", "42"), ("42", "42"), ("42\r\n", "42"), ("", ""), ("\n", ""), (" spaced id ", " spaced id "),
        ]
    )
    func validContents(text: String, id: String) throws {
        #expect(try StateFile.parse(Array(text.utf8)).get() == id)
    }

    @Test(
        "contents that are not an ID",
        arguments: [
            ([UInt8]("1\n2".utf8), "it has 2 lines, not one"),
            ([UInt8]("1\r2\n".utf8), "it has 2 lines, not one"),
            ([UInt8]("1\n\n".utf8), "it has 2 lines, not one"),
            ([0x00], "it contains NUL bytes"),
            ([0xC3, 0x28], "it is not UTF-8 text"),
        ]
    )
    func corruptContents(bytes: [UInt8], reason: String) {
        guard case .failure(let corruption) = StateFile.parse(bytes) else {
            Issue.record("accepted \(bytes)")
            return
        }
        #expect(corruption.reason == reason)
    }

    @Test("a corrupt file is an error that names the file and the way out")
    func corruptFileError() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("state")
        try Data([0x31, 0x0A, 0x32, 0x0A, 0x33]).write(to: URL(fileURLWithPath: path))
        #expect(
            throws: ListenError.stateFile(
                "state file '\(path)' does not hold an event ID (it has 3 lines, not one); "
                    + "fix it, or remove it to start from the beginning"
            )
        ) {
            try StateFile(path: path).read()
        }
    }

    @Test("an oversized file is refused")
    func oversized() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("state")
        try Data(repeating: 0x41, count: StateFile.maximumSize + 1).write(to: URL(fileURLWithPath: path))
        #expect(throws: ListenError.self) { try StateFile(path: path).read() }
    }

    @Test("a state file in a missing directory fails the writability check")
    func writability() throws {
        let directory = try TemporaryDirectory()
        try StateFile(path: directory.file("ok")).checkWritable()
        #expect(throws: ListenError.self) { try StateFile(path: directory.file("missing/state")).checkWritable() }
        #expect(throws: ListenError.self) { try StateFile(path: directory.file("missing/state")).write("1") }
    }
}
