extension EventStreamParser {
    /// Limits that keep a broken or hostile stream from growing memory without bound.
    public struct Configuration: Sendable, Hashable {
        /// The largest event the parser accepts, in bytes of UTF-8: its data (with the LF between
        /// lines), event type and ID together with the line being read. Default: 16 MiB.
        ///
        /// A line that never ends counts too, so a server that sends an endless line is stopped
        /// at this size with ``EventStreamError/eventTooLarge(limit:)`` rather than filling memory.
        public var maximumEventSize: Int

        /// Creates a configuration.
        ///
        /// - Parameter maximumEventSize: The largest event accepted, in bytes; 16 MiB by default.
        ///   Values below 1 are treated as 1.
        public init(maximumEventSize: Int = 16 * 1024 * 1024) {
            self.maximumEventSize = max(1, maximumEventSize)
        }

        /// The defaults: events up to 16 MiB.
        public static let `default` = Configuration()
    }
}
