import CoreMetrics

/// One source's figures, recorded through swift-metrics: no-ops unless the application
/// bootstraps a `MetricsSystem` (swift-prometheus, swift-otel, …), so a source costs nothing
/// more when nobody is looking.
///
/// Recorded by ``EventSourceStorage`` where the life cycle moves (an attempt starts, a head
/// arrives, the consumer takes a batch, a connection is settled), never per event: counts come
/// per batch, and the bytes buffered are set per read of the body. Every metric carries `sse.source`, the caller's
/// ``EventSource/Configuration/metricsLabel``; the other dimensions are bounded sets (a cause,
/// an outcome, a status class), never a URL, a query or an event ID.
///
/// | name | kind | dimensions | what |
/// | --- | --- | --- | --- |
/// | `sse.client.connection.attempts` | counter | `sse.attempt.result`: `open`, `2xx`…`5xx`, or an ``EventSourceError/Code`` such as `transport` | attempts, by how they were answered |
/// | `sse.client.reconnects` | counter | `sse.reconnect.cause`: a ``ReconnectCause`` | reconnects scheduled |
/// | `sse.client.events` | counter | | events delivered |
/// | `sse.client.comments` | counter | | comment lines (heartbeats) |
/// | `sse.client.received.bytes` | counter | | body bytes received (after decompression) |
/// | `sse.client.response_head.duration` | timer | | from the start of an attempt to its response head |
/// | `sse.client.first_event.duration` | timer | | from the start of an attempt to its first event |
/// | `sse.client.connection.duration` | timer | `sse.connection.ending`: a ``ReconnectCause``, `completed`, `finished` or `fatal` | how long opened streams stayed open |
/// | `sse.client.reconnect.delay` | timer | | the delay before each reconnect |
/// | `sse.client.backpressure.paused` | timer | | how long each pause for a slow consumer lasted |
/// | `sse.client.streams.open` | meter | | streams open now |
/// | `sse.client.buffered.bytes` | meter | | received bytes waiting for the consumer (set as bytes arrive and as the consumer takes them) |
struct Telemetry: Sendable {
    /// The metrics of one source; absent when nothing is bootstrapped, so that a source then
    /// neither allocates them nor calls through to no-op handlers.
    private final class Instruments: Sendable {
        let factory: any MetricsFactory
        let source: (String, String)
        let events: Counter
        let comments: Counter
        let bytes: Counter
        let responseHead: CoreMetrics.Timer
        let firstEvent: CoreMetrics.Timer
        let reconnectDelay: CoreMetrics.Timer
        let paused: CoreMetrics.Timer
        let streamsOpen: Meter
        let buffered: Meter

        init(label: String, factory: any MetricsFactory) {
            self.factory = factory
            source = ("sse.source", label)
            let dimensions = [source]
            events = Counter(label: Name.events, dimensions: dimensions, factory: factory)
            comments = Counter(label: Name.comments, dimensions: dimensions, factory: factory)
            bytes = Counter(label: Name.bytes, dimensions: dimensions, factory: factory)
            responseHead = CoreMetrics.Timer(label: Name.responseHead, dimensions: dimensions, factory: factory)
            firstEvent = CoreMetrics.Timer(label: Name.firstEvent, dimensions: dimensions, factory: factory)
            reconnectDelay = CoreMetrics.Timer(label: Name.reconnectDelay, dimensions: dimensions, factory: factory)
            paused = CoreMetrics.Timer(label: Name.paused, dimensions: dimensions, factory: factory)
            streamsOpen = Meter(label: Name.streamsOpen, dimensions: dimensions, factory: factory)
            buffered = Meter(label: Name.buffered, dimensions: dimensions, factory: factory)
        }

        func attempt(_ result: String) {
            Counter(label: Name.attempts, dimensions: [source, ("sse.attempt.result", result)], factory: factory)
                .increment(by: 1)
        }
    }

    private let instruments: Instruments?

    /// Whether anything is recorded: callers skip work that only feeds the metrics.
    var isEnabled: Bool { instruments != nil }

