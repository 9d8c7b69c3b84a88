import NIOCore
import NIOPosix
import Synchronization

/// How a raw exchange ended, seen from the client.
public enum ConnectionEnding: Sendable, Equatable, CustomStringConvertible {
    /// The server closed with FIN: `read` returned 0.
    case fin
    /// The server reset the connection: `read` failed with `ECONNRESET`.
    case reset
    /// The connection was still open when the client stopped reading (the stop condition held).
    case stoppedByClient
    /// The connection was still open, with nothing more arriving, when the wait ran out.
    case stillOpen

    /// `FIN`, `RST`, `stopped by client` or `still open`.
    public var description: String {
        switch self {
        case .fin: "FIN"
        case .reset: "RST"
        case .stoppedByClient: "stopped by client"
        case .stillOpen: "still open"
        }
    }
}

/// What a raw exchange received.
public struct RawResponse: Sendable {
    /// Every byte received, head and body.
    public var bytes: [UInt8]
    /// How many reads delivered them.
    public var reads: Int
    /// How the connection ended.
    public var ending: ConnectionEnding

    private var headEnd: Int? {
        let marker: [UInt8] = Array("\r\n\r\n".utf8)
        guard bytes.count >= 4 else { return nil }
        return find(marker, in: bytes, from: 0).map { $0 + 4 }
    }

    /// The status line and header fields, or `nil` when no complete head arrived.
    public var head: String? {
        headEnd.map { String(decoding: bytes[..<$0], as: UTF8.self) }
    }

    /// The status code, or `nil` when no complete head arrived.
    public var status: Int? {
        guard let head else { return nil }
        let parts = head.split(separator: " ", maxSplits: 2)
        return parts.count >= 2 ? Int(parts[1]) : nil
    }

    /// The value of the header field `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        guard let head else { return nil }
        for line in head.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == name.lowercased() {
                return line[line.index(after: colon)...].trimmingCharacters(in: " ")
            }
        }
        return nil
    }

    /// The body bytes as they came on the wire (still chunked, when chunked).
    public var wireBody: [UInt8] {
        headEnd.map { Array(bytes[$0...]) } ?? []
    }

    /// The body with chunked framing removed (when the response is chunked), and whether the last
    /// chunk arrived.
    public var body: (bytes: [UInt8], complete: Bool) {
        guard header("Transfer-Encoding") == "chunked" else { return (wireBody, false) }
        return dechunk(wireBody)
    }

    /// The dechunked body as UTF-8 text.
    public var text: String {
        String(decoding: body.bytes, as: UTF8.self)
    }
}

/// Splits a chunked body; stops at the first incomplete chunk.
public func dechunk(_ wire: [UInt8]) -> (bytes: [UInt8], complete: Bool) {
    var output: [UInt8] = []
    var index = 0
    while true {
        guard let lineEnd = find([13, 10], in: wire, from: index),
            let size = Int(String(decoding: wire[index..<lineEnd], as: UTF8.self), radix: 16)
        else { return (output, false) }
        let start = lineEnd + 2
        if size == 0 {
            return (output, wire.count >= start + 2 && wire[start] == 13 && wire[start + 1] == 10)
        }
        let end = min(start + size, wire.count)
        output += wire[start..<end]
        guard wire.count >= end + 2 else { return (output, false) }
        index = end + 2
    }
}

private func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
    guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
    return (start...(haystack.count - needle.count)).first { index in
        haystack[index..<index + needle.count].elementsEqual(needle)
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in character: Character) -> String {
        String(drop { $0 == character }.reversed().drop { $0 == character }.reversed())
    }
}

/// A plain HTTP/1.1 client over NIO's `ClientBootstrap`: it sends bytes and records exactly what comes
/// back and how the connection ends. No HTTP parsing on the way in, so nothing is hidden.
public enum RawHTTPClient {
    /// Connects to `port`, sends `request`, and reads until the server closes, `stop` holds for the
    /// bytes so far, or nothing has ended the exchange within `timeout`.
    ///
    /// The timeout (30 seconds by default) bounds a hang; a test waits for what it expects with
    /// `stop`, or for the server to close, never for the timeout to run out.
    public static func exchange(
        port: Int,
        _ request: String,
        timeout: Duration = .seconds(30),
        stop: @escaping @Sendable ([UInt8]) -> Bool = { _ in false }
    ) async throws -> RawResponse {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        // The deadline closes the channel from the event loop, which ends the read loop below.
        let timedOut = Atomic(false)
        let deadline = channel.channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) { [channel] in
            timedOut.store(true, ordering: .sequentiallyConsistent)
            channel.channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        var bytes: [UInt8] = []
        var reads = 0
        let ending = try await channel.executeThenClose { inbound, outbound -> ConnectionEnding in
            try await outbound.write(ByteBuffer(string: request))
            do {
                for try await var buffer in inbound {
                    bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
                    reads += 1
                    if stop(bytes) { return .stoppedByClient }
                }
            } catch let error as IOError where error.errnoCode == ECONNRESET {
                return .reset
            } catch  where timedOut.load(ordering: .sequentiallyConsistent) {
                return .stillOpen
            }
            return timedOut.load(ordering: .sequentiallyConsistent) ? .stillOpen : .fin
        }
        return RawResponse(bytes: bytes, reads: reads, ending: ending)
    }
}

extension String {
    /// The text of a `GET` request for `target`, with the extra header lines.
    public static func get(_ target: String, headers: [String] = []) -> String {
        request("GET", target, headers: headers)
    }

    /// The text of a request with an optional body (sent with `Content-Length`).
    public static func request(_ method: String, _ target: String, headers: [String] = [], body: String? = nil)
        -> String
    {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for header in headers { text += "\(header)\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n"
        return text + (body ?? "")
    }
}

extension Array where Element == UInt8 {
    /// Whether the bytes contain `text` as UTF-8.
    public func contains(_ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard count >= needle.count else { return false }
        return find(needle, in: self, from: 0) != nil
    }
}
