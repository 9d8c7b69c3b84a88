import SSEClient

/// The figures `--stats` and `--stats-json` report when a run ends: is this stream healthy?
///
/// Fed by the main loop with each update and when it was taken (on the consuming side, so an
/// event's time is when `sse-listen` could print it), and finished with the source's own
/// snapshot (bytes, reconnects by cause, the longest silence, time paused), which counts what
/// the loop cannot see. Pure: no clock of its own.
public struct ListenStats: Sendable {
    private let start: ContinuousClock.Instant
    private var firstHead: ContinuousClock.Instant?
    private var firstEvent: ContinuousClock.Instant?
    private var lastEvent: ContinuousClock.Instant?
    private var httpVersion: String?
    /// Events the source delivered (all of them, `--event` filters or not).
    public private(set) var events = 0
    private var gaps = LogHistogram()

    /// Starts counting at `start`, the beginning of the run.
    public init(start: ContinuousClock.Instant) {
        self.start = start
    }

    /// Counts `update`, taken at `now`.
    public mutating func record(_ update: EventSourceUpdate, at now: ContinuousClock.Instant) {
        switch update {
        case .event:
            events += 1
            if let lastEvent { gaps.record(Self.nanoseconds(now - lastEvent)) }
            if firstEvent == nil { firstEvent = now }
            lastEvent = now
        case .state(.open(let head)):
            if firstHead == nil { firstHead = now }
            httpVersion = head.httpVersion
        default:
            break
        }
    }

    /// The report, with the source's snapshot, for a run that ended at `end`.
    public func report(metrics: EventSource.Metrics, end: ContinuousClock.Instant) -> Report {
        let elapsed = end - start
        let streaming = firstEvent.map { end - $0 } ?? .zero
        return Report(
            duration: elapsed,
            timeToHead: firstHead.map { $0 - start },
            timeToFirstEvent: firstEvent.map { $0 - start },
            events: events,
            bytes: metrics.bytes,
            eventsPerSecond: streaming > .zero ? Double(events) / Self.seconds(streaming) : nil,
            gaps: gaps.count > 0
                ? Report.Percentiles(
                    p50: .nanoseconds(gaps.percentile(0.50)), p95: .nanoseconds(gaps.percentile(0.95)),
                    p99: .nanoseconds(gaps.percentile(0.99)), max: .nanoseconds(gaps.maximum))
                : nil,
            longestSilence: metrics.longestSilence,
            reconnects: metrics.reconnects,
            paused: metrics.pausedTime,
            httpVersion: httpVersion
        )
    }

    /// The figures of one run.
    public struct Report: Sendable, Hashable {
        /// The gap between consecutive events, by percentile.
        public struct Percentiles: Sendable, Hashable {
            /// The median.
            public var p50: Duration
            /// The 95th percentile.
            public var p95: Duration
            /// The 99th percentile.
            public var p99: Duration
            /// The largest.
            public var max: Duration
        }

        /// How long the run lasted.
        public var duration: Duration
        /// From the start of the run to the first response head that opened a stream.
        public var timeToHead: Duration?
        /// From the start of the run to the first event.
        public var timeToFirstEvent: Duration?
        /// Events received.
        public var events: Int
        /// Body bytes received.
        public var bytes: Int
        /// Events per second from the first event to the end; `nil` without events.
        public var eventsPerSecond: Double?
        /// The gaps between events (percentiles within 1/128 of the value; the maximum exact);
        /// `nil` with fewer than two events.
        public var gaps: Percentiles?
        /// The longest time an open stream sent nothing at all, comments included.
        public var longestSilence: Duration
        /// Reconnects, by cause.
        public var reconnects: [ReconnectCause: Int]
        /// Time the transfer was paused because output could not keep up.
        public var paused: Duration
        /// The HTTP version of the last stream, such as `HTTP/1.1` or `HTTP/2`.
        public var httpVersion: String?

        /// The summary for standard error.
        public var lines: [StatusLine] {
            func time(_ duration: Duration?) -> String { duration.map(\.millisecondsText) ?? "–" }
            let reconnectCount = reconnects.values.reduce(0, +)
            let causes = reconnects.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                "\($0.key.rawValue) \($0.value)"
            }
            return [
                StatusLine(
                    .info,
                    "stats: \(time(timeToHead)) to the response head, \(time(timeToFirstEvent)) to the first event"),
                StatusLine(
                    .info,
                    "stats: \(events) event\(events == 1 ? "" : "s"), \(bytes) bytes in \(duration.millisecondsText)"
                        + (eventsPerSecond.map { String(fixed: $0, digits: 1) + " events/s" }.map { " (\($0))" } ?? "")),
                StatusLine(
                    .info,
                    "stats: gap between events "
                        + (gaps.map {
                            "p50 \($0.p50.millisecondsText), p95 \($0.p95.millisecondsText), "
                                + "p99 \($0.p99.millisecondsText), max \($0.max.millisecondsText)"
                        } ?? "– (fewer than two events)")
                        + "; longest silence \(longestSilence.millisecondsText)"),
                StatusLine(
                    .info,
                    "stats: \(reconnectCount) reconnect\(reconnectCount == 1 ? "" : "s")"
                        + (causes.isEmpty ? "" : " (\(causes.joined(separator: ", ")))")
                        + "; paused \(paused.millisecondsText); \(httpVersion ?? "no stream opened")"),
            ]
        }

