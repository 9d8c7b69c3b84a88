import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTP2

/// The pieces that serve the scenarios over HTTP/2: the scenarios write HTTP/1.1 bytes (every
/// scenario controls its bytes on the wire), and each HTTP/2 stream translates them.
///
/// A stream's pipeline, from the connection to the scenario:
/// ``HTTP2FaultHandler`` (RST_STREAM, GOAWAY, reset), NIO's `HTTP2FramePayloadToHTTP1ServerCodec`
/// (frames to request parts and response parts to frames, dropping the connection-specific header
/// fields), then ``HTTP1BytesToResponseParts``.
enum HTTP2Bridge {
    /// What the server advertises: room for a load test's streams on one connection (NIO's
    /// default is 100, and libcurl opens another connection beyond it).
    static let settings = nioDefaultSettings.map { setting in
        setting.parameter == .maxConcurrentStreams
            ? HTTP2Setting(parameter: .maxConcurrentStreams, value: 10_000) : setting
    }

    /// Configures `channel` (a TCP connection that has sent the HTTP/2 preface, or negotiated `h2`)
    /// to serve HTTP/2; each stream comes out of the returned multiplexer as a ``RequestStream``.
    static func configure(_ channel: any Channel, connection: Int) throws
        -> NIOHTTP2Handler.AsyncStreamMultiplexer<RequestStream>
    {
        var configuration = NIOHTTP2Handler.Configuration()
        configuration.connection.initialSettings = settings
        return try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(
            mode: .server,
            configuration: configuration
        ) { stream in
            stream.eventLoop.makeCompletedFuture {
                let id = try stream.syncOptions?.getOption(HTTP2StreamChannelOptions.streamID)
                try stream.pipeline.syncOperations.addHandlers([
                    HTTP2FaultHandler(),
                    HTTP2FramePayloadToHTTP1ServerCodec(),
                    HTTP1BytesToResponseParts(),
                ])
                return RequestStream(
                    connection: connection,
                    http2StreamID: id.map { Int($0) },
                    channel: try NIOAsyncChannel(
                        wrappingChannelSynchronously: stream,
                        configuration: .init(inboundType: HTTPServerRequestPart.self, outboundType: Never.self)
                    )
                )
            }
        }
    }
}

/// A fault on an HTTP/2 stream, sent down its pipeline as a user outbound event.
enum HTTP2Fault: Sendable {
    /// `RST_STREAM` of this stream (`CANCEL`); the connection and its other streams carry on.
    case resetStream
    /// `GOAWAY` on the connection (`NO_ERROR`, as a server that shuts down), then FIN: every
    /// stream on it ends.
    case goAway
    /// A TCP reset of the whole connection (`SO_LINGER` 0): every stream on it ends.
    case resetConnection

    /// The fault that ends a stream as `ending` ends an HTTP/1.1 connection, or `nil` when the
    /// stream's close does (``Scenario/Ending/finish`` and ``Scenario/Ending/close`` both end the
    /// stream with `END_STREAM`: HTTP/2 has no unfinished close).
    init?(_ ending: Scenario.Ending) {
        switch ending {
        case .finish, .close, .hang: return nil
        case .reset: self = .resetStream
        case .goAway: self = .goAway
        case .resetConnection: self = .resetConnection
        }
    }
}

/// The first handler of a stream: carries out ``HTTP2Fault``s, below the HTTP/1 codec, which
/// knows nothing of them.
final class HTTP2FaultHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let fault = event as? HTTP2Fault else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch fault {
        case .resetStream:
            context.writeAndFlush(wrapOutboundOut(.rstStream(.cancel)), promise: promise)
        case .goAway:
            guard let connection = context.channel.parent else { return promise?.succeed() ?? () }
            let goAway = HTTP2Frame(
                streamID: .rootStream,
                payload: .goAway(lastStreamID: .maxID, errorCode: .noError, opaqueData: nil)
            )
            // Then FIN: a full close with the client's bytes unread would make the kernel send RST.
            // The connection closes once the client has closed its side too.
            connection.writeAndFlush(goAway).whenComplete { _ in
                connection.close(mode: .output, promise: promise)
            }
        case .resetConnection:
            guard let connection = context.channel.parent else { return promise?.succeed() ?? () }
            // SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            let lingering =
                (connection as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
                ?? connection.eventLoop.makeSucceededVoidFuture()
            lingering.whenComplete { _ in connection.close(promise: promise) }
        }
    }
}

/// Turns the HTTP/1.1 bytes a scenario writes into response parts: the status line and header
/// fields into the head, everything after them into body parts, and the close into the end of the
/// stream.
///
/// The router gives HTTP/2 requests close-delimited bodies (no chunks), so the bytes after the
/// head are exactly the body. A head that never completes (endless headers) is never sent: the
/// stream hangs, as HTTP/2 cannot stream one header field at a time.
final class HTTP1BytesToResponseParts: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case head(ByteBuffer)
        case body
        case ended
    }

    private var state = State.head(ByteBuffer())

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var bytes = unwrapOutboundIn(data)
        switch state {
        case .head(var pending):
            pending.writeBuffer(&bytes)
            guard let (head, body) = Self.split(pending) else {
                state = .head(pending)
                promise?.succeed()
                return
            }
            state = .body
            if body.readableBytes == 0 {
                context.write(wrapOutboundOut(.head(head)), promise: promise)
            } else {
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: promise)
            }
        case .body where bytes.readableBytes > 0:
            context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: promise)
        case .body, .ended:
            // An empty write only waits for the ones before it (HTTP/2 has no empty body parts
            // to send); nothing goes after the end.
            promise?.succeed()
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if case .body = state {
            state = .ended
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.close(mode: mode, promise: promise)
    }

    /// The head parsed from the bytes before the first blank line, and the bytes after it; `nil`
    /// until the blank line has arrived.
    static func split(_ bytes: ByteBuffer) -> (HTTPResponseHead, ByteBuffer)? {
        let all = Array(bytes.readableBytesView)
        guard let end = all.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let text = String(decoding: all[..<end.lowerBound], as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        let statusLine = lines.popFirst() ?? ""
        let code = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 500
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingSpaces())
        }
        let head = HTTPResponseHead(version: .http2, status: HTTPResponseStatus(statusCode: code), headers: headers)
        return (head, ByteBuffer(bytes: all[end.upperBound...]))
    }
}

/// One request's channel: an HTTP/1.1 connection (which carries one request) or an HTTP/2 stream.
struct RequestStream: Sendable {
    /// The number of the TCP connection it came on (1-based, in accept order).
    let connection: Int
    /// The HTTP/2 stream's ID; `nil` over HTTP/1.1.
    let http2StreamID: Int?
    let channel: NIOAsyncChannel<HTTPServerRequestPart, Never>
}
