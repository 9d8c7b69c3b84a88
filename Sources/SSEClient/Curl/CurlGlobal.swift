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
