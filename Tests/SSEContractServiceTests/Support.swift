import Foundation
import SSETestServer
import SSETestSupport
import Synchronization
import Testing

@testable import SSEContractService

/// A callback the service posted, as the harness's receiver decodes it.
struct ReceivedCallback: Sendable, Hashable, Decodable {
    struct Event: Sendable, Hashable, Decodable {
        var type: String
        var data: String
        var id: String
    }

    /// The callback number, the last component of the path.
    var number = 0
    /// The path it was posted to.
    var path = ""
    var kind: String
    var event: Event?
    var comment: String?
    var error: String?

    enum CodingKeys: String, CodingKey {
        case kind, event, comment, error
    }

    static func event(_ data: String, type: String = "message", id: String = "") -> Event {
        Event(type: type, data: data, id: id)
    }
}

/// The harness's side of callbacks: an HTTP server (the service's own) that records every POST,
/// in the order received, and answers 202 as the harness does; callbacks under `/callbacks/silent/`
/// are recorded but never answered. It also serves two broken redirects, for the
/// `empty-or-missing-location` tests.
final class CallbackReceiver: Sendable {
    private final class Recorder: Sendable {
        let received = Mutex<[ReceivedCallback]>([])

        func record(_ request: HTTPRequestMessage) -> HTTPResponseMessage {
            guard var callback = try? JSONDecoder().decode(ReceivedCallback.self, from: Data(request.body)),
                let number = request.path.split(separator: "/").last.flatMap({ Int($0) })
            else {
                return HTTPResponseMessage(status: 400)
            }
            callback.number = number
            callback.path = String(request.path)
            received.withLock { $0.append(callback) }
            return HTTPResponseMessage(status: 202)
        }
    }

    private let recorder: Recorder
    private let server: HTTPServer

    private init(recorder: Recorder, server: HTTPServer) {
        self.recorder = recorder
        self.server = server
    }

    static func start() async throws -> CallbackReceiver {
        let recorder = Recorder()
        let server = try await HTTPServer.start { request in
            switch (request.method, request.path) {
            case ("GET", "/redirect-without-location"):
                return HTTPResponseMessage(status: 301)
            case ("GET", "/redirect-to-empty-location"):
                return HTTPResponseMessage(status: 307, headers: ["Location": ""])
            case ("POST", let path) where path.hasPrefix("/callbacks/silent/"):
                // Records the callback, then never answers (until the receiver shuts down).
                _ = recorder.record(request)
                try? await Task.sleep(for: .seconds(60))
                return HTTPResponseMessage(status: 202)
            case ("POST", _):
                return recorder.record(request)
            default:
                return HTTPResponseMessage(status: 404)
            }
        }
        return CallbackReceiver(recorder: recorder, server: server)
    }

    /// The callback base URL for the stream named `name`.
    func url(_ name: String) -> String {
        "http://127.0.0.1:\(server.port)/callbacks/\(name)"
    }

    /// A URL on this server (for the broken redirects).
    func url(path: String) -> String {
        "http://127.0.0.1:\(server.port)\(path)"
    }

    /// The callbacks received so far for the stream named `name`, in arrival order.
    func callbacks(_ name: String) -> [ReceivedCallback] {
        recorder.received.withLock { $0.filter { $0.path.hasPrefix("/callbacks/\(name)/") } }
    }

    /// Waits until at least `count` callbacks arrived for `name`; returns them in arrival order.
    func waitForCallbacks(_ name: String, count: Int, timeout: Duration = .seconds(30)) async throws
        -> [ReceivedCallback]
    {
        try await waitUntil("\(count) callbacks for \(name); got \(callbacks(name))", timeout: timeout) {
            callbacks(name).count >= count
        }
        return callbacks(name)
    }

    func shutdown() async {
        await server.shutdown()
    }
}

/// A running service, a callback receiver and a TestServer for the streams.
struct Fixture: Sendable {
    let service: ContractService
    let receiver: CallbackReceiver
    let streams: TestServer
    let client = HTTPClient(timeout: .seconds(10))

    static func run(_ body: @Sendable (Fixture) async throws -> Void) async throws {
        try await TestServer.withRunning { streams in
            let service = try await ContractService.start(port: 0)
            let receiver = try await CallbackReceiver.start()
            let fixture = Fixture(service: service, receiver: receiver, streams: streams)
            do {
                try await body(fixture)
            } catch {
                await service.shutdown()
                await receiver.shutdown()
                throw error
            }
            await service.shutdown()
            await receiver.shutdown()
        }
    }

    /// Sends a request to the service.
    func call(_ method: String, _ path: String, body: String? = nil) async throws -> HTTPResponseMessage {
        let url = try #require(HTTPURL(service.baseURL + path))
        var request = HTTPRequestMessage(method: method, target: url.target)
        if let body {
            request.headers = ["Content-Type": "application/json"]
            request.body = Array(body.utf8)
        }
        return try await client.send(request, to: url)
    }

    /// Creates a stream reading `streamURL` whose callbacks go to the receiver under `name`, with
    /// `extra` JSON members; returns its path (`/streams/N`).
    func createStream(_ streamURL: String, name: String, extra: [String: Any] = [:]) async throws -> String {
        var parameters: [String: Any] = ["tag": name, "streamUrl": streamURL, "callbackUrl": receiver.url(name)]
        parameters.merge(extra) { _, new in new }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: parameters), as: UTF8.self)
        let response = try await call("POST", "/", body: json)
        try #require(response.status == 201, "create answered \(response.status): \(response.bodyText)")
        return try #require(response.header("Location"))
    }

    /// The stream instance behind `location`.
    func instance(_ location: String) throws -> StreamInstance {
        let id = try #require(location.split(separator: "/").last.flatMap { Int($0) })
        return try #require(service.stream(id))
    }
}
