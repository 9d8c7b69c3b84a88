/// The clients measured, in the order of the report.
enum Client: String, CaseIterable, Sendable {
    /// `shared/bench/sink.c` reading 100 KiB at a time (the buffer the curl tool uses): a raw TCP
    /// reader, the socket-level limit under any HTTP client.
    case sink
    /// `shared/bench/sink.c` reading 16 KiB at a time: libcurl's default buffer, which the library
    /// keeps.
    case sink16K = "sink-16k"
    /// (a) `curl -sN URL -o /dev/null`: the raw libcurl transport limit.
    case curl
    /// (b) `EventSource` consumed with `for try await` and a trivial body.
    case library
    /// (c) `sse-listen --format data --no-reconnect URL > /dev/null`.
    case sseListen = "sse-listen"
    /// (d) async-http-client 1.37.0 streaming the body into swift-openapi-runtime 1.13.4's
    /// `asDecodedServerSentEvents()`.
    case asyncHTTPClient = "ahc"

    /// The row heading of the report.
    var label: String {
        switch self {
        case .sink: "raw socket, 100 KiB reads (sink.c)"
        case .sink16K: "raw socket, 16 KiB reads (sink.c)"
        case .curl: "(a) curl -sN"
        case .library: "(b) EventSource, for try await"
        case .sseListen: "(c) sse-listen --format data"
        case .asyncHTTPClient: "(d) async-http-client + openapi-runtime"
        }
    }
}

/// One measured transfer.
struct Sample: Sendable {
    /// Wall seconds.
    var wallSeconds: Double
    /// CPU seconds, user plus system, of the process doing the work.
    var cpuSeconds: Double
    /// Body bytes received.
    var bytes: Int
    /// Events received, when the client counts them.
    var events: Int?
    /// Times the library paused the transfer because the consumer was 1,024 events behind.
    var pauses: Int?
}
