import NIOCore
import SSEParser

/// The classic SSE fan-out server in miniature: every published message goes to every subscriber,
/// with IDs from one sequence (`1`, `2`, …), and the last `capacity` messages are kept in a ring
/// buffer to replay to a subscriber that reconnects with `Last-Event-ID`.
///
/// It lives on the server's event loop and is only touched there, so it needs no lock.
final class BroadcastHub {
    /// Receives the events published after it subscribed.
    typealias Subscriber = (ServerSentEvent) -> Void

    private var history: CircularBuffer<ServerSentEvent>
    private let capacity: Int
    private var lastID = 0
    private var subscribers: [Int: Subscriber] = [:]

    init(capacity: Int, history initial: [ServerSentEvent] = []) {
        self.capacity = max(capacity, 1)
        self.history = CircularBuffer(initialCapacity: self.capacity)
        for event in initial.suffix(self.capacity) {
            history.append(event)
        }
        lastID = initial.last.flatMap { Int($0.id) } ?? 0
    }

    /// The messages held for replay, oldest first.
    var heldMessages: [ServerSentEvent] { Array(history) }

    var subscriberCount: Int { subscribers.count }

    /// The ID of the last message published; 0 before the first.
    var newestID: Int { lastID }

    /// Assigns the next ID, keeps the message in the ring buffer, and sends it to every subscriber.
    func publish(data: String, type: String?) -> ServerSentEvent {
        lastID += 1
        let event = ServerSentEvent(id: String(lastID), type: type ?? ServerSentEvent.defaultType, data: data)
        if history.count == capacity {
            history.removeFirst()
        }
        history.append(event)
        for subscriber in subscribers.values {
            subscriber(event)
        }
        return event
    }

    /// Adds a subscriber under `key` (its connection's number) and returns the messages to replay to it first.
    ///
    /// With a cursor, that is every held message whose ID is above it (all of them when the cursor
    /// is older than the ring buffer: the client missed some), and the subscriber is sent only
    /// later messages above it too (a cursor past the newest ID skips what comes next). Without
    /// one, nothing is replayed. Which cursor a request gets is ``Resumption/hubStart(lastEventID:scenario:newest:)``'s call.
    func subscribe(_ key: Int, after cursor: Int?, subscriber: @escaping Subscriber) -> [ServerSentEvent] {
        guard let cursor else {
            subscribers[key] = subscriber
            return []
        }
        subscribers[key] = { event in
            if (Int(event.id) ?? Int.max) > cursor { subscriber(event) }
        }
        guard !history.isEmpty else { return [] }
        // IDs in the ring are consecutive, so the replay starts at an offset: no scan of the whole
        // history per subscriber (a reconnect storm against a long history would stall the loop).
        let firstHeld = lastID - history.count + 1
        if Int(history.first!.id) == firstHeld && Int(history.last!.id) == lastID {
            let start = max(cursor + 1, firstHeld)
            guard start <= lastID else { return [] }
            return Array(history[history.index(history.startIndex, offsetBy: start - firstHeld)...])
        }
        return history.filter { (Int($0.id) ?? 0) > cursor }
    }

    func unsubscribe(_ key: Int) {
        subscribers[key] = nil
    }
}
