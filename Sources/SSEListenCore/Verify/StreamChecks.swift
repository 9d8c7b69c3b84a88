import SSEClient

/// The checks judged from the uninterrupted stream: its head, and the timing and content of its
/// body. Pure functions of a ``StreamRecording``.
enum StreamChecks {
    /// A silence longer than this risks the idle limits of proxies (nginx: 60 s, CDNs: about 100 s).
    static let silenceLimit: Duration = .seconds(30)
    /// A quiet stream without heartbeat comments is worth a warning once it has been silent this long.
    static let quietWithoutHeartbeat: Duration = .seconds(10)
    /// Reads this close together count as one delivery.
    static let sameDelivery: Duration = .milliseconds(3)
    /// A burst comes after at least this long without a byte.
    static let burstGap: Duration = .milliseconds(200)
    /// A burst has at least this many blocks.
    static let burstSize = 3

    static func status(_ recording: StreamRecording) -> VerifyCheck {
        guard let head = recording.head else {
            if let failure = recording.failure {
                return VerifyCheck("http.status", .fail, "the first request failed: \(failure)")
            }
            return VerifyCheck(
                "http.status", .fail, "no response head within \(recording.observed.secondsDescription)",
                hint: "a proxy that buffers the response holds its head back too (nginx buffers an upstream that "
                    + "ends its body by closing the connection); so does a server that answers at its first event: "
                    + "send the head at once, or run with a longer --duration")
        }
        let type = head.headers.value(for: "Content-Type")
        let answer = "\(head.status)\(type.map { ", Content-Type: \($0)" } ?? ", no Content-Type")"
        guard head.status == 200 else {
            let hint =
                head.status == 204
                ? "204 No Content tells a client to stop reconnecting; answer 200 with the stream"
                : "an event stream is answered 200 with Content-Type: text/event-stream"
            return VerifyCheck("http.status", .fail, "answered \(answer)", hint: hint)
        }
        guard let type, mediaType(type) == "text/event-stream" else {
            return VerifyCheck(
                "http.status", .fail, "answered \(answer)",
                hint: "clients (EventSource in browsers too) refuse a stream without Content-Type: text/event-stream")
        }
        return VerifyCheck("http.status", .pass, "\(answer), \(head.httpVersion)")
    }

    static func cacheControl(_ head: ResponseHead) -> VerifyCheck {
        let value = head.headers.value(for: "Cache-Control")
        let directives = (value ?? "").split(separator: ",").map {
            $0.split(separator: "=").first.map { $0.trimmingASCIIWhitespace().lowercased() } ?? ""
        }
        if directives.contains("no-cache") || directives.contains("no-store") {
            return VerifyCheck("http.cache-control", .pass, "Cache-Control: \(value!)")
        }
        return VerifyCheck(
            "http.cache-control", .warn,
            value.map { "Cache-Control: \($0), without no-cache or no-store" } ?? "no Cache-Control",
            hint:
                "send Cache-Control: no-cache, so that no proxy or browser cache stores the stream or serves a stale copy"
        )
    }

    static func contentLength(_ recording: StreamRecording, head: ResponseHead) -> VerifyCheck {
        guard let length = head.headers.value(for: "Content-Length") else {
            return VerifyCheck("http.content-length", .pass, "none: the stream has no fixed end")
        }
        let bytes = recording.reads.reduce(0) { $0 + $1.bytes.count }
        let what =
            recording.endedByServer
            ? "the stream ended after \(bytes) bytes" : "the stream was still open after \(bytes) bytes"
        return VerifyCheck(
            "http.content-length", .warn, "Content-Length: \(length) on an event stream; \(what)",
            hint: "an event stream has no length: with one, the response ends after that many bytes and a proxy "
                + "may wait for all of them; send none (chunked transfer on HTTP/1.1)")
    }

    static func compression(_ recording: StreamRecording, head: ResponseHead) -> VerifyCheck {
        let encoding = head.headers.value(for: "Content-Encoding")?.trimmingASCIIWhitespace()
        guard let encoding, !encoding.isEmpty, encoding.lowercased() != "identity" else {
            return VerifyCheck("http.compression", .pass, "not compressed")
        }
        if recording.askedForCompression {
            return VerifyCheck(
                "http.compression", .pass, "Content-Encoding: \(encoding), as asked",
                hint: "flush the compressor after every event, or events wait in it (see stream.buffering)")
        }
        return VerifyCheck(
            "http.compression", .fail, "Content-Encoding: \(encoding), but the request did not ask for compression",
            hint: "a client that did not send Accept-Encoding cannot decode the stream; compress only when asked, "
                + "and flush after every event")
    }

