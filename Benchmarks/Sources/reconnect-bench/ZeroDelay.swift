import BenchSupport
import SSEClient

/// One reconnect with zero delay, split into its parts (milliseconds).
struct ReconnectSample {
    /// Server drop to consumer receipt of the first event of the new connection.
    var total: Double
    /// Server drop to the server accepting the new connection: detection, the reconnect decision,
    /// the new transfer and the TCP handshake.
    var dropToAccept: Double
    /// Accept to the server writing the first event: the request reaching the server.
    var acceptToSend: Double
    /// The server's write to the consumer's loop body.
    var delivery: Double
}

enum ZeroDelay {
    /// The policy: no delay, no jitter, and no flood guard (`minimumRepeatDelay` would otherwise
    /// make every attempt from the second on wait at least 100 ms, doubling).
    static let policy = ReconnectPolicy(initialDelay: .zero, jitter: 0, minimumRepeatDelay: .zero)

    /// Consumes a source whose connections the server drops after two events, until `drops`
    /// reconnects have been measured.
    ///
    /// Gives up after `timeout` seconds (the source is closed and what was measured is returned),
    /// so a reconnect that never happens ends the benchmark instead of hanging it.
    static func measure(
        server: LocalServer, drop: String, client: Int, drops: Int, timeout: Double
    ) async throws -> [ReconnectSample] {
        let url = server.url("/?interval_us=5000&drop_after=2&drop=\(drop)&client=\(client)&pad=8")
        let source = EventSource(url: url, configuration: .init(reconnect: policy))
        let watchdog = Task {
            try await Task.sleep(for: .seconds(timeout))
            source.close()
        }
        defer { watchdog.cancel() }
        var samples: [ReconnectSample] = []
        for try await event in source.events {
            let now = Clock.nanoseconds()
            guard let fields = TickerEvent(event.data) else {
                throw BenchmarkError("not a ticker event: \(event.data)")
            }
            guard fields.previousDrop != 0 else { continue }
            samples.append(
                ReconnectSample(
                    total: milliseconds(now &- fields.previousDrop),
                    dropToAccept: milliseconds(fields.accepted &- fields.previousDrop),
                    acceptToSend: milliseconds(fields.sent &- fields.accepted),
                    delivery: milliseconds(now &- fields.sent)
                ))
            if samples.count == drops { break }
        }
        source.close()
        return samples
    }
}

/// Nanoseconds as milliseconds.
func milliseconds(_ nanoseconds: UInt64) -> Double {
    Double(nanoseconds) / 1e6
}
