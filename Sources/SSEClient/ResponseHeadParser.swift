/// Reads a response head one line at a time, as libcurl's header callback delivers it: status
/// lines (one per response, redirects and `100 Continue` included) and header fields, until the
/// blank line that ends each head. Pure, so it can be fuzzed without a network.
struct ResponseHeadParser: Sendable {
    /// What one line was.
    enum Line: Equatable, Sendable {
        /// A status line such as `HTTP/1.1 200 OK`: a new response begins.
        case status(Int?)
        /// A header field, kept.
        case field
        /// The blank line ending a head.
        case end
        /// Anything else (a malformed line), ignored.
        case ignored
    }

    /// The fields of the response being read, in order.
    private(set) var headers: [HTTPHeader] = []

    /// The longest head kept, in fields; more are ignored so a hostile server cannot grow memory
    /// (libcurl bounds the bytes of a head on its own).
    static let maximumFields = 1000

    /// Reads one line (with or without its CRLF).
    mutating func read(_ bytes: UnsafeRawBufferPointer) -> Line {
        var line = Substring(decoding: bytes, as: UTF8.self)
        while let last = line.unicodeScalars.last, last == "\n" || last == "\r" {
            line = Substring(line.unicodeScalars.dropLast())
        }
        if line.isEmpty { return .end }
        if line.hasPrefix("HTTP/") {
            headers.removeAll()
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            return .status(parts.count >= 2 ? Int(parts[1]) : nil)
        }
        guard let colon = line.firstIndex(of: ":"), headers.count < Self.maximumFields else { return .ignored }
        let name = line[..<colon].trimmingASCIISpaces()
        guard !name.isEmpty else { return .ignored }
        let value = line[line.index(after: colon)...].trimmingASCIISpaces()
        headers.append(HTTPHeader(name, value))
        return .field
    }

    /// Hands over the fields read since the last status line, and forgets them.
    mutating func takeHeaders() -> [HTTPHeader] {
        defer { headers = [] }
        return headers
    }
}
