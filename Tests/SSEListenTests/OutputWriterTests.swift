import Dispatch
import Foundation
import SSETestSupport
import Synchronization
import Testing

@testable import SSEListenCore

@Suite("pending output")
struct PendingOutputTests {
    @Test(
        "bytes for one stream merge, across saves; a batch saves only its latest ID, after all its output")
    func merging() {
        var pending = PendingOutput()
        pending.append(Array("a".utf8), to: .stdout)
        pending.append(Array("b".utf8), to: .stdout)
        pending.append(Array("!".utf8), to: .stderr)
        pending.append(Array("c".utf8), to: .stdout)
        pending.save("1")
        pending.save("2")
        pending.append(Array("d".utf8), to: .stdout)
        pending.append(to: .stdout) { $0.append(contentsOf: "e".utf8) }
        pending.save("3")
        #expect(pending.byteCount == 6)
        #expect(
            pending.take() == [
                .bytes(.stdout, Array("ab".utf8)), .bytes(.stderr, Array("!".utf8)),
                .bytes(.stdout, Array("cde".utf8)), .save("3"),
            ]
        )
        #expect(pending.isEmpty)
        #expect(pending.byteCount == 0)
        #expect(pending.take() == [])
    }

    @Test("appending nothing adds no segment and does not split the bytes around it")
    func emptyAppends() {
        var pending = PendingOutput()
        pending.append([], to: .stdout)
        #expect(pending.isEmpty)
        pending.append(Array("x".utf8), to: .stderr)
        pending.append([], to: .stdout)
        pending.append(Array("y".utf8), to: .stderr)
        pending.save("1")
        pending.append([], to: .stdout)
        pending.save("2")
        #expect(pending.take() == [.bytes(.stderr, Array("xy".utf8)), .save("2")])
    }

    @Test("a burst of 10,000 events without saves is one segment")
    func burst() {
        var pending = PendingOutput()
        var formatter = EventFormatter(format: .data)
        var expected: [UInt8] = []
        for number in 1...10_000 {
            pending.append(to: .stdout) { formatter.append(.init(id: "\(number)", data: "\(number)"), to: &$0) }
            expected += Array("\(number)\n".utf8)
        }
        #expect(pending.byteCount == expected.count)
        #expect(pending.take() == [.bytes(.stdout, expected)])
    }
}

@Suite("output writer", .timeLimit(.minutes(1)))
struct OutputWriterTests {
    static let stateFile = StateFile(path: "/nonexistent/recording-sink-never-writes-here")

    @Test("a lone event is written at once, without more output or drain()")
    func loneEvent() async throws {
        let sink = RecordingSink()
        let writer = OutputWriter(stateFile: nil, savedID: "", sink: sink) {}
        await writer.write("only\n", to: .stdout)
        try await sink.waitUntil { $0 == [.stdout("only\n")] }
    }

    @Test("output queued while a write is in progress goes out in the next write, all of it at once")
    func batching() async throws {
        let sink = RecordingSink()
        let writer = OutputWriter(stateFile: nil, savedID: "", sink: sink) {}
        sink.hold()
        await writer.write("0\n", to: .stdout)
        try await sink.waitUntilHeld()
        var rest = ""
        for number in 1...5_000 {
            await writer.write("\(number)\n", to: .stdout)
            rest += "\(number)\n"
        }
        sink.release()
        await writer.drain()
        #expect(sink.log == [.stdout("0\n"), .stdout(rest)])
    }