        /// The figures as one JSON object, times in milliseconds, `null` where unknown.
        public var json: String {
            func milliseconds(_ duration: Duration?) -> String {
                duration.map { String(format3: Double(ListenStats.nanoseconds($0)) / 1e6) } ?? "null"
            }
            let causes = reconnects.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { "\"\($0.key.rawValue)\":\($0.value)" }.joined(separator: ",")
            let gap =
                gaps.map {
                    "{\"p50\":\(milliseconds($0.p50)),\"p95\":\(milliseconds($0.p95)),"
                        + "\"p99\":\(milliseconds($0.p99)),\"max\":\(milliseconds($0.max))}"
                } ?? "{\"p50\":null,\"p95\":null,\"p99\":null,\"max\":null}"
            let fields = [
                "\"events\":\(events)",
                "\"bytes\":\(bytes)",
                "\"duration_ms\":\(milliseconds(duration))",
                "\"time_to_head_ms\":\(milliseconds(timeToHead))",
                "\"time_to_first_event_ms\":\(milliseconds(timeToFirstEvent))",
                "\"events_per_second\":\(eventsPerSecond.map { String(format3: $0) } ?? "null")",
                "\"gap_ms\":\(gap)",
                "\"longest_silence_ms\":\(milliseconds(longestSilence))",
                "\"reconnects\":\(reconnects.values.reduce(0, +))",
                "\"reconnects_by_cause\":{\(causes)}",
                "\"paused_ms\":\(milliseconds(paused))",
                "\"http_version\":\(httpVersion.map { JSONText.quoted($0) } ?? "null")",
            ]
            return "{" + fields.joined(separator: ",") + "}\n"
        }
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 { return 0 }
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product + attoseconds / 1_000_000_000
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Durations bucketed by their leading bits (128 buckets per power of two), so percentiles of
/// any number of events take a fixed 64 KiB and are within 1/128 of the true value.
struct LogHistogram: Sendable {
    private static let subBits = 7
    private static let perOctave = 1 << subBits
    private var buckets = [Int](repeating: 0, count: 64 * perOctave)
    private(set) var count = 0
    private(set) var maximum: Int64 = 0

    mutating func record(_ value: Int64) {
        let value = max(0, value)
        buckets[Self.bucket(of: value)] += 1
        count += 1
        maximum = max(maximum, value)
    }

    /// The smallest bucket bound below which a `fraction` of the values lie (never above the maximum).
    func percentile(_ fraction: Double) -> Int64 {
        guard count > 0 else { return 0 }
        let rank = max(1, Int((Double(count) * fraction).rounded(.up)))
        var seen = 0
        for (index, n) in buckets.enumerated() where n > 0 {
            seen += n
            if seen >= rank { return min(Self.upperBound(of: index), maximum) }
        }
        return maximum
    }

    /// Values below `perOctave` have a bucket each; above, the bucket is the exponent and the
    /// `subBits` bits after the leading one.
    private static func bucket(of value: Int64) -> Int {
        guard value >= perOctave else { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount  // ≥ subBits
        let mantissa = Int((value >> (exponent - subBits)) & Int64(perOctave - 1))
        return (exponent - subBits + 1) * perOctave + mantissa
    }

    private static func upperBound(of index: Int) -> Int64 {
        guard index >= perOctave else { return Int64(index) }
        let exponent = index / perOctave + subBits - 1
        let mantissa = Int64(index % perOctave)
        return ((Int64(perOctave) + mantissa + 1) << (exponent - subBits)) - 1
    }
}

extension Duration {
    /// "12 ms", "1.5 s", "0.3 ms": for the stats lines.
    fileprivate var millisecondsText: String {
        let milliseconds = Duration.milliseconds(of: self)
        if milliseconds >= 1000 { return secondsDescription }
        if milliseconds >= 1 { return "\(milliseconds) ms" }
        let tenths = components.seconds < 0 ? 0 : components.attoseconds / 100_000_000_000_000
        return tenths == 0 ? "0 ms" : "0.\(tenths) ms"
    }
}
