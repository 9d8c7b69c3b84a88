import SSEParser

#if canImport(Glibc)
    import Glibc
#endif

/// What a ``TestServer`` does with one request: the stream it sends, the faults it injects, and how it ends.
///
/// Every property maps to one query parameter (see ``queryItems`` and `TestServer/README.md`), so the same
/// scenario can be chosen from Swift (``TestServer/url(for:path:)``, ``TestServer/route(_:_:)``) or by any
/// HTTP client. The default value serves the numbered stream: `id: 1`/`data: 1`, `id: 2`/`data: 2`, … with
/// no end, one event per ``TestServer/Configuration/tickInterval``.
///
/// Options compose. The body is produced first (``content``, ``retry``, heartbeats), then cut by the limits
/// (``dropAfterEvents``, ``dropAfterBytes``), then compressed (``compression``), then split into writes
/// (``writeSize``, ``writeDelay``), then framed (``framing``):
///
/// ```swift
/// // 10 events in total, the connection reset after every 3, written one byte at a time.
/// var scenario = Scenario.numbered(count: 10).droppingAfter(events: 3, with: .reset)
/// scenario.writeSize = 1
/// let url = server.url(for: scenario)
/// ```
public struct Scenario: Sendable, Hashable {
    /// What the body of a successful response carries.
    public enum Content: Sendable, Hashable {
        /// The numbered stream: event `n` has `id: n`, data ``Scenario/numberedData(_:payloadSize:)``.
        ///
        /// It resumes at `n + 1` when the request carries `Last-Event-ID: n`.
        case numbered
        /// One event of type `echo` whose data is the request as JSON: `method`, `path`, `query`, `headers`
        /// (an object with lowercased names; repeated headers joined with `, `) and `body` (UTF-8 text).
        case echo
        /// Exactly these bytes, for malformed-stream tests. ``Scenario/retry`` and heartbeats are not added.
        case raw([UInt8])
        /// A streamed answer shaped like `api`'s, with the options of ``Scenario/modelStream``
        /// (see `Scenario+Models.swift`).
        case model(ModelAPI)
    }

    /// Where a hanging response stops: the server keeps the connection open and sends nothing more.
    public enum Hang: String, Sendable, Hashable, CaseIterable {
        /// Accept the connection, read the request, and never answer (query `hang=before-headers`).
        case beforeHeaders = "before-headers"
        /// Send the response head of a `200` event stream, then nothing (query `hang=after-headers`).
        case afterHeaders = "after-headers"
        /// Send the status line of a `200` event stream, then header fields forever, one every
        /// ``Scenario/interval`` (the server's tick interval by default; `0` floods), never the
        /// blank line that ends the head (query `hang=endless-headers`).
        case endlessHeaders = "endless-headers"
    }

    /// How a streaming response ends once its content runs out or a limit cuts it.
    public enum Ending: String, Sendable, Hashable, CaseIterable {
        /// End the HTTP response properly (the last chunk, the gzip trailer), then close with FIN.
        case finish
        /// Close the TCP connection with FIN without ending the response (no last chunk, no gzip trailer).
        /// With ``Framing/connectionClose`` framing a client cannot tell this from ``finish``.
        case close
        /// Reset the TCP connection (`SO_LINGER` 0, so the peer's `recv` fails with `ECONNRESET`).
        ///
        /// Bytes the kernel has not yet sent are discarded by a reset; the server waits for every
        /// write to reach the kernel first, which on loopback delivers them to a client that reads.
        case reset
        /// Keep the connection open and send nothing more.
        case hang
        /// Over HTTP/2, `GOAWAY` and then the connection's close, which ends every stream on it
        /// (query `end=goaway`); over HTTP/1.1 the same as ``close``.
        case goAway = "goaway"
        /// Reset the whole TCP connection, over HTTP/2 every stream on it (query
        /// `end=reset-connection`); over HTTP/1.1 the same as ``reset``, which over HTTP/2 resets
        /// only its own stream (`RST_STREAM`).
        case resetConnection = "reset-connection"
    }

