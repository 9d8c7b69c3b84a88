import SSEParser

extension EventSource {
    /// Which events mean something to the source itself rather than to its consumer: the
    /// terminator that completes a request-scoped stream (``Configuration/terminator``), or an
    /// in-band error (``Configuration/errorEvents``).
    ///
    /// ```swift
    /// configuration.terminator = .data("[DONE]")               // OpenAI chat completions
    /// configuration.terminator = .eventType("message_stop")    // Anthropic messages
    /// configuration.errorEvents = .eventType("error")
    /// ```
    ///
    /// Patterns match the parsed event, so `data:[DONE]` and `data: [DONE]` are the same event.
    public struct EventPattern: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: Sendable, Hashable {
            case data(String)
            case types(Set<String>)
            case predicate(Predicate)
        }

        /// A caller's predicate: equal only to itself, since closures cannot be compared.
        private final class Predicate: Sendable, Hashable {
            let matches: @Sendable (ServerSentEvent) -> Bool
            let description: String

            init(_ description: String, _ matches: @escaping @Sendable (ServerSentEvent) -> Bool) {
                self.description = description
                self.matches = matches
            }

            static func == (lhs: Predicate, rhs: Predicate) -> Bool { lhs === rhs }
            func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
        }

        private let kind: Kind

        private init(_ kind: Kind) {
            self.kind = kind
        }

        /// An event whose data is exactly `value`, such as `[DONE]`.
        public static func data(_ value: String) -> Self {
            Self(.data(value))
        }

        /// An event of type `type` (the `event:` field; `message` when the event has none).
        public static func eventType(_ type: String) -> Self {
            Self(.types([type]))
        }

        /// An event of any of these types.
        public static func eventTypes(_ types: Set<String>) -> Self {
            Self(.types(types))
        }

        /// An event for which `predicate` returns `true`, such as the JSON-RPC response that ends
        /// an MCP request's stream. `description` names it in errors ("the response to request 7").
        ///
        /// The predicate runs for every event on the consuming task: keep it cheap.
        public static func matching(
            _ description: String,
            _ predicate: @escaping @Sendable (ServerSentEvent) -> Bool
        ) -> Self {
            Self(.predicate(Predicate(description, predicate)))
        }

        /// Whether `event` matches.
        public func matches(_ event: ServerSentEvent) -> Bool {
            switch kind {
            case .data(let value): event.data == value
            case .types(let types): types.contains(event.type)
            case .predicate(let predicate): predicate.matches(event)
            }
        }

        /// What the pattern expects, for messages: `data "[DONE]"`, `event type message_stop`.
        public var description: String {
            switch kind {
            case .data(let value): "data \"\(value)\""
            case .types(let types) where types.count == 1: "event type \(types.first!)"
            case .types(let types): "event type \(types.sorted().joined(separator: " or "))"
            case .predicate(let predicate): predicate.description
            }
        }
    }
}
