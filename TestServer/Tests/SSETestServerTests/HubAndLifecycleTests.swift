import Foundation
import NIOCore
import NIOPosix
import SSEParser
import SSETestServer
import SSETestSupport
import Testing

@Suite("Broadcast hub", .timeLimit(.minutes(1)))
struct HubTests {
    @Test("every subscriber receives every message, with ids from one sequence")
    func fanOut() async throws {
        try await TestServer.withRunning { server in
            async let first = RawHTTPClient.exchange(port: server.port, .get("/subscribe")) {
                $0.contains("data: two\n\n")
            }
            async let second = RawHTTPClient.exchange(port: server.port, .get("/subscribe")) {
                $0.contains("data: two\n\n")
            }
            try await server.waitForSubscribers(count: 2)

            let published = try await RawHTTPClient.exchange(
                port: server.port,
                .request("POST", "/publish?event=greeting", body: "one")
            )
            #expect(published.status == 200)
            #expect(String(decoding: published.wireBody, as: UTF8.self) == "{\"id\":\"1\",\"subscribers\":2}\n")
            let event = try await server.publish("two")
            #expect(event == ServerSentEvent(id: "2", data: "two"))

            for response in try await [first, second] {
                #expect(response.status == 200)
                #expect(response.header("Content-Type") == "text/event-stream")
                #expect(response.text == "id: 1\nevent: greeting\ndata: one\n\nid: 2\ndata: two\n\n")
            }
        }
    }

    @Test("Last-Event-ID replays what the ring buffer still holds")
    func replay() async throws {
        try await TestServer.withRunning(configuration: .init(historyCapacity: 3)) { server in
            for n in 1...5 { try await server.publish("m\(n)") }
            let resumed = try await RawHTTPClient.exchange(
                port: server.port,
                .get("/subscribe", headers: ["Last-Event-ID: 3"])
            ) { $0.contains("data: m5\n\n") }
            #expect(resumed.text == "id: 4\ndata: m4\n\nid: 5\ndata: m5\n\n")

            // ID 1 has left the ring buffer: everything held is replayed.
            let gap = try await RawHTTPClient.exchange(
                port: server.port,
                .get("/subscribe", headers: ["Last-Event-ID: 1"])
            ) { $0.contains("data: m5\n\n") }
            #expect(gap.text == "id: 3\ndata: m3\n\nid: 4\ndata: m4\n\nid: 5\ndata: m5\n\n")
        }
    }

    @Test("a fresh subscriber gets only new messages, with scenario options applied")
    func freshSubscriber() async throws {
        try await TestServer.withRunning { server in
            try await server.publish("old")
            async let response = RawHTTPClient.exchange(
                port: server.port,
                .get("/subscribe?retry=2000&dropAfter=1&framing=close")
            )
            try await server.waitForSubscribers(count: 1)
            try await server.publish("new")
            let received = try await response
            #expect(String(decoding: received.wireBody, as: UTF8.self) == "retry: 2000\nid: 2\ndata: new\n\n")
            #expect(received.ending == .fin)
        }
    }

    @Test("publish accepts only POST")
    func publishMethod() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(port: server.port, .get("/publish"))
            #expect(response.status == 405)
        }
    }
}

@Suite("Server lifecycle", .timeLimit(.minutes(1)))
struct LifecycleTests {
    @Test("port 0 picks a free port, and two servers run side by side")
    func ephemeralPorts() async throws {
        let first = try await TestServer.start()
        let second = try await TestServer.start()
        #expect(first.port > 0)
        #expect(first.port != second.port)
        try await first.shutdown()
        try await second.shutdown()
        try await first.shutdown()  // a second call does nothing
    }

    @Test("shutdown closes hanging connections and fails waits")
    func shutdownClosesConnections() async throws {
        let server = try await TestServer.start()
        async let hanging = RawHTTPClient.exchange(port: server.port, .get("/events?hang=before-headers"))
        _ = try await server.waitForRequests(count: 1)
        try await server.shutdown()
        let response = try await hanging
        #expect(response.bytes.isEmpty)
        #expect(response.ending == .fin)
        await #expect(throws: TestServerError.self) {
            try await server.waitForRequests(count: 2)
        }
    }

    @Test("waits time out with a sentence saying what they waited for")
    func waitTimesOut() async throws {
        try await TestServer.withRunning { server in
            let clock = ContinuousClock()
            let start = clock.now
            do {
                _ = try await server.waitForRequests(count: 1, timeout: .milliseconds(50))
                Issue.record("the wait should have timed out")
            } catch let error as TestServerError {
                #expect(error.code == .timedOut)
                #expect(error.description.contains("1 requests"))
            }
            // That it times out at all, and does not hang: how soon is not this test's business.
            #expect(clock.now - start < .seconds(30))
        }
    }

    @Test("requests are recorded in order, with their connection numbers and times")
    func recording() async throws {
        try await TestServer.withRunning { server in
            for n in 1...3 {
                _ = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=1&n=\(n)"))
            }
            let requests = try await server.waitForRequests(count: 3)
            #expect(requests.map(\.connection) == [1, 2, 3])
            #expect(requests.map { $0.queryValue("n") } == ["1", "2", "3"])
            #expect(requests[0].receivedAt <= requests[1].receivedAt)
            #expect(requests[0].header("Host") == "127.0.0.1")
            #expect(server.connectionCount == 3)
        }
    }

    @Test("the time each connection closed is recorded, and can be waited for")
    func closeTimes() async throws {
        try await TestServer.withRunning { server in
            #expect(server.closeTime(ofConnection: 1) == nil)
            let before = ContinuousClock.now
            _ = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=1"))
            let closedAt = try await server.waitForClose(ofConnection: 1, timeout: .seconds(5))
            #expect(closedAt >= before)
            #expect(server.closeTime(ofConnection: 1) == closedAt)
            await #expect(throws: TestServerError.self) {
                _ = try await server.waitForClose(ofConnection: 2, timeout: .milliseconds(50))
            }
        }
    }

    @Test("a hub restarted with the history of the last one carries on its sequence")
    func restartedHub() async throws {
        let history = try await TestServer.withRunning { server in
            for n in 1...3 { try await server.publish("m\(n)") }
            return try await server.hubHistory()
        }
        #expect(history.map(\.id) == ["1", "2", "3"])
        try await TestServer.withRunning(configuration: .init(initialHubHistory: history)) { server in
            let next = try await server.publish("m4")
            let held = try await server.hubHistory()
            #expect(next.id == "4")
            #expect(held.map(\.data) == ["m1", "m2", "m3", "m4"])
        }
    }

    @Test("the root path describes the endpoints")
    func help() async throws {
        try await TestServer.withRunning { server in
            let response = try await RawHTTPClient.exchange(port: server.port, .get("/"))
            #expect(response.status == 200)
            #expect(String(decoding: response.wireBody, as: UTF8.self).contains("/subscribe"))
        }
    }
}

