import NIOHTTP1

/// A whole HTTP request, as the service's server hands it to a handler and its client sends it.
struct HTTPRequestMessage: Sendable {
    /// The method, such as `GET`.
    var method: String
    /// The request target: the path and the query, such as `/streams/3`.
    var target: String
    /// The header fields.
    var headers: HTTPHeaders
    /// The body; empty when there is none.
    var body: [UInt8]

    init(method: String, target: String, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }

    /// The target without its query.
    var path: Substring {
        target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }
}

/// A whole HTTP response.
struct HTTPResponseMessage: Sendable {
    /// The status code.
    var status: Int
    /// The header fields; `Content-Length` and `Connection` are added when it is sent.
    var headers: HTTPHeaders
    /// The body.
    var body: [UInt8]
    /// Runs once the response has been written, for actions that must not delay it (stopping the service).
    var afterSend: (@Sendable () -> Void)?

    init(status: Int, headers: HTTPHeaders = [:], body: [UInt8] = [], afterSend: (@Sendable () -> Void)? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.afterSend = afterSend
    }

    /// A response with a plain-text body, for errors people read in logs.
    static func text(_ status: Int, _ text: String, headers: HTTPHeaders = [:]) -> HTTPResponseMessage {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "text/plain; charset=utf-8")
        return HTTPResponseMessage(status: status, headers: headers, body: Array((text + "\n").utf8))
    }

    /// A response with a JSON body.
    static func json(_ status: Int, _ body: [UInt8]) -> HTTPResponseMessage {
        HTTPResponseMessage(status: status, headers: ["Content-Type": "application/json"], body: body)
    }

    /// The value of the first header field named `name` (compared case-insensitively).
    func header(_ name: String) -> String? {
        headers.first(name: name)
    }

    /// The body as UTF-8 text.
    var bodyText: String {
        String(decoding: body, as: UTF8.self)
    }
}

/// An `http://host:port/path` URL, the only kind the service's client speaks.
struct HTTPURL: Sendable, Hashable, CustomStringConvertible {
    /// The host name or address; an IPv6 address without its brackets.
    var host: String
    /// The port; 80 when the URL has none.
    var port: Int
    /// The path and query, starting with `/`.
    var target: String
    /// The `Host` header value: the authority as written in the URL.
    var authority: String

    /// Parses `text`, or returns `nil` when it is not an absolute `http` URL with a host (user
    /// information and fragments are refused; `https` is not supported).
    init?(_ text: String) {
        let schemeEnd = text.firstRange(of: "://")
        guard let schemeEnd, text[..<schemeEnd.lowerBound].lowercased() == "http" else { return nil }
        let rest = text[schemeEnd.upperBound...]
        guard !rest.contains("#") else { return nil }
        let pathStart = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<pathStart]
        guard !authority.isEmpty, !authority.contains("@") else { return nil }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else {
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
        }
        guard !host.isEmpty, !host.contains(" ") else { return nil }
        var port = 80
        if let portText {
            guard let number = Int(portText), (1...65_535).contains(number), portText.allSatisfy(\.isASCII) else {
                return nil
            }
            port = number
        }
        var target = String(rest[pathStart...])
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        self.host = String(host)
        self.port = port
        self.target = target
        self.authority = String(authority)
    }

    /// This URL with `/component` added to its path (before any query), without doubling a slash.
    func appendingPathComponent(_ component: String) -> HTTPURL {
        var copy = self
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var path = String(parts[0])
        if !path.hasSuffix("/") { path += "/" }
        path += component
        copy.target = parts.count == 2 ? path + "?" + parts[1] : path
        return copy
    }

    /// `http://authority/target`.
    var description: String {
        "http://\(authority)\(target)"
    }
}
