import Foundation
import SSETestServer
import Testing

/// `--last-event-id`, `--state-file`, and resuming after a drop.
@Suite("sse-listen resuming", .timeLimit(.minutes(1)))
struct ResumeEndToEndTests {
    @Test("a dropped connection is reconnected with Last-Event-ID: no event lost or repeated")
    func dropAndResume() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 9).droppingAfter(events: 3, with: .reset))
            let result = try await ListenProcess.run([url, "--max-events", "9"] + fastRetries)
            #expect(result.status == 0)
            #expect(result.ids == (1...9).map(String.init))
            // A fourth request may race the exit after the ninth event.
            let requests = server.requests.prefix(3)
            #expect(requests.map { $0.header("Last-Event-ID") } == [nil, "3", "6"])
            let stderr = result.stderr
            #expect(stderr.contains("; reconnecting in "))
            #expect(stderr.contains("(attempt 1)"))
            #expect(stderr.contains("reconnecting (attempt 1), resuming after Last-Event-ID 3"))
            #expect(stderr.contains("resuming after Last-Event-ID 6"))
            #expect(stderr.contains("printed 9 events (--max-events); done"))
        }
    }

    @Test("--last-event-id is sent on the first request")
    func lastEventID() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run([
                server.url(for: .numbered(count: 10)), "--last-event-id", "7", "--max-events", "3",
            ])
            #expect(result.status == 0)
            #expect(result.ids == ["8", "9", "10"])
            #expect(server.requests.first?.header("Last-Event-ID") == "7")
            #expect(
                result.stderr.contains(
                    "connecting to \(server.url(for: .numbered(count: 10))), resuming after Last-Event-ID 7"))
        }
    }

    @Test("--state-file: a second run resumes where the first stopped; the file is 0600 and holds only the ID")
    func stateFileTwoRuns() async throws {
        try await TestServer.withRunning { server in
            let directory = try TemporaryDirectory()
            let state = directory.file("feed.state")
            let url = server.url(for: .numbered(count: 20))
            let credentials = ["-u", "user:hunter2", "-H", "X-Api-Key: key-123"]
            let first = try await ListenProcess.run([url, "--max-events", "3", "--state-file", state] + credentials)
            #expect(first.status == 0)
            #expect(first.ids == ["1", "2", "3"])
            #expect(try String(contentsOfFile: state, encoding: .utf8) == "3\n")
            let attributes = try FileManager.default.attributesOfItem(atPath: state)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["feed.state"], "no temp files")

            let second = try await ListenProcess.run([url, "--max-events", "3", "--state-file", state] + credentials)
            #expect(second.status == 0)
            #expect(second.ids == ["4", "5", "6"])
            #expect(server.requests.last?.header("Last-Event-ID") == "3")
            #expect(second.stderr.contains("resuming after Last-Event-ID 3"))
            #expect(try String(contentsOfFile: state, encoding: .utf8) == "6\n")
        }
    }

    @Test("a saved state file wins over --last-event-id; a missing one starts from --last-event-id")
    func stateFilePrecedence() async throws {
        try await TestServer.withRunning { server in
            let directory = try TemporaryDirectory()
            let state = directory.file("s")
            let url = server.url(for: .numbered(count: 20))
            let fresh = try await ListenProcess.run([
                url, "--state-file", state, "--last-event-id", "10", "--max-events", "1",
            ])
            #expect(fresh.ids == ["11"])
            let resumed = try await ListenProcess.run([
                url, "--state-file", state, "--last-event-id", "2", "--max-events", "1",
            ])
            #expect(resumed.ids == ["12"])
        }
    }

    @Test("the state file also advances past events filtered out by --event")
    func stateFileWithFilter() async throws {
        try await TestServer.withRunning { server in
            let directory = try TemporaryDirectory()
            let state = directory.file("s")
            let url = server.route("/mixed", .raw("id: 1\nevent: a\ndata: 1\n\nid: 2\nevent: b\ndata: 2\n\n"))
            let result = try await ListenProcess.run([url, "--event", "a", "--no-reconnect", "--state-file", state])
            #expect(result.status == 0)
            #expect(result.ids == ["1"])
            #expect(try String(contentsOfFile: state, encoding: .utf8) == "2\n")
        }
    }

    @Test(
        "SIGKILL during a flood: the state file never names an event later than the last one on stdout",
        arguments: [100, 1_000, 5_000]
    )
    func stateFileNeverAheadOfOutput(killAfter lines: Int) async throws {
        try await TestServer.withRunning { server in
            let directory = try TemporaryDirectory()
            let state = directory.file("state")
            let output = directory.file("stdout")
            // Standard output is a file, so what was written survives the kill to be read.
            let process = try ListenProcess(
                [server.url(for: .numbered(interval: .zero)), "--format", "data", "-q", "--state-file", state],
                environment: ["OUTPUT_FILE": output],
                shell: #"exec "$@" > "$OUTPUT_FILE""#
            )
            let deadline = ContinuousClock.now + .seconds(30)
            while (try? String(contentsOfFile: output, encoding: .utf8))?.utf8.count(where: { $0 == 0x0A }) ?? 0 < lines
            {
                guard ContinuousClock.now < deadline else { throw HarnessError("no \(lines) lines in \(output)") }
                try await Task.sleep(for: .milliseconds(2))
            }
            process.send(SIGKILL)
            _ = try await process.finish()
            let text = try String(contentsOfFile: output, encoding: .utf8)
            // Every write is whole lines; the kill cannot cut one.
            #expect(text.hasSuffix("\n"))
            let ids = text.split(separator: "\n").map { Int($0) ?? -1 }
            #expect(ids == Array(1...ids.count), "every event once, in order")
            // It may be behind by the batch being written at the kill, which a restart prints again.
            if let saved = try? String(contentsOfFile: state, encoding: .utf8) {
                let savedID = Int(saved.dropLast()) ?? -1
                #expect(
                    saved.hasSuffix("\n") && (1...ids.count).contains(savedID),
                    "stdout ends at \(ids.count), the state file says \(saved.debugDescription)")
            }
        }
    }

    @Test(
        "a state file that is not an event ID is a usage error, not a silent restart",
        arguments: [
            ([UInt8]("1\n2\n3\n".utf8), "it has 3 lines, not one"),
            ([0x31, 0x00, 0x32], "it contains NUL bytes"),
            ([0xFF, 0xFE, 0x41], "it is not UTF-8 text"),
        ]
    )
    func corruptStateFile(contents: [UInt8], reason: String) async throws {
        let directory = try TemporaryDirectory()
        let state = directory.file("bad.state")
        try Data(contents).write(to: URL(fileURLWithPath: state))
        let result = try await ListenProcess.run(["http://127.0.0.1:1/events", "--state-file", state])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(
            result.stderrLines == [
                "sse-listen: error: state file '\(state)' does not hold an event ID (\(reason)); "
                    + "fix it, or remove it to start from the beginning",
                "sse-listen: see 'sse-listen --help' for the options",
            ]
        )
    }

    @Test("a state file that can no longer be written ends the run with status 1, saying why")
    func stateFileWriteFailure() async throws {
        try await TestServer.withRunning { server in
            let directory = try TemporaryDirectory()
            let folder = directory.file("gone")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
            let state = folder + "/state"
            let process = try ListenProcess([
                server.url(for: .numbered(interval: .milliseconds(20))), "--state-file", state,
            ])
            try await process.waitForStdoutLines(3)
            // Renaming is atomic, unlike removing a folder the program is writing into (and root
            // ignores permissions, so a read-only folder would not do).
            try FileManager.default.moveItem(atPath: folder, toPath: folder + "-moved")
            let result = try await process.finish()
            #expect(result.status == 1)
            #expect(
                result.stderrLines.last?.hasPrefix("sse-listen: error: cannot write state file '\(state)'") == true,
                "\(result.stderr)")
        }
    }

    @Test("an unreadable state file, or one in a missing directory, is a usage error")
    func unreadableStateFile() async throws {
        let directory = try TemporaryDirectory()
        let isDirectory = try await ListenProcess.run(["http://127.0.0.1:1/", "--state-file", directory.path])
        #expect(isDirectory.status == 1)
        #expect(
            isDirectory.stderrLines.first
                == "sse-listen: error: state file '\(directory.path)' is a directory, not a regular file; "
                + "name a file (created if missing) instead")

        let missing = directory.file("no/such/dir/state")
        let inMissingDirectory = try await ListenProcess.run(["http://127.0.0.1:1/", "--state-file", missing])
        #expect(inMissingDirectory.status == 1)
        #expect(
            inMissingDirectory.stderrLines.first?.hasPrefix("sse-listen: error: cannot write state file '\(missing)'")
                == true)
    }
}