    @Test("stdout and stderr keep their order; a batch's ID is saved only after all its output is written")
    func order() async throws {
        let sink = RecordingSink()
        let writer = OutputWriter(stateFile: Self.stateFile, savedID: "0", sink: sink) {}
        sink.hold()
        await writer.write("e0\n", to: .stdout)
        writer.saveState("0")
        try await sink.waitUntilHeld()
        await writer.write("e1\n", to: .stdout)
        writer.saveState("1")
        await writer.write("note\n", to: .stderr)
        await writer.write("e2\n", to: .stdout)
        writer.saveState("2")
        writer.saveState("3")  // e3 filtered out
        await writer.write("e4\n", to: .stdout)
        await writer.write("e4 continued\n", to: .stdout)
        writer.saveState("4")
        sink.release()
        await writer.drain()
        // "0" is what the file already holds; everything queued during the held write is one batch.
        #expect(
            sink.log == [
                .stdout("e0\n"), .stdout("e1\n"), .stderr("note\n"), .stdout("e2\ne4\ne4 continued\n"), .save("4"),
            ]
        )
    }

    @Test("drain() returns only once everything queued before it is written")
    func drainWaits() async throws {
        let sink = RecordingSink()
        let writer = OutputWriter(stateFile: nil, savedID: "", sink: sink) {}
        await writer.drain()  // idle: returns at once
        sink.hold()
        await writer.write("a\n", to: .stdout)
        try await sink.waitUntilHeld()
        await writer.write("b\n", to: .stderr)
        // What the sink had written when drain() returned proves it did not return early: both
        // writes, though the first was still held when drain() was called.
        let calling = Atomic<Bool>(false)
        let drainer = Task {
            calling.store(true, ordering: .sequentiallyConsistent)
            await writer.drain()
            return sink.log
        }
        try await waitUntil("the drainer to call drain()") { calling.load(ordering: .sequentiallyConsistent) }
        #expect(sink.log.isEmpty, "the first write is still held")
        sink.release()
        #expect(await drainer.value == [.stdout("a\n"), .stderr("b\n")])
    }

    @Test("writers suspend above the high-water mark and resume once the queue is written")
    func backpressure() async throws {
        let sink = RecordingSink()
        let writer = OutputWriter(stateFile: nil, savedID: "", sink: sink) {}
        sink.hold()
        await writer.write("first\n", to: .stdout)
        try await sink.waitUntilHeld()
        let chunk = String(repeating: "x", count: 600 << 10)
        // The first 600 KiB fit; the second brings the queue over 1 MiB: the writer must wait.
        #expect(!writer.append(to: .stdout) { $0.append(contentsOf: chunk.utf8) })
        #expect(writer.append(to: .stdout) { $0.append(contentsOf: chunk.utf8) })
        // What the sink had written when the wait ended proves it waited: the queue had fallen to
        // the low-water mark (256 KiB), so the 1.2 MiB behind the held write were out.
        let waiter = Task {
            await writer.waitForSpace()
            return sink.log
        }
        #expect(sink.log.isEmpty, "the first write is still held")
        sink.release()
        #expect(await waiter.value == [.stdout("first\n"), .stdout(chunk + chunk)])
        await writer.drain()
        #expect(sink.log == [.stdout("first\n"), .stdout(chunk + chunk)])
    }

    @Test("EPIPE: onStdoutClosed runs once, later stdout is dropped, stderr goes on, and no more IDs are saved")
    func stdoutClosed() async throws {
        let sink = RecordingSink()
        sink.failStdout()
        let closedCount = Atomic<Int>(0)
        let writer = OutputWriter(stateFile: Self.stateFile, savedID: "", sink: sink) {
            closedCount.add(1, ordering: .sequentiallyConsistent)
        }
        await writer.write("e1\n", to: .stdout)
        writer.saveState("1")
        await writer.write("status\n", to: .stderr)
        await writer.drain()
        await writer.write("e2\n", to: .stdout)
        writer.saveState("2")
        await writer.write("more\n", to: .stderr)
        await writer.drain()
        #expect(writer.isStdoutClosed)
        let closedCalls = closedCount.load(ordering: .sequentiallyConsistent)
        #expect(closedCalls == 1)
        #expect(sink.log == [.stdout("e1\n"), .stderr("status\n"), .stderr("more\n")], "e1 was attempted and failed")
    }
}

/// An ``OutputSink`` that records what it is asked to do; it can hold writes (blocking the writer's
/// queue, never the test's tasks) and fail standard output as a closed pipe does.
final class RecordingSink: OutputSink {
    enum Operation: Hashable, CustomStringConvertible {
        case stdout(String)
        case stderr(String)
        case save(String)

        var description: String {
            switch self {
            case .stdout(let text): "stdout(\(text.count) bytes: \(text.prefix(40).debugDescription))"
            case .stderr(let text): "stderr(\(text.debugDescription))"
            case .save(let id): "save(\(id))"
            }
        }
    }

    private struct State {
        var log: [Operation] = []
        var holding = false
        var held = 0
        var stdoutFails = false
    }

    private let state = Mutex(State())
    private let gate = DispatchSemaphore(value: 0)

    var log: [Operation] { state.withLock { $0.log } }

    func write(_ bytes: [UInt8], to stream: OutputWriter.Stream) throws(FileIOError) {
        let hold = state.withLock { state in
            if state.holding { state.held += 1 }
            return state.holding
        }
        if hold { gate.wait() }
        let text = String(decoding: bytes, as: UTF8.self)
        let fails = state.withLock { state in
            state.log.append(stream == .stdout ? .stdout(text) : .stderr(text))
            return stream == .stdout && state.stdoutFails
        }
        if fails { throw FileIOError(message: "Broken pipe", code: EPIPE) }
    }

    func save(_ id: String, in stateFile: StateFile) throws(ListenError) {
        state.withLock { $0.log.append(.save(id)) }
    }

    /// Makes later writes wait for ``release()``.
    func hold() {
        state.withLock { $0.holding = true }
    }

    /// Lets the held write go on, and later ones pass.
    func release() {
        let held = state.withLock { state in
            state.holding = false
            defer { state.held = 0 }
            return state.held
        }
        for _ in 0..<held { gate.signal() }
    }

    /// Makes writes to standard output fail with `EPIPE`.
    func failStdout() {
        state.withLock { $0.stdoutFails = true }
    }

    /// Waits until a write is being held.
    func waitUntilHeld() async throws {
        try await poll("a held write") { $0.held > 0 }
    }

    /// Waits until `condition` holds for the log.
    func waitUntil(_ condition: @escaping @Sendable ([Operation]) -> Bool) async throws {
        try await poll("the expected log") { condition($0.log) }
    }

    private func poll(_ what: String, _ condition: (State) -> Bool) async throws {
        try await SSETestSupport.waitUntil("\(what); log: \(log)", interval: .milliseconds(1)) {
            state.withLock { condition($0) }
        }
    }
}