    static func accelBuffering(_ head: ResponseHead) -> VerifyCheck {
        let value = head.headers.value(for: "X-Accel-Buffering")
        if value?.trimmingASCIIWhitespace().lowercased() == "no" {
            return VerifyCheck("http.x-accel-buffering", .pass, "X-Accel-Buffering: no")
        }
        return VerifyCheck(
            "http.x-accel-buffering", .warn, value.map { "X-Accel-Buffering: \($0)" } ?? "no X-Accel-Buffering",
            hint: "nginx in front buffers a proxied response unless it says X-Accel-Buffering: no (or nginx has "
                + "proxy_buffering off); nginx removes the header once it has acted on it, so behind nginx its "
                + "absence here is expected: stream.buffering tells whether events were held")
    }

    static func ids(_ blocks: [StreamBlock]) -> VerifyCheck {
        let events = blocks.filter(\.isEvent)
        guard !events.isEmpty else {
            return VerifyCheck("stream.ids", .skip, "no event arrived")
        }
        // A block without data still moves the cursor (WHATWG: the id field sets the last event
        // ID buffer whether or not an event is dispatched). It breaks resuming when the event it
        // names comes later: with that id, with a lower number, or with no id of its own.
        var cursor = ""
        for (index, block) in blocks.enumerated() {
            let before = cursor
            if let id = block.id { cursor = id }
            guard !block.isEvent, let id = block.id, !id.isEmpty, id != before else { continue }
            guard let next = blocks[(index + 1)...].first(where: { $0.isEvent || $0.id != nil }), next.isEvent else {
                continue
            }
            let namesNext: Bool
            switch next.id {
            case nil: namesNext = true
            case let nextID?:
                namesNext = nextID == id || (Int(id).flatMap { number in Int(nextID).map { $0 <= number } } ?? false)
            }
            guard namesNext else { continue }
            let gap = (next.at - block.at).secondsDescription
            let named =
                next.id == nil
                ? "the event it names (the next one, which has no id of its own) came"
                : "the event with id \(quoted(next.id!)) came"
            return VerifyCheck(
                "stream.ids", .fail,
                "a block without data set the cursor to \(quoted(id)), and \(named) \(gap) later: a client that "
                    + "reconnects in between sends Last-Event-ID: \(id) and never gets that event",
                hint: "put an id only on the event it names, and never on comments, heartbeats or other blocks without "
                    + "data")
        }
        let withID = events.count { ($0.id ?? "") != "" }
        if withID == 0 {
            return VerifyCheck(
                "stream.ids", .warn, "none of \(events.count) event\(events.count == 1 ? "" : "s") carries an id",
                hint: "without ids a client that reconnects cannot resume, and loses what was sent meanwhile; give "
                    + "every event an id and replay after Last-Event-ID")
        }
        let ids = events.compactMap(\.id).filter { !$0.isEmpty }
        let sample = ids.count <= 3 ? ids.joined(separator: ", ") : "\(ids[0]), \(ids[1]) … \(ids[ids.count - 1])"
        return VerifyCheck("stream.ids", .pass, "\(withID) of \(events.count) events carry an id (\(sample))")
    }

    static func heartbeat(_ recording: StreamRecording, blocks: [StreamBlock]) -> VerifyCheck {
        guard recording.observed > .zero else {
            return VerifyCheck("stream.heartbeat", .skip, "the stream was not watched")
        }
        var times: [Duration] = [.zero]
        times += recording.reads.map(\.at)
        if !recording.endedByServer { times.append(recording.observed) }
        var longest: Duration = .zero
        var longestEnd: Duration = .zero
        for (earlier, later) in zip(times, times.dropFirst()) where later - earlier > longest {
            (longest, longestEnd) = (later - earlier, later)
        }
        let comments = blocks.reduce(0) { $0 + $1.comments }
        let observed = recording.observed
        let figures =
            "longest silence \(longest.secondsDescription) (no byte at all) in \(observed.secondsDescription) observed; "
            + (comments == 0 ? "no comment lines" : "\(comments) comment line\(comments == 1 ? "" : "s")")
        let hint =
            "send a comment line (: ping) every 15 to 30 s: nginx closes a proxied connection after 60 s without a "
            + "byte (proxy_read_timeout), CDNs and load balancers after about 100 s, some NATs sooner"
        if longest > silenceLimit {
            return VerifyCheck("stream.heartbeat", .warn, figures + "; more than 30 s", hint: hint)
        }
        let stillQuiet = !recording.endedByServer && longestEnd == observed
        if comments == 0, longest >= min(quietWithoutHeartbeat, observed / 2), longest >= .seconds(1) {
            let tail = stillQuiet ? ", and still quiet at the end" : ""
            return VerifyCheck(
                "stream.heartbeat", .warn,
                figures + tail + ": nothing shows that a byte comes within 30 s when there is no event", hint: hint)
        }
        return VerifyCheck("stream.heartbeat", .pass, figures)
    }

