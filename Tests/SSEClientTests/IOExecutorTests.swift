import SSEClient
import SSEParser
import SSETestServer
import SSETestSupport
import Testing

@testable import SSEClient

@Suite("EventSource.ioExecutor: consumers on the I/O thread", .timeLimit(.minutes(1)))
struct IOExecutorTests {
    @Test("a consumer that prefers EventSource.ioExecutor runs on the I/O thread and gets every event in order")
    func consumerRunsOnTheIOThread() async throws {
        try await TestServer.withRunning { server in
            let events = EventSource(
                url: server.url(for: .numbered(interval: .milliseconds(2))), configuration: .testing())
            let consumer = Task(executorPreference: EventSource.ioExecutor) {
                try await withTimeout("20 events", timeout: .seconds(30)) {
                    var seen: [(id: String, onIOThread: Bool)] = []
                    for try await event in events.events {
                        seen.append((event.id, CurlDriver.shared.isCurrentThread))
                        if seen.count == 20 { break }
                    }
                    return seen
                }
            }
            let seen = try await consumer.value
            #expect(seen.map(\.id) == (1...20).map(String.init))
            let allOnIOThread = seen.allSatisfy { $0.onIOThread }
            #expect(allOnIOThread)
            events.close()
        }
    }

    @Test("a job queued from another thread wakes the I/O thread, or starts one when it has lingered out")
    func wakesAndRestartsTheThread() async throws {
        let driver = CurlDriver(linger: .milliseconds(50))
        let (signal, resume) = AsyncStream<Void>.makeStream()
        let task = Task(executorPreference: driver) {
            var onIOThread = [driver.isCurrentThread]
            var signals = signal.makeAsyncIterator()
            _ = await signals.next()
            onIOThread.append(driver.isCurrentThread)
            return onIOThread
        }
        // The thread started for the task's first job, ran it and, with nothing else to do, exited.
        try await waitUntil("the task's thread to run it and exit") {
            driver.threadStatus.started == 1 && !driver.threadStatus.isRunning
        }
        resume.yield()
        #expect(await task.value == [true, true])
        #expect(driver.threadStatus.started == 2)
    }

    @Test("a consumer on the I/O thread that falls behind pauses its transfer, which it resumes, losing nothing")
    func slowConsumerPausesAndResumes() async throws {
        let driver = CurlDriver(linger: .milliseconds(50))
        try await TestServer.withRunning { server in
            // 200 events of 1 KB as fast as the server writes them, against 4 KiB of buffer: the
            // transfer pauses, and only the consumer's own takes, on the I/O thread, resume it.
            let events = makeSource(
                server.url(for: .numbered(count: 200, interval: .zero, payloadSize: 1000)),
                .testing { $0.maximumBufferedBytes = 4096 }, driver: driver)
            let ids = try await Task(executorPreference: driver) {
                try await withTimeout("200 events", timeout: .seconds(30)) {
                    var ids: [String] = []
                    for try await event in events.events {
                        ids.append(event.id)
                        if ids.count % 20 == 0 { try await Task.sleep(for: .milliseconds(20)) }
                        if ids.count == 200 { break }
                    }
                    return ids
                }
            }.value
            #expect(ids == (1...200).map(String.init))
            #expect(events.metrics.pausedTime > .zero)
            events.close()
        }
    }
}
