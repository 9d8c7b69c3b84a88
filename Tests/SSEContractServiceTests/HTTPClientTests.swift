import NIOCore
import NIOPosix
import Testing

@testable import SSEContractService

@Suite("The service's HTTP client", .timeLimit(.minutes(1)))
struct HTTPClientTests {
    @Test("an answer that comes before the request is all sent, and a close, is still the answer")
    func earlyAnswer() async throws {
        // The server answers as soon as it has the request head, closes its side, and reads no
        // more: the client's 32 MiB body cannot all be written, so the client sees the answer and
        // the end of input while parts of its request are still to go.
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let port = try #require(listener.channel.localAddress?.port)
        let server = Task {
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    try await connection.executeThenClose { inbound, outbound in
                        var received: [UInt8] = []
                        for try await buffer in inbound {
                            received += buffer.readableBytesView
                            if received.count >= 4, String(decoding: received, as: UTF8.self).contains("\r\n\r\n") {
                                break
                            }
                        }
                        let answer =
                            "HTTP/1.1 413 Content Too Large\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"
                        try await outbound.write(ByteBuffer(string: answer))
                        try await connection.channel.close(mode: .output)
                        // Hold the connection, reading nothing, until the test is done.
                        try? await Task.sleep(for: .seconds(30))
                    }
                    return
                }
            }
        }
        defer { server.cancel() }

        let url = try #require(HTTPURL("http://127.0.0.1:\(port)/callback"))
        let request = HTTPRequestMessage(method: "POST", target: "/", body: Array(repeating: 0x61, count: 32 << 20))
        let response = try await HTTPClient(timeout: .seconds(20)).send(request, to: url)
        #expect(response.status == 413)
        #expect(response.bodyText == "no")
    }
}
