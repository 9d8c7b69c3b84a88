import AsyncHTTPClient
import BenchSupport
import NIOCore
import OpenAPIRuntime

/// async-http-client 1.37.0 streaming the body into swift-openapi-runtime 1.13.4's decoder, the
/// way swift-openapi-async-http-client 1.5.0 hands a response body to generated code: the body's
/// `ByteBuffer`s become an `HTTPBody` of their readable bytes, and the caller decodes it with
/// `asDecodedServerSentEvents()`.
enum AsyncHTTPClientMeasurement {
    /// Streams `url` once and counts the events with data (the decoder also emits one for each
    /// block without data, such as a heartbeat comment, which a WHATWG parser does not dispatch).
    static func measure(url: String, client: HTTPClient) async throws -> Sample {
        let watch = Stopwatch()
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "text/event-stream")
        let response = try await client.execute(request, timeout: .hours(1))
        guard response.status == .ok else {
            throw BenchmarkError("async-http-client got \(response.status) from \(url)")
        }
        let body = HTTPBody(
            response.body.map { $0.readableBytesView },
            length: .unknown,
            iterationBehavior: .single
        )
        var events = 0
        for try await event in body.asDecodedServerSentEvents() where event.data != nil {
            events += 1
        }
        let wall = watch.wallSeconds
        let cpu = watch.cpuSeconds
        return Sample(wallSeconds: wall, cpuSeconds: cpu, bytes: 0, events: events)
    }
}
