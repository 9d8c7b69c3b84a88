import NIOHTTP1
import SSEParser

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The service's endpoints: turns each request into an answer, creating, commanding and deleting
/// streams in the registry.
struct ContractRouter: Sendable {
    let registry: StreamRegistry
    let client: HTTPClient
    let log: @Sendable (String) -> Void
    /// Called once the answer to `DELETE /` has been sent.
    let requestStop: @Sendable () -> Void

    /// The body of a `POST /streams/N` request.
    private struct Command: Decodable {
        struct Listen: Decodable {
            var type: String?
        }

        var command: String
        var listen: Listen?
    }

    /// Answers `request`.
    func handle(_ request: HTTPRequestMessage) async -> HTTPResponseMessage {
        let segments = request.path.split(separator: "/")
        switch (request.method, segments.count) {
        case ("GET", 0):
            return status()
        case ("DELETE", 0):
            log("stop requested")
            return HTTPResponseMessage(status: 204, afterSend: requestStop)
        case ("POST", 0):
            return create(request)
        case (_, 0):
            return .text(405, "\(request.method) is not allowed on /", headers: ["Allow": "GET, POST, DELETE"])
        case (let method, 2) where segments[0] == "streams":
            guard let id = Int(segments[1]), let stream = registry.stream(id) else {
                return .text(404, "no stream at \(request.path)")
            }
            switch method {
            case "POST":
                return command(request, stream: stream)
            case "DELETE":
                return await delete(stream)
            default:
                return .text(405, "\(method) is not allowed on \(request.path)", headers: ["Allow": "POST, DELETE"])
            }
        default:
            return .text(404, "no resource at \(request.path)")
        }
    }

    private func status() -> HTTPResponseMessage {
        struct Status: Encodable {
            var name: String
            var capabilities: [String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = try! encoder.encode(
            Status(name: ContractService.name, capabilities: ContractService.capabilities))
        return .json(200, Array(body))
    }

    private func create(_ request: HTTPRequestMessage) -> HTTPResponseMessage {
        do {
            let parameters = try StreamParameters.decode(request.body)
            // `decode` validated the callback URL.
            let callbackBase = parameters.callbackBase!
            let stream = try registry.add { id in
                StreamInstance(id: id, parameters: parameters, callbackBase: callbackBase, client: client, log: log)
            }
            log(
                "stream \(stream.id) [\(stream.tag)]: \(parameters.method ?? "GET") \(parameters.streamURL), "
                    + "callbacks to \(callbackBase)")
            stream.start()
            return HTTPResponseMessage(status: 201, headers: ["Location": "/streams/\(stream.id)"])
        } catch let error as ContractServiceError where error == .stopping {
            return .text(503, error.description)
        } catch {
            log("refused to create a stream: \(error)")
            return .text(400, "\(error)")
        }
    }

    private func command(_ request: HTTPRequestMessage, stream: StreamInstance) -> HTTPResponseMessage {
        let command: Command
        do {
            command = try JSONDecoder().decode(Command.self, from: Data(request.body))
        } catch {
            return .text(400, "the body is not a command: \(error)")
        }
        switch command.command {
        case "restart":
            log("stream \(stream.id): restart")
            stream.restart()
            return HTTPResponseMessage(status: 204)
        case "listen":
            guard let type = command.listen?.type, !type.isEmpty else {
                return .text(400, "the listen command needs a non-empty listen.type")
            }
            log("stream \(stream.id): listen for '\(type)'")
            stream.listen(to: type)
            return HTTPResponseMessage(status: 204)
        default:
            return .text(400, "unknown command '\(command.command)'; known: restart, listen")
        }
    }

    private func delete(_ stream: StreamInstance) async -> HTTPResponseMessage {
        // Whoever removes it closes it; a concurrent DELETE of the same stream gets 404.
        guard registry.remove(stream.id) != nil else {
            return .text(404, "no stream at /streams/\(stream.id)")
        }
        await stream.close()
        log("stream \(stream.id): closed")
        return HTTPResponseMessage(status: 204)
    }
}
