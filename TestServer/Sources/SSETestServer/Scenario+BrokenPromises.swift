extension Scenario {
    /// Where a request with `Last-Event-ID: n` resumes the numbered stream or the hub.
    ///
    /// Only ``resume`` keeps the promise; each other case breaks it one way, on the numbered
    /// stream (live or not) and on the hub alike. A request without `Last-Event-ID`, or with one the
    /// stream never issued (see ``Scenario/unknownIDStatus``), is served as a fresh connection
    /// whatever the replay.
    public enum Replay: String, Sendable, Hashable, CaseIterable {
        /// Resume after the event named: `n + 1` comes first (query `replay=resume`, the default).
        case resume
        /// Repeat the event named: `n` comes first, again (query `replay=repeat`).
        case repeatLast = "repeat"
        /// Skip one: `n + 2` comes first, and `n + 1` is never sent to that connection
        /// (query `replay=skip`).
        case skipOne = "skip"
        /// No replay: ignore `Last-Event-ID` and start after the newest event (query `replay=newest`).
        ///
        /// The newest event is, for the hub, the last one published; for a live stream, the last one
        /// due; for the numbered stream, the highest number sent under the ``Scenario/key`` to any
        /// connection. A client that reconnects sooner than the next event may see no gap.
        case newest
    }

    /// A header field that the stream's head carries by default, and how a scenario changes it.
    public enum HeaderValue: Sendable, Hashable {
        /// The well-behaved value, which the property's documentation names (the parameter left out).
        case standard
        /// No such header field at all (query value `none`).
        case omitted
        /// This value instead, sent as is (any other query value).
        case custom(String)
    }
}

// MARK: - Modifiers

extension Scenario {
    /// Returns a copy whose numbered stream is a live feed on one clock for all its clients
    /// (see ``isLive``); it needs an interval above zero.
    public func live(_ enabled: Bool = true) -> Scenario {
        var copy = self
        copy.isLive = enabled
        return copy
    }

    /// Returns a copy that resumes `Last-Event-ID` as `replay` says; ``Replay/resume`` keeps the promise.
    public func replaying(_ replay: Replay) -> Scenario {
        var copy = self
        copy.replay = replay
        return copy
    }

    /// Returns a copy that sends every `k`-th event's ID early, on an `id:`-only block right after the
    /// event before it (see ``earlyIDEvery``).
    public func sendingIDsEarly(every k: Int) -> Scenario {
        var copy = self
        copy.earlyIDEvery = k
        return copy
    }

    /// Returns a copy that holds the body back until `events` events are waiting, then writes them at once.
    public func holdingBack(events: Int) -> Scenario {
        var copy = self
        copy.holdEvents = events
        return copy
    }

    /// Returns a copy that holds the body back and writes it in pieces of exactly `bytes` bytes.
    public func holdingBack(bytes: Int) -> Scenario {
        var copy = self
        copy.holdBytes = bytes
        return copy
    }

    /// Returns a copy that sends no `Cache-Control` header.
    public func withoutCacheControl() -> Scenario {
        var copy = self
        copy.cacheControl = .omitted
        return copy
    }

    /// Returns a copy that sends `Cache-Control: value` instead of `no-cache`.
    public func cacheControl(_ value: String) -> Scenario {
        var copy = self
        copy.cacheControl = .custom(value)
        return copy
    }

    /// Returns a copy that sends no `X-Accel-Buffering` header.
    public func withoutAccelBuffering() -> Scenario {
        var copy = self
        copy.accelBuffering = .omitted
        return copy
    }

    /// Returns a copy that sends `X-Accel-Buffering: value` instead of `no`.
    public func accelBuffering(_ value: String) -> Scenario {
        var copy = self
        copy.accelBuffering = .custom(value)
        return copy
    }

    /// Returns a copy that sends no heartbeat comments, even when the server's configuration has an interval.
    public func withoutHeartbeat() -> Scenario {
        var copy = self
        copy.heartbeat = .zero
        return copy
    }

    /// Returns a copy whose numbered stream pauses for `silence` after every multiple of `events`.
    ///
    /// - Parameters:
    ///   - silence: How long each pause lasts, on top of the interval.
    ///   - events: Which event numbers a pause follows: the multiples of this; 10 by default.
    public func pausing(for silence: Duration, every events: Int = 10) -> Scenario {
        var copy = self
        copy.silence = silence
        copy.silenceEvery = events
        return copy
    }

    /// Returns a copy that answers `status` to a `Last-Event-ID` the stream never issued
    /// (see ``unknownIDStatus``).
    public func rejectingUnknownLastEventID(status: Int = 500) -> Scenario {
        var copy = self
        copy.unknownIDStatus = status
        return copy
    }

    /// Returns a copy that starts the body with `retry: <text>`, as is, such as `"1.5s"` or `"abc"`.
    public func retrying(text: String) -> Scenario {
        var copy = self
        copy.retryText = text
        return copy
    }

    /// Returns a copy that serves the stream under `status` (such as `203`) instead of `200`.
    public func streamStatus(_ status: Int) -> Scenario {
        var copy = self
        copy.streamStatus = status
        return copy
    }
}
