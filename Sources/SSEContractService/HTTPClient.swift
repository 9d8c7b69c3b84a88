import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 client on SwiftNIO: one connection per request, closed after the answer.
/// Enough for callbacks to the harness, which are small POSTs to a local endpoint.
struct HTTPClient: Sendable {
    /// Where connections run.
    let group: any EventLoopGroup
    /// How long one exchange may take, connecting included.
    var timeout: Duration

    init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, timeout: Duration = .seconds(10)) {
        self.group = group
        self.timeout = timeout
    }

    /// Sends `request` to `url` (its target replaces the request's) and returns the whole answer.
    ///
    /// Cancelling the calling task closes the connection at once.
    ///
    /// - Throws: ``ContractServiceError`` when the connection fails, breaks, or takes longer than
    ///   ``timeout``; `CancellationError` when cancelled.
    func send(_ request: HTTPRequestMessage, to url: HTTPURL) async throws -> HTTPResponseMessage {
        let timeout = timeout
        return try await withThrowingTaskGroup(of: HTTPResponseMessage?.self) { group in
            group.addTask { try await exchange(request, url: url) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let response = try await group.next() ?? nil else {
                throw ContractServiceError.timedOut(timeout)
            }
            return response
        }
    }

    private func exchange(_ request: HTTPRequestMessage, url: HTTPURL) async throws -> HTTPResponseMessage {
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(5))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: url.host, port: url.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            try Task.checkCancellation()
            throw ContractServiceError.connectionFailed("cannot connect to \(url.authority): \(error)")
        }

        return try await channel.executeThenClose { inbound, outbound in
            var headers = request.headers
            headers.replaceOrAdd(name: "Host", value: url.authority)
            headers.replaceOrAdd(name: "Content-Length", value: String(request.body.count))
            headers.replaceOrAdd(name: "Connection", value: "close")
            let head = HTTPRequestHead(
                version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: url.target, headers: headers)
            var parts: [HTTPClientRequestPart] = [.head(head)]
            if !request.body.isEmpty {
                parts.append(.body(.byteBuffer(ByteBuffer(bytes: request.body))))
            }
            parts.append(.end(nil))
            // One write for the whole request, and a failed one is not the end: a server may answer
            // and close before it has read the request (NIO then closes the channel at the end of
            // input, and a later write fails), yet its answer is in and is what counts.
            var writeError: (any Error)?
            do {
                try await outbound.write(contentsOf: parts)
            } catch let error as CancellationError {
                throw error
            } catch {
                writeError = error
            }

            var response: HTTPResponseMessage?
            do {
                for try await part in inbound {
                    switch part {
                    case .head(let head) where head.status.code >= 200:
                        response = HTTPResponseMessage(status: Int(head.status.code), headers: head.headers)
                    case .head:
                        // An interim answer (100 Continue): the real one follows.
                        continue
                    case .body(let buffer):
                        response?.body += buffer.readableBytesView
                    case .end:
                        if let response { return response }
                    }
                }
            } catch let error as CancellationError {
                throw error
            } catch {
                throw ContractServiceError.connectionFailed("the answer from \(url.authority) broke off: \(error)")
            }
            if let writeError {
                throw ContractServiceError.connectionFailed(
                    "cannot send the request to \(url.authority): \(writeError)")
            }
            throw ContractServiceError.connectionFailed("\(url.authority) closed the connection before answering")
        }
    }
}