    static func buffering(_ blocks: [StreamBlock]) -> VerifyCheck {
        // Deliveries: blocks whose reads came within `sameDelivery` of each other.
        var deliveries: [(at: Duration, gap: Duration, blocks: Int)] = []
        for block in blocks {
            if let last = deliveries.last, block.at - last.at <= sameDelivery {
                deliveries[deliveries.count - 1].blocks += 1
            } else {
                deliveries.append((block.at, block.at - (deliveries.last?.at ?? .zero), 1))
            }
        }
        // The first delivery may be a replayed backlog: not evidence.
        let judged = deliveries.dropFirst()
        let total = judged.reduce(0) { $0 + $1.blocks }
        guard total >= 6, judged.count >= 2 else {
            return VerifyCheck(
                "stream.buffering", .skip,
                "too few blocks (\(total)) after the first delivery to judge; a longer --duration sees more")
        }
        let bursts = judged.filter { $0.blocks >= burstSize && $0.gap >= burstGap }
        let inBursts = bursts.reduce(0) { $0 + $1.blocks }
        if bursts.count >= 2, inBursts * 2 >= total {
            let sizes = bursts.map(\.blocks)
            let gaps = bursts.map(\.gap)
            return VerifyCheck(
                "stream.buffering", .fail,
                "\(inBursts) of \(total) blocks arrived in \(bursts.count) bursts of \(range(sizes)) blocks, each "
                    + "after \(gaps.min()!.secondsDescription) to \(gaps.max()!.secondsDescription) without a byte, the blocks of a "
                    + "burst within \(sameDelivery.secondsDescription): something holds the writes back and releases them "
                    + "together",
                hint: "flush after every event; behind nginx send X-Accel-Buffering: no (or proxy_buffering off); "
                    + "a compressor or a CDN in front must not buffer text/event-stream")
        }
        let alone = judged.count { $0.blocks == 1 }
        return VerifyCheck(
            "stream.buffering", .pass,
            "\(total) blocks in \(judged.count) deliveries, \(alone) of them on their own; no bursts after silences")
    }

    static func retryField(_ blocks: [StreamBlock]) -> VerifyCheck {
        let values = blocks.flatMap(\.retryValues)
        guard !values.isEmpty else {
            return VerifyCheck("retry.field", .skip, "no retry: field was sent")
        }
        if let bad = values.first(where: { $0.isEmpty || !$0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }) {
            return VerifyCheck(
                "retry.field", .fail, "retry: \(quoted(bad)) is not ASCII digits, so every client ignores it",
                hint: "retry: takes the reconnection time in milliseconds as digits only, e.g. retry: 3000")
        }
        let distinct = Array(Set(values)).sorted()
        return VerifyCheck(
            "retry.field", .pass,
            "retry: \(distinct.prefix(3).joined(separator: ", "))\(distinct.count > 3 ? ", …" : "") (milliseconds)")
    }

    /// `text/event-stream` from `text/event-stream; charset=utf-8`, lowercased.
    static func mediaType(_ value: String) -> String {
        String(value.prefix { $0 != ";" }).trimmingASCIIWhitespace().lowercased()
    }

    static func quoted(_ id: String) -> String {
        let shown = id.count > 40 ? id.prefix(40) + "…" : Substring(id)
        return "'\(shown)'"
    }

    private static func range(_ values: [Int]) -> String {
        let (low, high) = (values.min()!, values.max()!)
        return low == high ? "\(low)" : "\(low) to \(high)"
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