    /// How the body of a streaming response is delimited.
    public enum Framing: String, Sendable, Hashable, CaseIterable {
        /// `Transfer-Encoding: chunked`, one chunk per write (query `framing=chunked`, the default).
        case chunked
        /// No length and no chunks: the body ends when the server closes the connection
        /// (query `framing=close`). Body bytes on the wire are exactly the event stream.
        case connectionClose = "close"
    }

    /// How generated lines end.
    public enum LineEnding: String, Sendable, Hashable, CaseIterable {
        /// LF, as most servers send.
        case lf
        /// CRLF, so a drop can fall between the CR and the LF.
        case crlf
        /// CR alone.
        case cr
    }

    /// Whether the body is gzip-compressed.
    ///
    /// The server writes a gzip stream of stored (uncompressed) deflate blocks, one per write, so each
    /// write can be decoded as soon as it arrives, which matters for a stream.
    public enum Compression: String, Sendable, Hashable, CaseIterable {
        /// Never compress (the default).
        case none
        /// Compress when the request's `Accept-Encoding` accepts gzip, as a real server does (query `gzip=1`).
        case whenAccepted = "1"
        /// Compress even when the client did not ask for it (query `gzip=always`).
        case always
    }

    /// The body of a successful response. ``Content/numbered`` by default.
    public var content: Content

    /// The last event ID of the numbered stream: events `1...count`. `nil` (the default) never ends.
    ///
    /// This is the length of the whole stream, not of one response: a request with `Last-Event-ID: n`
    /// gets `n + 1...count`, and one with `n >= count` gets an empty stream.
    public var count: Int?

    /// The time between two events of the numbered stream; `nil` (the default) uses the server's
    /// ``TestServer/Configuration/tickInterval``. The first event is sent at once.
    public var interval: Duration?

    /// The `event:` field of the numbered stream's events; `nil` (the default) sends none (type `message`).
    public var eventType: String?

    /// The length in bytes of each numbered event's data; `nil` (the default) sends just the number.
    /// See ``numberedData(_:payloadSize:)``.
    public var payloadSize: Int?

    /// How many past events the numbered stream can replay; `nil` (the default) replays any.
    ///
    /// The server remembers, per ``key``, the highest ID it has sent. When a request's `Last-Event-ID`
    /// is older than the last `history` of those, the stream resumes at the oldest one still held,
    /// leaving a gap, as a real server with a bounded ring buffer does.
    public var history: Int?

    /// When set, the body starts with `retry: <milliseconds>`. `nil` by default.
    public var retry: Duration?

    /// The time between `:` heartbeat comments; `nil` (the default) uses the server's
    /// ``TestServer/Configuration/heartbeatInterval``. The first comment comes one interval after the head.
    /// `.zero` sends none, whatever the configuration says (query `heartbeat=none`).
    public var heartbeat: Duration?

    /// Cuts the response after this many events; `nil` by default. Counts events of this response only.
    public var dropAfterEvents: Int?

    /// Cuts the response after exactly this many body bytes, counted before compression and framing,
    /// so the cut can fall mid-line, mid-CRLF or mid-UTF-8. `nil` by default.
    public var dropAfterBytes: Int?

    /// How the response ends; `nil` (the default) means ``Ending/finish`` when the content runs out and
    /// ``Ending/close`` when ``dropAfterEvents`` or ``dropAfterBytes`` cuts it.
    public var ending: Ending?

    /// When set, the server hangs at this point instead of answering. `nil` by default.
    public var hang: Hang?

    /// When set, the server answers with this status instead of the stream (for the first ``statusTimes``
    /// requests). `nil` by default.
    ///
    /// Redirects (`301`, `302`, `303`, `307`, `308`) carry ``location``; `204` has no body; any other
    /// status has a short `text/plain` body. A `200` serves the stream as usual.
    public var status: Int?

    /// How many requests (per ``key``) get ``status`` before the server recovers and serves the stream;
    /// `nil` (the default) means every request.
    public var statusTimes: Int?

