/// A request the ``TestServer`` received, recorded once its body has arrived.
public struct RecordedRequest: Sendable, Hashable {
    /// One header field, as the client sent it.
    public struct Header: Sendable, Hashable {
        /// The field name, with the client's spelling.
        public var name: String
        /// The field value.
        public var value: String

        /// Creates a header field.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The request method, such as `GET`.
    public var method: String

    /// The path, without the query, such as `/events`.
    public var path: String

    /// The query string as sent (still percent-encoded), without the `?`; empty when there was none.
    public var query: String

    /// The header fields in the order the client sent them.
    public var headers: [Header]

    /// The request body; empty when there was none.
    public var body: [UInt8]

    /// The number of the connection the request came on: 1 for the server's first connection, and so on.
    public var connection: Int

    /// When the server had read the whole request.
    public var receivedAt: ContinuousClock.Instant

    /// The protocol it came over: `HTTP/1.1`, `HTTP/1.0` or `HTTP/2`.
    public var httpVersion: String

    /// Its HTTP/2 stream's ID; `nil` over HTTP/1. Requests on one HTTP/2 connection share its
    /// ``connection`` number.
    public var http2StreamID: Int?

    /// Creates a recorded request (the server does this; tests may too, to compare).
    public init(
        method: String,
        path: String,
        query: String,
        headers: [Header],
        body: [UInt8],
        connection: Int,
        receivedAt: ContinuousClock.Instant,
        httpVersion: String = "HTTP/1.1",
        http2StreamID: Int? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.connection = connection
        self.receivedAt = receivedAt
        self.httpVersion = httpVersion
        self.http2StreamID = http2StreamID
    }

    /// The values of the header fields called `name` (compared case-insensitively) joined with `, `,
    /// or `nil` when there is none.
    public func header(_ name: String) -> String? {
        let values = headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    /// The decoded value of the first query parameter called `name`, or `nil` when there is none.
    public func queryValue(_ name: String) -> String? {
        parseQuery(query).first { $0.name == name }?.value
    }

    /// The body decoded as UTF-8, with invalid bytes replaced.
    public var bodyText: String {
        String(decoding: body, as: UTF8.self)
    }

    /// The request target: the path, and `?` and the query when there is one.
    public var target: String {
        query.isEmpty ? path : "\(path)?\(query)"
    }
}

extension RecordedRequest: CustomStringConvertible {
    /// A one-line summary for logs, such as `#3 GET /events?count=5 Last-Event-ID: 2`, or
    /// `#3 stream 5 GET /events` over HTTP/2.
    public var description: String {
        var text = "#\(connection)\(http2StreamID.map { " stream \($0)" } ?? "") \(method) \(target)"
        for name in ["Last-Event-ID", "Authorization", "Accept-Encoding"] {
            if let value = header(name) { text += " \(name): \(value)" }
        }
        if !body.isEmpty { text += " (\(body.count) body bytes)" }
        return text
    }
}