    /// Metric names, for the documentation and for tests.
    enum Name {
        static let attempts = "sse.client.connection.attempts"
        static let reconnects = "sse.client.reconnects"
        static let events = "sse.client.events"
        static let comments = "sse.client.comments"
        static let bytes = "sse.client.received.bytes"
        static let responseHead = "sse.client.response_head.duration"
        static let firstEvent = "sse.client.first_event.duration"
        static let connectionDuration = "sse.client.connection.duration"
        static let reconnectDelay = "sse.client.reconnect.delay"
        static let paused = "sse.client.backpressure.paused"
        static let streamsOpen = "sse.client.streams.open"
        static let buffered = "sse.client.buffered.bytes"
    }

    init(label: String, factory: any MetricsFactory) {
        instruments = factory is NOOPMetricsHandler ? nil : Instruments(label: label, factory: factory)
    }

    /// A response head arrived `duration` after the attempt started; `result` is `open` or its
    /// status class.
    func responseHeadArrived(after duration: Duration, result: String) {
        guard let instruments else { return }
        instruments.responseHead.recordNanoseconds(Duration.nanoseconds(of: duration))
        instruments.attempt(result)
    }

    func firstEventArrived(after duration: Duration) {
        instruments?.firstEvent.recordNanoseconds(Duration.nanoseconds(of: duration))
    }

    func streamOpened() {
        instruments?.streamsOpen.increment(by: 1.0)
    }

    func pauseEnded(after duration: Duration) {
        instruments?.paused.recordNanoseconds(Duration.nanoseconds(of: duration))
    }

    /// The consumer took a batch of `bytes`; `queued` bytes still wait.
    func took(bytes count: Int, queued: Int) {
        guard let instruments else { return }
        if count > 0 { instruments.bytes.increment(by: count) }
        instruments.buffered.set(queued)
    }

    /// `queued` received bytes wait for the consumer.
    func buffered(_ queued: Int) {
        instruments?.buffered.set(queued)
    }

    /// The consumer parsed `events` and `comments`.
    func consumed(events eventCount: Int, comments commentCount: Int) {
        guard let instruments else { return }
        if eventCount > 0 { instruments.events.increment(by: eventCount) }
        if commentCount > 0 { instruments.comments.increment(by: commentCount) }
    }

    /// A transfer ended as `ending` (as the I/O thread saw it): an attempt that got no head is
    /// counted by what failed, and an opened stream is no longer open.
    func transferEnded(_ ending: ConnectionEnding, openDuration: Duration?, headSeen: Bool) {
        guard let instruments else { return }
        if !headSeen { instruments.attempt(ending.attemptResult) }
        if openDuration != nil { instruments.streamsOpen.decrement(by: 1.0) }
    }

    /// An opened stream ended as `ending` after `duration`.
    func connectionEnded(_ ending: ConnectionEnding, after duration: Duration) {
        guard let instruments else { return }
        CoreMetrics.Timer(
            label: Name.connectionDuration,
            dimensions: [instruments.source, ("sse.connection.ending", ending.metricName)],
            factory: instruments.factory
        ).recordNanoseconds(Duration.nanoseconds(of: duration))
    }

    /// A reconnect was scheduled after a connection that ended by `cause`.
    func reconnectScheduled(_ cause: ReconnectCause, after delay: Duration) {
        guard let instruments else { return }
        Counter(
            label: Name.reconnects, dimensions: [instruments.source, ("sse.reconnect.cause", cause.rawValue)],
            factory: instruments.factory
        ).increment(by: 1)
        instruments.reconnectDelay.recordNanoseconds(Duration.nanoseconds(of: delay))
    }
}

extension ConnectionEnding {
    /// What a connection that never opened a stream got: a status class, or what failed.
    var attemptResult: String {
        switch self {
        case .failure(let error, _), .fatal(let error):
            if let status = error.status { return "\(status / 100)xx" }
            return error.code.description
        case .finishedByServer(let status): return "\(status / 100)xx"
        case .endOfStream, .restart, .closed, .completed: return reason.cause.rawValue
        }
    }

    /// How an opened stream ended, for the connection-duration dimension.
    var metricName: String {
        switch self {
        case .completed: "completed"
        case .finishedByServer: "finished"
        case .fatal: "fatal"
        default: reason.cause.rawValue
        }
    }
}
