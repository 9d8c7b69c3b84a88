import NIOCore
import NIOHTTP1
import NIOHTTP2

/// What a connection turned out to speak.
enum NegotiatedProtocol: Sendable {
    /// HTTP/1.1: the connection carries one request.
    case http1(RequestStream)
    /// HTTP/2: each stream, as it opens, carries one request.
    case http2(NIOHTTP2Handler.AsyncStreamMultiplexer<RequestStream>)

    /// Configures `channel` for HTTP/1.1 or HTTP/2 (after the handlers already there).
    static func configure(_ channel: any Channel, connection: Int, http2: Bool) throws -> NegotiatedProtocol {
        if http2 {
            return .http2(try HTTP2Bridge.configure(channel, connection: connection))
        }
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes))
        )
        let wrapped = try NIOAsyncChannel(
            wrappingChannelSynchronously: channel,
            configuration: .init(inboundType: HTTPServerRequestPart.self, outboundType: Never.self)
        )
        return .http1(RequestStream(connection: connection, http2StreamID: nil, channel: wrapped))
    }
}

/// Tells a cleartext connection's protocol from its first bytes: HTTP/2 with prior knowledge
/// starts with the connection preface (`PRI * HTTP/2.0`…), anything else is HTTP/1.1. Then it
/// configures the pipeline behind itself, passes the bytes on and leaves.
///
/// So every server speaks both on one port, as `h2c` servers commonly do, and a client picks
/// with `--http2-prior-knowledge`.
final class ProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private let connection: Int
    private let negotiated: EventLoopPromise<NegotiatedProtocol>
    private var received = ByteBuffer()
    private var decided = false

    init(connection: Int, negotiated: EventLoopPromise<NegotiatedProtocol>) {
        self.connection = connection
        self.negotiated = negotiated
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        received.writeBuffer(&bytes)
        let prefix = Array(received.readableBytesView.prefix(Self.preface.count))
        guard prefix.count == Self.preface.count || !Self.preface.starts(with: prefix) else {
            return  // so far a prefix of the preface: wait for more
        }
        decided = true
        do {
            let result = try NegotiatedProtocol.configure(
                context.channel, connection: connection, http2: prefix == Self.preface)
            negotiated.succeed(result)
            context.fireChannelRead(wrapInboundOut(received))
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } catch {
            negotiated.fail(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // A channel torn down without passing channelInactive through here (one closed before
        // it became active) must not leak its promise: NIO traps on that in debug builds.
        fail(ChannelError.ioOnClosedChannel)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    private func fail(_ error: any Error) {
        guard !decided else { return }
        decided = true
        negotiated.fail(error)
    }
}