    /// The value of the `Retry-After` header sent with ``status``, such as `"2"`; `nil` (the default) sends none.
    public var retryAfter: String?

    /// The body sent with ``status`` instead of the short `text/plain` one, as `application/json`
    /// when it starts with `{` (an API's error object); `nil` by default.
    public var statusBody: String?

    /// The `Location` of a redirect ``status``; `"/events"` when `nil` (the default).
    public var location: String?

    /// The `Content-Type` of the stream; `nil` (the default) sends `text/event-stream`, and an empty
    /// string sends no `Content-Type` header at all.
    public var contentType: String?

    /// When set, the stream is sent as is (not chunked) under `Content-Length: N`, a length the body
    /// need not reach: with the default ending the server closes early, with ``Ending/hang`` it goes
    /// quiet (query `contentLength=N`). A longer body is cut after `N` bytes (counted before
    /// compression), so a large `N` on an endless stream streams on. `nil` by default.
    public var declaredContentLength: Int?

    /// The largest write, in bytes, down to 1; `nil` (the default) writes each piece of the stream whole.
    public var writeSize: Int?

    /// The pause between two writes of a split piece (see ``writeSize``). Zero by default.
    public var writeDelay: Duration

    /// Whether the body is gzip-compressed. ``Compression/none`` by default.
    public var compression: Compression

    /// How the body is delimited. ``Framing/chunked`` by default.
    public var framing: Framing

    /// When set, requests without `Authorization: Bearer <token>` get `401 Unauthorized`. `nil` by default.
    public var bearerToken: String?

    /// The line endings of generated streams (numbered, echo, hub); raw bytes are sent as given.
    /// ``LineEnding/lf`` by default (query `newline=lf|crlf|cr`).
    public var lineEnding: LineEnding

    /// Whether numbered data ends with multi-byte UTF-8 text (` é東😀`), so a byte-exact drop can
    /// fall inside a character (query `unicode=1`). `false` by default.
    public var unicodePayload: Bool

    /// Whether each numbered event's data is `{"n":N,"sent_us":T}`, T the wall-clock time it was
    /// written in microseconds since the epoch, for a load tester's delivery latency
    /// (`sse-listen load --timestamp-field sent_us`; query `stamp=1`). `false` by default.
    public var stampsEvents: Bool

    /// The name of the counters this request shares with others (``statusTimes``, ``history``); `nil`
    /// (the default) uses the request target (path and query, without a `starting_after` parameter),
    /// so reconnects to the same URL, and resumptions of a Responses stream, share them.
    public var key: String?

    /// The options of a ``Content/model(_:)`` stream: its length and API-specific faults. Other
    /// content ignores them. The defaults of ``ModelStream`` by default.
    public var modelStream: ModelStream

    // The options below break one promise each, for `sse-listen verify` (see `Scenario+BrokenPromises.swift`).

    /// Whether the numbered stream is a live feed on one clock for all its clients (query `live=1`).
    /// `false` by default.
    ///
    /// Event `n` is due at `start + n × interval` (plus the ``silence`` before it), where `start` is
    /// when the first request under the ``key`` arrived, and every connection is sent it then, so two
    /// connections to the same URL see the same IDs at the same time. A connection without
    /// `Last-Event-ID` gets the events due after it connects; `Last-Event-ID: n` gets `n + 1` and the
    /// other events already due at once, then the rest on time. Needs an interval above zero.
    public var isLive: Bool

    /// How a request with `Last-Event-ID` resumes the numbered stream or the hub.
    /// ``Replay/resume`` (the promise kept) by default (query `replay=`).
    public var replay: Replay

    /// When set, every `K`-th event's ID goes out early, on an `id:`-only block right after the
    /// event before it, and the event follows on time without an `id:` field (query `earlyID=K`).
    /// `nil` by default.
    ///
    /// The block dispatches nothing (it has no data) but moves the reader's last event ID past an
    /// event it has not received, so a client that drops in between resumes after it and loses it.
    /// An event that is the first of its response keeps its ID.
    public var earlyIDEvery: Int?