@Suite("Request records", .timeLimit(.minutes(1)))
struct RequestRecordTests {
    @Test(
        "keepsRequests off: requests are counted (waits see them) but not kept"
    )
    func notKept() async throws {
        try await TestServer.withRunning(configuration: .init(keepsRequests: false)) { server in
            for _ in 0..<3 {
                let response = try await RawHTTPClient.exchange(port: server.port, .get("/events?count=2"))
                #expect(response.text == numberedText(1...2))
            }
            #expect(try await server.waitForRequests(count: 3).isEmpty)
            #expect(server.requests.isEmpty)
            await #expect(throws: TestServerError.self) {
                try await server.waitForRequests(count: 4, timeout: .milliseconds(200))
            }
        }
    }
}

/// The `sse-test-server` executable, built next to the test bundle.
let executablePath: String? = {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("sse-test-server").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory.deleteLastPathComponent()
    }
    return nil
}()

@Suite("The sse-test-server executable", .timeLimit(.minutes(1)))
struct ExecutableTests {
    @Test(
        "prints the URL it listens on, serves, logs requests, and stops on SIGINT", .enabled(if: executablePath != nil))
    func runs() async throws {
        let process = try ChildProcess(executablePath!, ["--port", "0", "--tick", "10", "--cors-origin", "*"])
        let line = try await process.firstLine()
        #expect(line.hasPrefix("listening on http://127.0.0.1:"))
        let port = try #require(Int(line.split(separator: ":").last ?? ""))

        let response = try await RawHTTPClient.exchange(port: port, .get("/events?count=3"))
        #expect(response.text == numberedText(1...3))
        #expect(response.header("Access-Control-Allow-Origin") == "*")

        process.send(SIGINT)
        let result = try await process.finish()
        #expect(result.status == 0)
        #expect(result.stderrText.contains("GET /events?count=3"))
    }

    @Test("rejects unknown arguments with exit code 1", .enabled(if: executablePath != nil))
    func badArgument() async throws {
        #expect(try await ChildProcess.run(executablePath!, ["--bogus"]).status == 1)
        let half = try await ChildProcess.run(executablePath!, ["--tls-cert", "cert.pem"])
        #expect(half.status == 1)
        #expect(half.stderrText.contains("--tls-cert needs --tls-key"))
    }

    @Test(
        "--tls-cert and --tls-key: https, HTTP/2 by ALPN for curl; a key file that holds no key is an error",
        .enabled(if: executablePath != nil))
    func tls() async throws {
        let certificates = try await TLSTerminator()
        let process = try ChildProcess(
            executablePath!,
            [
                "--port", "0", "--tls-cert", certificates.path("server.pem"), "--tls-key",
                certificates.path("server.key"),
            ])
        let line = try await process.firstLine()
        #expect(line.hasPrefix("listening on https://127.0.0.1:"))
        let url = String(line.dropFirst("listening on ".count)) + "/events?count=2&interval=0"
        let curl = try await ChildProcess.run(
            "/usr/bin/env", ["curl", "-sS", "-i", "--cacert", certificates.path("ca.pem"), url], timeout: .seconds(20))
        #expect(curl.status == 0, "\(curl.stderrText)")
        #expect(curl.stdoutText.hasPrefix("HTTP/2 200"))
        #expect(curl.stdoutText.hasSuffix(numberedText(1...2)))
        process.send(SIGINT)
        #expect(try await process.finish().status == 0)

        let mismatched = try await ChildProcess.run(
            executablePath!,
            ["--port", "0", "--tls-cert", certificates.path("server.pem"), "--tls-key", certificates.path("ca.pem")])
        #expect(mismatched.status == 1)
        #expect(mismatched.stderrText.contains("TLS"), "\(mismatched.stderrText)")
    }
}
