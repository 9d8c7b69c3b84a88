extension EventSource {
    /// Counters of one source since it was created.
    public struct Metrics: Sendable, Hashable {
        /// Connection attempts started.
        public var connections = 0
        /// Connections that opened an event stream.
        public var openedConnections = 0
        /// Reconnects scheduled, by what ended the previous connection.
        public var reconnects: [ReconnectCause: Int] = [:]
        /// Events delivered to the buffer (received and parsed).
        public var events = 0
        /// Comment lines received.
        public var comments = 0
        /// Response body bytes received (after decompression).
        public var bytes = 0
        /// Times the transfer was paused because the consumer fell behind.
        public var pauses = 0
        /// The most recent failure, if any.
        public var lastError: EventSourceError?
        /// The longest time an open stream sent no byte at all (events, comments, partial
        /// lines): from its response head, between reads, to its end. Time paused for a slow
        /// consumer does not count. Zero before a stream opened.
        public var longestSilence: Duration = .zero
        /// How long transfers were paused, in total, because the consumer fell behind.
        public var pausedTime: Duration = .zero

        /// Creates empty counters (the source makes its own; tests of code that reads them may too).
        public init() {}

        /// All reconnects, whatever their cause.
        public var totalReconnects: Int { reconnects.values.reduce(0, +) }
    }
}