    /// When set, the body is held back until this many events are waiting, then written at once,
    /// as a proxy that buffers does (query `holdEvents=N`); comments wait with them. What is held
    /// is written before the response ends. `nil` by default.
    public var holdEvents: Int?

    /// When set, the body is held back and written in pieces of exactly this many bytes, cut
    /// wherever they fall, as a proxy with a buffer of that size does (query `holdBytes=B`). What
    /// is held is written before the response ends. `nil` by default.
    public var holdBytes: Int?

    /// The `Cache-Control` header of the stream: `no-cache` by default (query `cacheControl=none`
    /// sends none, any other value is sent instead).
    public var cacheControl: HeaderValue

    /// The `X-Accel-Buffering` header of the stream, which tells nginx-style proxies not to buffer:
    /// `no` by default (query `accelBuffering=none` sends none, any other value is sent instead).
    public var accelBuffering: HeaderValue

    /// When set, the numbered stream pauses this long after every ``silenceEvery``-th event
    /// number, on top of the interval (query `silence=MS`); heartbeats keep their own time, so
    /// the silence shows whether the stream has any. `nil` by default.
    public var silence: Duration?

    /// Which event numbers a ``silence`` follows: the multiples of this (query `silenceEvery=K`).
    /// 10 by default.
    public var silenceEvery: Int

    /// When set, a request whose `Last-Event-ID` this stream never issued gets this status
    /// instead of a stream (query `unknownID=500`). `nil` (the default) serves it a stream, as a
    /// fresh connection.
    ///
    /// Never issued: not a decimal number; for the hub, above its newest ID; for a live stream,
    /// above the newest event due; for the numbered stream, above the highest number sent under
    /// the ``key`` (or above ``count``).
    public var unknownIDStatus: Int?

    /// When set, the body starts with `retry: <retryText>`, sent as is, in place of ``retry``
    /// (query `retryText=1.5s`). One line: it must not contain CR or LF. `nil` by default.
    public var retryText: String?

    /// When set, the stream is served under this status instead of `200` (query `streamStatus=203`).
    /// `nil` by default. Unlike ``status``, the body is the stream.
    public var streamStatus: Int?

    /// Creates a scenario; every option has the default its property documents.
    public init(
        content: Content = .numbered,
        count: Int? = nil,
        interval: Duration? = nil,
        eventType: String? = nil,
        payloadSize: Int? = nil
    ) {
        self.content = content
        self.count = count
        self.interval = interval
        self.eventType = eventType
        self.payloadSize = payloadSize
        self.history = nil
        self.retry = nil
        self.heartbeat = nil
        self.dropAfterEvents = nil
        self.dropAfterBytes = nil
        self.ending = nil
        self.hang = nil
        self.status = nil
        self.statusTimes = nil
        self.statusBody = nil
        self.retryAfter = nil
        self.location = nil
        self.contentType = nil
        self.declaredContentLength = nil
        self.writeSize = nil
        self.writeDelay = .zero
        self.compression = .none
        self.framing = .chunked
        self.bearerToken = nil
        self.lineEnding = .lf
        self.unicodePayload = false
        self.stampsEvents = false
        self.key = nil
        self.modelStream = ModelStream()
        self.isLive = false
        self.replay = .resume
        self.earlyIDEvery = nil
        self.holdEvents = nil
        self.holdBytes = nil
        self.cacheControl = .standard
        self.accelBuffering = .standard
        self.silence = nil
        self.silenceEvery = 10
        self.unknownIDStatus = nil
        self.retryText = nil
        self.streamStatus = nil
    }
}

// MARK: - Presets

