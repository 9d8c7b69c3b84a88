/// The figures of a `load` run, and their two renderings: one JSON object, or a table for people.
/// Pure: built from the streams' outcomes and the process's own figures.
struct LoadReport: Sendable {
    /// p50, p99 and the maximum of a set of durations, in milliseconds.
    struct Percentiles: Sendable, Hashable {
        var p50: Double
        var p99: Double
        var max: Double

        init?(_ histogram: LogHistogram) {
            guard histogram.count > 0 else { return nil }
            // Recorded in microseconds.
            p50 = Double(histogram.percentile(0.50)) / 1000
            p99 = Double(histogram.percentile(0.99)) / 1000
            max = Double(histogram.maximum) / 1000
        }

        var json: String {
            "{\"p50\":\(String(fixed: p50, digits: 3)),\"p99\":\(String(fixed: p99, digits: 3)),\"max\":\(String(fixed: max, digits: 3))}"
        }

        var text: String {
            "p50 \(String(fixed: p50, digits: 1)) ms, p99 \(String(fixed: p99, digits: 1)) ms, max \(String(fixed: max, digits: 1)) ms"
        }
    }

    /// What this process used.
    struct Client: Sendable, Hashable {
        /// At the deadline, all streams open.
        var residentBytes: Int
        /// Before the first stream.
        var baselineResidentBytes: Int
        var cpuSeconds: Double
        var threads: Int
    }

    var url: String
    var target: Int
    var opened: Int
    var failed: Int
    var peakOpen: Int
    var events: Int
    var elapsed: Duration
    var reconnects: Int
    /// `nil` when some stream's ids are not integers.
    var lost: Int?
    var duplicated: Int?
    /// Why ``lost`` is unknown.
    var unknownLossReason: String?
    /// Failures of streams that never opened, by status class or error kind.
    var failures: [String: Int]
    var connect: Percentiles?
    var firstEvent: Percentiles?
    var delivery: Percentiles?
    /// The delivery latency of the events that arrived once every stream had been open at once:
    /// without the ramp's connect storm. `nil` when unknown, or when not all opened.
    var deliveryAllOpen: Percentiles?
    /// From losing an open stream (a drop of ours or the server's) to the first event of the
    /// connection that resumed it; `nil` without reconnects.
    var resume: Percentiles?
    var client: Client

    var elapsedSeconds: Double {
        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    var eventsPerSecond: Double { elapsedSeconds > 0 ? Double(events) / elapsedSeconds : 0 }

    /// Resident memory the streams added, per stream opened.
    var perStreamBytes: Int? {
        opened > 0 ? max(0, client.residentBytes - client.baselineResidentBytes) / opened : nil
    }

    /// 2 when not a single stream opened, else 0.
    var exitCode: Int32 { opened == 0 ? 2 : 0 }

    var json: String {
        func optional(_ value: Int?) -> String { value.map(String.init) ?? "null" }
        func percentiles(_ value: Percentiles?) -> String { value?.json ?? "null" }
        let failureList = failures.keys.sorted().map { "\(JSONText.quoted($0)):\(failures[$0]!)" }
        let fields = [
            "\"url\":\(JSONText.quoted(url))",
            "\"connections\":{\"target\":\(target),\"opened\":\(opened),\"failed\":\(failed),\"peak_open\":\(peakOpen)}",
            "\"events\":\(events)",
            "\"events_per_second\":\(String(fixed: eventsPerSecond, digits: 3))",
            "\"duration_s\":\(String(fixed: elapsedSeconds, digits: 3))",
            "\"reconnects\":\(reconnects)",
            "\"lost\":\(optional(lost))",
            "\"duplicated\":\(optional(duplicated))",
            "\"failures\":{\(failureList.joined(separator: ","))}",
            "\"connect_ms\":\(percentiles(connect))",
            "\"first_event_ms\":\(percentiles(firstEvent))",
            "\"delivery_ms\":\(percentiles(delivery))",
            "\"delivery_all_open_ms\":\(percentiles(deliveryAllOpen))",
            "\"resume_ms\":\(percentiles(resume))",
            "\"client\":{\"rss_bytes\":\(client.residentBytes),\"rss_bytes_before\":\(client.baselineResidentBytes),"
                + "\"rss_bytes_per_stream\":\(perStreamBytes.map(String.init) ?? "null"),"
                + "\"cpu_seconds\":\(String(fixed: client.cpuSeconds, digits: 3)),\"threads\":\(client.threads)}",
        ]
        return "{" + fields.joined(separator: ",") + "}"
    }

    func table(style: TerminalStyle, verbose: Bool) -> String {
        func row(_ name: String, _ value: String) -> String {
            "  " + name + String(repeating: " ", count: max(1, 16 - name.count)) + value + "\n"
        }
        var text = style.paint("load \(url)", .bold) + "\n\n"
        let failures = failures.keys.sorted().map { "\($0): \(self.failures[$0]!)" }.joined(separator: ", ")
        text += row(
            "streams",
            "\(opened) of \(target) opened, \(failed) failed\(failures.isEmpty ? "" : " (\(failures))"), "
                + "at most \(peakOpen) open at once")
        text += row(
            "events",
            "\(events) in \(elapsed.secondsDescription), \(String(fixed: eventsPerSecond, digits: 1)) per second")
        text += row("reconnects", "\(reconnects)" + (resume.map { "; lost stream to resumed event \($0.text)" } ?? ""))
        if events == 0 {
            text += row("sequence", "–")
        } else if let lost, let duplicated {
            let verdict =
                lost == 0 && duplicated == 0
                ? style.paint("none lost or repeated", .green)
                : style.paint("\(lost) lost, \(duplicated) repeated", .red)
            text += row("sequence", verdict)
        } else {
            let why = verbose ? " (\(unknownLossReason ?? ""))" : " (-v says which)"
            text += row("sequence", "unknown: the ids are not integers" + why)
        }
        text += row("connect", connect?.text ?? "–")
        text += row("first event", firstEvent?.text ?? "–")
        text += row("delivery", delivery?.text ?? "unknown (no send time in the events: --timestamp-field names it)")
        if let deliveryAllOpen {
            text += row("  all open", deliveryAllOpen.text + " (once every stream was open)")
        }
        let mebibytes = Double(client.residentBytes) / 1_048_576
        let perStream =
            perStreamBytes.map { ", \(String(fixed: Double($0) / 1024, digits: 1)) KiB per stream" } ?? ""
        text += row(
            "client",
            "\(String(fixed: mebibytes, digits: 1)) MiB resident\(perStream), "
                + "\(String(fixed: client.cpuSeconds, digits: 2)) s CPU, \(client.threads) threads")
        return text
    }
}
