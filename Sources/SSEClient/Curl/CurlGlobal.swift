internal import CCurl
internal import CCurlShims

/// `curl_global_init` must run once before any other call, and is not thread-safe itself.
enum CurlGlobal {
    private static let initialized: Bool = {
        curl_global_init(sse_curl_global_all) == CURLE_OK
    }()

    static func initializeOnce() {
        _ = initialized
    }

    /// The libcurl version in use, for the default `User-Agent`.
    static var version: String {
        String(cString: sse_curl_version_string())
    }
}

/// What the system libcurl was built with, from its run-time feature bits.
enum CurlFeatures {
    static func supports(_ version: EventSource.Transport.HTTPVersion) -> Bool {
        switch version {
        case .automatic, .http1_1: true
        case .http2, .http2PriorKnowledge: sse_curl_has_http2() != 0
        case .http3: sse_curl_has_http3() != 0
        }
    }

    static var supportsUnixSockets: Bool { sse_curl_has_unix_sockets() != 0 }

    /// Whether HTTP/2 with prior knowledge breaks when a second transfer reuses its connection:
    /// libcurl before 8.0.0 stacked a second HTTP/2 layer onto the reused connection, and the
    /// transfer failed with "Error in the HTTP2 framing layer" (curl issue 10634, fixed by
    /// curl PR 10643). Debian 12's 7.88.1 has the bug.
    static var breaksPriorKnowledgeReuse: Bool { sse_curl_version_number() < 0x08_00_00 }
}