extension Scenario {
    /// The numbered stream: events `1...count` (endless when `count` is `nil`), `interval` apart.
    ///
    /// - Parameters:
    ///   - count: The last event ID; `nil` (the default) never ends.
    ///   - interval: The time between events; `nil` (the default) uses the server's tick interval.
    ///   - eventType: The `event:` field; `nil` (the default) sends none.
    ///   - payloadSize: The data length in bytes; `nil` (the default) sends just the number.
    public static func numbered(
        count: Int? = nil,
        interval: Duration? = nil,
        eventType: String? = nil,
        payloadSize: Int? = nil
    ) -> Scenario {
        Scenario(content: .numbered, count: count, interval: interval, eventType: eventType, payloadSize: payloadSize)
    }

    /// One event (`id: 1`) whose data is `size` bytes long, then the end of the response.
    public static func largeEvent(size: Int) -> Scenario {
        Scenario(content: .numbered, count: 1, payloadSize: size)
    }

    /// A body of exactly `bytes`, for malformed streams, then the end of the response.
    public static func raw(_ bytes: [UInt8]) -> Scenario {
        Scenario(content: .raw(bytes))
    }

    /// A body of exactly the UTF-8 of `text`, then the end of the response.
    public static func raw(_ text: String) -> Scenario {
        Scenario(content: .raw(Array(text.utf8)))
    }

    /// One `echo` event whose data describes the request as JSON (see ``Content/echo``).
    public static let echo = Scenario(content: .echo)

    /// Reads the request and never answers.
    public static let hangBeforeHeaders: Scenario = {
        var scenario = Scenario()
        scenario.hang = .beforeHeaders
        return scenario
    }()

    /// Sends the head of a `200` event stream and then nothing.
    public static let hangAfterHeaders: Scenario = {
        var scenario = Scenario()
        scenario.hang = .afterHeaders
        return scenario
    }()

    /// Sends a `200` status line and then header fields forever, one every `interval` (`.zero`
    /// floods), never ending the head.
    public static func endlessHeaders(every interval: Duration) -> Scenario {
        var scenario = Scenario(interval: interval)
        scenario.hang = .endlessHeaders
        return scenario
    }

    /// Answers `status` to the first `times` requests (every request when `nil`), then serves the stream.
    ///
    /// - Parameters:
    ///   - status: The status code, such as `401`, `404`, `429`, `500` or `503`.
    ///   - times: How many requests get it; `nil` (the default) means every one.
    ///   - retryAfter: The `Retry-After` header value; `nil` (the default) sends none.
    public static func status(_ status: Int, times: Int? = nil, retryAfter: String? = nil) -> Scenario {
        var scenario = Scenario()
        scenario.status = status
        scenario.statusTimes = times
        scenario.retryAfter = retryAfter
        return scenario
    }

    /// Returns a copy whose ``status`` answers carry `body`, such as a JSON error object.
    public func statusBody(_ body: String) -> Scenario {
        var copy = self
        copy.statusBody = body
        return copy
    }

    /// Redirects with `status` (`301`, `302`, `307`, …) to `location`, for the first `times` requests.
    public static func redirect(_ status: Int = 307, to location: String, times: Int? = nil) -> Scenario {
        var scenario = Scenario()
        scenario.status = status
        scenario.statusTimes = times
        scenario.location = location
        return scenario
    }
}

// MARK: - Modifiers

extension Scenario {
    /// Returns a copy that cuts each response after `events` events and then ends it with `ending`.
    public func droppingAfter(events: Int, with ending: Ending = .close) -> Scenario {
        var copy = self
        copy.dropAfterEvents = events
        copy.ending = ending
        return copy
    }

    /// Returns a copy that cuts each response after exactly `bytes` body bytes and then ends it with `ending`.
    public func droppingAfter(bytes: Int, with ending: Ending = .close) -> Scenario {
        var copy = self
        copy.dropAfterBytes = bytes
        copy.ending = ending
        return copy
    }

    /// Returns a copy that ends each response with `ending`.
    public func ending(with ending: Ending) -> Scenario {
        var copy = self
        copy.ending = ending
        return copy
    }

    /// Returns a copy that starts the body with `retry: <milliseconds>`.
    public func retrying(after reconnectionTime: Duration) -> Scenario {
        var copy = self
        copy.retry = reconnectionTime
        return copy
    }

