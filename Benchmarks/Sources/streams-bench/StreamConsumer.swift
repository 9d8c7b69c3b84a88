import BenchSupport
import SSEClient
import Synchronization

/// What every consumer adds to: events received, and streams that have seen their first event.
final class Progress: Sendable {
    let events = Atomic<Int>(0)
    let openStreams = Atomic<Int>(0)
}

/// One delivered event: when it was received, and how long after the server's write.
struct Delivery: Sendable {
    var receivedAt: UInt64
    var latencyNanoseconds: UInt64
}

/// Consumes one source until it is closed: for each event, reads the server's send time from
/// its data (`t=NANOSECONDS …`) and records the delivery latency on the same monotonic clock.
func consume(_ source: EventSource, progress: Progress) async throws -> [Delivery] {
    var deliveries: [Delivery] = []
    deliveries.reserveCapacity(64)
    var first = true
    for try await event in source.events {
        let now = Clock.nanoseconds()
        if let sent = sendTime(in: event.data) {
            deliveries.append(Delivery(receivedAt: now, latencyNanoseconds: now &- sent))
        }
        if first {
            first = false
            progress.openStreams.add(1, ordering: .relaxed)
        }
        progress.events.add(1, ordering: .relaxed)
    }
    return deliveries
}

/// The number after `t=` at the start of `data`.
func sendTime(in data: String) -> UInt64? {
    var utf8 = data.utf8.makeIterator()
    guard utf8.next() == UInt8(ascii: "t"), utf8.next() == UInt8(ascii: "=") else { return nil }
    var value: UInt64 = 0
    var digits = 0
    while let byte = utf8.next(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
        value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        digits += 1
    }
    return digits > 0 ? value : nil
}
