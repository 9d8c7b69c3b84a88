import Foundation
import NIOHTTP1

/// Pure pieces of the responses, kept apart from the connection code so they are easy to test.
enum HTTPResponseParts {
    /// One response header field.
    struct Field: Equatable, Sendable {
        /// The field name, such as `Retry-After`.
        var name: String
        /// The field value.
        var value: String

        init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The status line and header fields of an HTTP/1.1 response, ending with the blank line.
    static func head(status: Int, headers: [(name: String, value: String)]) -> [UInt8] {
        let reason = HTTPResponseStatus(statusCode: status).reasonPhrase
        var text = "HTTP/1.1 \(status) \(reason)\r\n"
        for (name, value) in headers {
            text += "\(name): \(value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Whether an `Accept-Encoding` value accepts gzip (`gzip`, `x-gzip` or `*`, with a non-zero `q`).
    static func acceptsGzip(_ acceptEncoding: String?) -> Bool {
        guard let acceptEncoding else { return false }
        for item in acceptEncoding.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingSpaces().lowercased() }
            guard let coding = parts.first, ["gzip", "x-gzip", "*"].contains(coding) else { continue }
            let quality = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) }
            if (quality ?? 1) > 0 { return true }
        }
        return false
    }

    /// Whether an `Authorization` value carries the bearer `token` (the scheme is case-insensitive).
    static func hasBearerToken(_ authorization: String?, token: String) -> Bool {
        guard let authorization, let space = authorization.firstIndex(of: " ") else { return false }
        return authorization[..<space].lowercased() == "bearer"
            && authorization[space...].trimmingSpaces() == token
    }

    /// Splits a request target into its path and its query (without the `?`; empty when there is none).
    static func split(_ target: String) -> (path: String, query: String) {
        guard let mark = target.firstIndex(of: "?") else { return (target, "") }
        return (String(target[..<mark]), String(target[target.index(after: mark)...]))
    }

    private struct Echo: Encodable {
        var method: String
        var path: String
        var query: String
        var headers: [String: String]
        var body: String
    }

    /// The data of the `/echo` event: the request as JSON with sorted keys and lower-cased header
    /// names (repeated fields joined with `, `).
    static func echoJSON(_ request: RecordedRequest) -> String {
        var headers: [String: String] = [:]
        for header in request.headers {
            let name = header.name.lowercased()
            headers[name] = headers[name].map { "\($0), \(header.value)" } ?? header.value
        }
        let echo = Echo(
            method: request.method,
            path: request.path,
            query: request.query,
            headers: headers,
            body: request.bodyText
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(echo)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// The `text/plain` body of a status response, such as `503 Service Unavailable`.
    static func statusBody(_ status: Int) -> String {
        "\(status) \(HTTPResponseStatus(statusCode: status).reasonPhrase)\n"
    }

    /// What `GET /` answers.
    static let help = """
        sse-test-server: a Server-Sent Events server that misbehaves on purpose.

        GET  /events?count=5&interval=1000   the numbered stream; any path but these serves scenarios
        GET  /echo                           one event describing the request as JSON
        GET  /subscribe                      the broadcast hub: every message POST /publish sends
        POST /publish?event=TYPE             publish the body as data to every subscriber
        POST /v1/chat/completions            an OpenAI chat completions stream (content=openai-chat)
        POST /v1/messages                    an Anthropic messages stream (content=anthropic)
        POST /v1/responses                   an OpenAI Responses stream (content=responses);
        GET  /v1/responses/ID?starting_after=N   resumes it after sequence number N
        POST /mcp                            an MCP tool call over Streamable HTTP (content=mcp);
                                             GET with Last-Event-ID resumes it

        Query parameters: count interval event size history retry heartbeat dropAfter dropAfterBytes
        end hang status times retryAfter location contentType contentLength writeSize writeDelay gzip
        framing token key raw echo content tokens doneNoSpace processingComments errorAfter closeAfter
        response starting_after. Broken promises (for sse-listen verify): live replay earlyID
        holdEvents holdBytes cacheControl accelBuffering silence silenceEvery unknownID retryText
        streamStatus. See TestServer/README.md.

        """
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}