    /// Returns a copy that sends a `:` comment every `interval`.
    public func heartbeat(every interval: Duration) -> Scenario {
        var copy = self
        copy.heartbeat = interval
        return copy
    }

    /// Returns a copy that answers `status` to the first `times` requests before serving this scenario.
    public func failing(with status: Int, times: Int? = nil, retryAfter: String? = nil) -> Scenario {
        var copy = self
        copy.status = status
        copy.statusTimes = times
        copy.retryAfter = retryAfter
        return copy
    }

    /// Returns a copy that writes the body in writes of at most `size` bytes, `delay` apart.
    public func tinyWrites(size: Int = 1, delay: Duration = .zero) -> Scenario {
        var copy = self
        copy.writeSize = size
        copy.writeDelay = delay
        return copy
    }

    /// Returns a copy that compresses the body with gzip, by default only when the client accepts it.
    public func gzip(_ compression: Compression = .whenAccepted) -> Scenario {
        var copy = self
        copy.compression = compression
        return copy
    }

    /// Returns a copy that sends `contentType` instead of `text/event-stream` (none when empty).
    public func contentType(_ contentType: String) -> Scenario {
        var copy = self
        copy.contentType = contentType
        return copy
    }

    /// Returns a copy that delimits the body with `framing`.
    public func framing(_ framing: Framing) -> Scenario {
        var copy = self
        copy.framing = framing
        return copy
    }

    /// Returns a copy sent unchunked under `Content-Length: length`, which the body need not reach.
    public func declaringContentLength(_ length: Int) -> Scenario {
        var copy = self
        copy.declaredContentLength = length
        return copy
    }

    /// Returns a copy that requires `Authorization: Bearer <token>`.
    public func requiringBearerToken(_ token: String) -> Scenario {
        var copy = self
        copy.bearerToken = token
        return copy
    }

    /// Returns a copy whose generated lines end with `lineEnding`.
    public func lineEnding(_ lineEnding: LineEnding) -> Scenario {
        var copy = self
        copy.lineEnding = lineEnding
        return copy
    }

    /// Returns a copy whose numbered data ends with multi-byte UTF-8 text.
    public func unicodePayload(_ enabled: Bool = true) -> Scenario {
        var copy = self
        copy.unicodePayload = enabled
        return copy
    }

    /// Returns a copy whose counters are shared under `key`.
    public func keyed(_ key: String) -> Scenario {
        var copy = self
        copy.key = key
        return copy
    }
}

// MARK: - The numbered stream

extension Scenario {
    /// The data of numbered event `n`: the decimal number, padded with `.` to `payloadSize` bytes.
    ///
    /// `numberedData(7, payloadSize: nil)` is `"7"`, `numberedData(7, payloadSize: 4)` is `"7..."`;
    /// a size smaller than the number's digits gives just the number.
    ///
    /// With `unicode`, the text ` é東😀` follows (after any padding).
    public static func numberedData(_ n: Int, payloadSize: Int?, unicode: Bool = false) -> String {
        let number = String(n)
        let suffix = unicode ? " é東😀" : ""
        guard let payloadSize, payloadSize > number.utf8.count else { return number + suffix }
        return number + String(repeating: ".", count: payloadSize - number.utf8.count) + suffix
    }

    /// Numbered event `n` as this scenario sends it (stamped now, with ``stampsEvents``).
    public func numberedEvent(_ n: Int) -> ServerSentEvent {
        let data: String
        if stampsEvents {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            data = "{\"n\":\(n),\"sent_us\":\(Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000)}"
        } else {
            data = Self.numberedData(n, payloadSize: payloadSize, unicode: unicodePayload)
        }
        return ServerSentEvent(id: String(n), type: eventType ?? ServerSentEvent.defaultType, data: data)
    }

    /// The numbered events carry the time they were written (see ``stampsEvents``).
    public func stamped(_ enabled: Bool = true) -> Scenario {
        var copy = self
        copy.stampsEvents = enabled
        return copy
    }
}
