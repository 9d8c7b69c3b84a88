extension TestServer {
    /// Server-wide settings: the defaults that a ``Scenario`` does not set, and what applies to every request.
    public struct Configuration: Sendable, Hashable {
        /// The time between events of the numbered stream when the ``Scenario/interval`` is `nil`.
        /// Zero by default, so tests run fast; ``demo`` ticks once a second.
        public var tickInterval: Duration

        /// The time between `:` heartbeat comments when the ``Scenario/heartbeat`` is `nil`;
        /// `nil` (the default) sends none.
        public var heartbeatInterval: Duration?

        /// When set, every request but `OPTIONS` needs `Authorization: Bearer <token>`, or gets
        /// `401 Unauthorized`. `nil` by default.
        public var authToken: String?

        /// When set, every response carries `Access-Control-Allow-Origin` with this value and
        /// `OPTIONS` preflight requests are answered. `nil` by default.
        public var corsOrigin: String?

        /// How many published messages the broadcast hub keeps to replay. 100 by default.
        public var historyCapacity: Int

        /// Creates a configuration; every setting has the default its property documents.
        public init(
            tickInterval: Duration = .zero,
            heartbeatInterval: Duration? = nil,
            authToken: String? = nil,
            corsOrigin: String? = nil,
            historyCapacity: Int = 100
        ) {
            self.tickInterval = tickInterval
            self.heartbeatInterval = heartbeatInterval
            self.authToken = authToken
            self.corsOrigin = corsOrigin
            self.historyCapacity = historyCapacity
        }

        /// The settings for people watching a demo: one event a second, no heartbeat.
        public static let demo = Configuration(tickInterval: .seconds(1))
    }
}
