import Foundation
import SSETestServer
import SSETestSupport
import Testing

@testable import SSEContractService

@Suite("The service's endpoints", .timeLimit(.minutes(1)))
struct EndpointTests {
    @Test("GET / names the project and lists the capabilities")
    func status() async throws {
        try await Fixture.run { fixture in
            let response = try await fixture.call("GET", "/")
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
            #expect(object["name"] as? String == "swift-sse")
            let capabilities = try #require(object["capabilities"] as? [String])
            #expect(
                Set(capabilities) == [
                    "comments", "headers", "last-event-id", "post", "report", "read-timeout", "restart", "bom",
                    "event-type-listeners", "server-directed-shutdown-request", "204", "empty-or-missing-location",
                    "payload-size-stress-testable",
                ])
            #expect(capabilities.count == Set(capabilities).count)
        }
    }

    @Test("POST / answers 201 with the new instance's Location, numbered from 1")
    func create() async throws {
        try await Fixture.run { fixture in
            let url = fixture.streams.url(for: .hangAfterHeaders)
            #expect(try await fixture.createStream(url, name: "a") == "/streams/1")
            #expect(try await fixture.createStream(url, name: "b", extra: ["initialDelayMs": NSNull()]) == "/streams/2")
            _ = try await fixture.streams.waitForRequests(count: 2)
        }
    }

    @Test(
        "POST / answers 400 for invalid JSON or parameters",
        arguments: [
            "not json",
            "[]",
            #"{"callbackUrl": "http://127.0.0.1:1/cb"}"#,
            #"{"streamUrl": "http://127.0.0.1:1/s"}"#,
            #"{"streamUrl": "ftp://x/s", "callbackUrl": "http://127.0.0.1:1/cb"}"#,
            #"{"streamUrl": "http://127.0.0.1:1/s", "callbackUrl": "https://127.0.0.1:1/cb"}"#,
            #"{"streamUrl": "http://127.0.0.1:1/s", "callbackUrl": "/cb"}"#,
            #"{"streamUrl": "http://127.0.0.1:1/s", "callbackUrl": "http://127.0.0.1:1/cb", "initialDelayMs": "x"}"#,
            #"{"streamUrl": "http://127.0.0.1:1/s", "callbackUrl": "http://127.0.0.1:1/cb", "initialDelayMs": -1}"#,
            #"{"streamUrl": "http://127.0.0.1:1/s", "callbackUrl": "http://127.0.0.1:1/cb", "readTimeoutMs": 0}"#,
            #"{"streamUrl": "http://127.0.0.1:1/s", "callbackUrl": "http://127.0.0.1:1/cb", "method": "GE T"}"#,
            #"{"streamUrl": "http://127.0.0.1:1/s", "callbackUrl": "http://127.0.0.1:1/cb", "headers": {"a b": "c"}}"#,
            #"{"streamUrl": "http://127.0.0.1:1/s", "callbackUrl": "http://127.0.0.1:1/cb", "headers": {"a": "b\r\nc: d"}}"#,
            #"{"streamUrl": "http://127.0.0.1:1/s", "callbackUrl": "http://127.0.0.1:1/cb", "headers": ["a"]}"#,
        ])
    func createRejects(body: String) async throws {
        try await Fixture.run { fixture in
            let response = try await fixture.call("POST", "/", body: body)
            #expect(response.status == 400, "\(body) -> \(response.status) \(response.bodyText)")
            #expect(response.header("Location") == nil)
        }
    }

    @Test("commands: 204 for restart and listen, 400 for unknown or malformed ones, 404 for unknown instances")
    func commands() async throws {
        try await Fixture.run { fixture in
            let location = try await fixture.createStream(fixture.streams.url(for: .hangAfterHeaders), name: "a")
            #expect(try await fixture.call("POST", location, body: #"{"command": "restart"}"#).status == 204)
            #expect(
                try await fixture.call("POST", location, body: #"{"command": "listen", "listen": {"type": "x"}}"#)
                    .status == 204)
            for body in [
                #"{"command": "dance"}"#, #"{"command": "listen"}"#, #"{"command": "listen", "listen": {}}"#,
                #"{"command": "listen", "listen": {"type": ""}}"#, "{}", "nonsense",
            ] {
                let response = try await fixture.call("POST", location, body: body)
                #expect(response.status == 400, "\(body) -> \(response.status)")
            }
            for path in ["/streams/99", "/streams/0", "/streams/abc", "/streams/1/x", "/nowhere"] {
                let response = try await fixture.call("POST", path, body: #"{"command": "restart"}"#)
                #expect(response.status == 404, "\(path) -> \(response.status)")
            }
            #expect(try await fixture.call("PUT", location).status == 405)
            #expect(try await fixture.call("PATCH", "/").status == 405)
        }
    }

    @Test("DELETE /streams/N closes the client, then answers 204; after that the instance is unknown")
    func deleteStream() async throws {
        try await Fixture.run { fixture in
            let location = try await fixture.createStream(fixture.streams.url(path: "/subscribe"), name: "a")
            try await fixture.streams.waitForSubscribers(count: 1)
            let instance = try fixture.instance(location)

            #expect(try await fixture.call("DELETE", location).status == 204)
            // The answer came after the close: the consuming task has ended and the transfer is gone.
            try await withTimeout("the stream to finish") { await instance.waitUntilFinished() }
            #expect(instance.source.metrics.connections == 1)

            #expect(try await fixture.call("DELETE", location).status == 404)
            #expect(try await fixture.call("POST", location, body: #"{"command": "restart"}"#).status == 404)
            #expect(try await fixture.call("DELETE", "/streams/42").status == 404)
            #expect(fixture.service.stream(1) == nil)
        }
    }

    @Test("DELETE /streams/N does not wait for a callback the harness never answers")
    func deleteWithCallbackInFlight() async throws {
        try await Fixture.run { fixture in
            let url = fixture.streams.url(for: Scenario.raw("data: a\n\ndata: b\n\n").ending(with: .hang))
            let location = try await fixture.createStream(url, name: "silent")
            _ = try await fixture.receiver.waitForCallbacks("silent", count: 1)

            // Bounded below the service's 10 s callback timeout, which a DELETE that waited for the
            // callback would have to run out; far above what a loaded machine needs.
            let response = try await withTimeout("DELETE to answer", timeout: .seconds(8)) {
                try await fixture.call("DELETE", location)
            }
            #expect(response.status == 204)
            // The second event was never posted: the first callback still had no answer.
            #expect(fixture.receiver.callbacks("silent").count == 1)
        }
    }

    @Test("DELETE / answers 204 and stops the service, closing its streams")
    func deleteRoot() async throws {
        try await TestServer.withRunning { streams in
            let service = try await ContractService.start(port: 0)
            let receiver = try await CallbackReceiver.start()
            let fixture = Fixture(service: service, receiver: receiver, streams: streams)
            let location = try await fixture.createStream(streams.url(path: "/subscribe"), name: "a")
            let instance = try fixture.instance(location)
            try await streams.waitForSubscribers(count: 1)

            #expect(try await fixture.call("DELETE", "/").status == 204)
            try await withTimeout("the service to stop") { await service.waitUntilStopped() }
            try await withTimeout("the stream to finish") { await instance.waitUntilFinished() }
            await #expect(throws: ContractServiceError.self) { _ = try await fixture.call("GET", "/") }
            // Stopping again returns at once.
            try await withTimeout("a second shutdown") { await service.shutdown() }
            await receiver.shutdown()
        }
    }
}
