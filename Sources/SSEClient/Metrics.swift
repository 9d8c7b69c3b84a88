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

        /// All reconnects, whatever their cause.
        public var totalReconnects: Int { reconnects.values.reduce(0, +) }
    }
}
