import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 server on SwiftNIO that hands each whole request to an async handler and
/// writes back its answer; keep-alive connections carry any number of requests, one at a time.
final class HTTPServer: Sendable {
    /// Answers one request.
    typealias Handler = @Sendable (HTTPRequestMessage) async -> HTTPResponseMessage

    /// The largest request body accepted; larger ones get 413 and the connection is closed.
    static let maximumBodySize = 16 << 20

    /// The port the server listens on (the real one when 0 was asked for).
    let port: Int

    private let acceptTask: Task<Void, Never>

    private init(port: Int, acceptTask: Task<Void, Never>) {
        self.port = port
        self.acceptTask = acceptTask
    }

    /// Binds `host:port` and starts serving with `handler`.
    static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        handler: @escaping Handler
    ) async throws -> HTTPServer {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let boundPort = server.channel.localAddress?.port ?? port
        let acceptTask = Task<Void, Never> {
            // Cancelling this task ends the accept loop and, through the discarding group, every
            // connection's loop; `executeThenClose` closes each channel on the way out.
            do {
                try await server.executeThenClose { connections in
                    try await withThrowingDiscardingTaskGroup { group in
                        for try await connection in connections {
                            group.addTask {
                                try? await serve(connection, handler: handler)
                            }
                        }
                    }
                }
            } catch {
                // Cancelled by `shutdown()`, or the listening socket failed: either way, done.
            }
        }
        return HTTPServer(port: boundPort, acceptTask: acceptTask)
    }

    /// Closes the listening socket and every connection, and waits until they are closed.
    func shutdown() async {
        acceptTask.cancel()
        await acceptTask.value
    }

    private static func serve(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>,
        handler: Handler
    ) async throws {
        // An action to run once this connection is closed: `DELETE /` stops the service, which must
        // not happen while its 204 is still queued in the channel's writer, or the client never
        // gets it. `executeThenClose` flushes pending writes before it closes.
        var afterClose: (@Sendable () -> Void)?
        defer { afterClose?() }
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body.removeAll(keepingCapacity: true)
                case .body(let buffer):
                    body += buffer.readableBytesView
                    if body.count > maximumBodySize, let requestHead = head {
                        let response = HTTPResponseMessage.text(413, "request bodies are limited to 16 MiB")
                        try await write(response, for: requestHead, keepAlive: false, to: outbound)
                        return
                    }
                case .end:
                    guard let requestHead = head else { continue }
                    head = nil
                    let request = HTTPRequestMessage(
                        method: requestHead.method.rawValue,
                        target: requestHead.uri,
                        headers: requestHead.headers,
                        body: body
                    )
                    let response = await handler(request)
                    let keepAlive = requestHead.isKeepAlive
                    if let afterSend = response.afterSend {
                        // Answer, then close this connection before acting (see `afterClose`).
                        try await write(response, for: requestHead, keepAlive: false, to: outbound)
                        afterClose = afterSend
                        return
                    }
                    try await write(response, for: requestHead, keepAlive: keepAlive, to: outbound)
                    if !keepAlive { return }
                }
            }
        }
    }

    private static func write(
        _ response: HTTPResponseMessage,
        for request: HTTPRequestHead,
        keepAlive: Bool,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var headers = response.headers
        // RFC 9110: no Content-Length (and no body) in a 204 or 304, nor a body for HEAD.
        let hasBody = response.status != 204 && response.status != 304
        if hasBody {
            headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        }
        if !keepAlive {
            headers.replaceOrAdd(name: "Connection", value: "close")
        }
        let head = HTTPResponseHead(
            version: request.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        try await outbound.write(.head(head))
        if hasBody, request.method != .HEAD, !response.body.isEmpty {
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body))))
        }
        try await outbound.write(.end(nil))
    }
}
