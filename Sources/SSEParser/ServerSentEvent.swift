/// One event dispatched from a `text/event-stream`, as the WHATWG HTML standard defines it.
///
/// The values mirror what a browser's `MessageEvent` carries: the event type, the data
/// (lines joined with LF), and the *last event ID* in effect when the event was dispatched.
/// The ID is the stream's last event ID, not only an `id:` field in this event's own block:
/// once a server sets an ID it stays in effect for later events until the server changes it.
public struct ServerSentEvent: Sendable, Hashable, Codable {
    /// The last event ID in effect when this event was dispatched; empty when none was set.
    ///
    /// This is the value a client sends back in the `Last-Event-ID` header when it reconnects.
    public var id: String

    /// The event type: the value of the block's `event:` field, or `message` when it had none.
    public var type: String

    /// The event data: the values of the block's `data:` fields joined with LF (U+000A).
    public var data: String

    /// The event type the standard assigns to events without an `event:` field.
    public static let defaultType = "message"

    /// Creates an event.
    ///
    /// - Parameters:
    ///   - id: The last event ID in effect; empty (the default) when none is set.
    ///   - type: The event type; `message` by default. An empty type is stored as `message`,
    ///     which is what a parser would read back.
    ///   - data: The event data. Line breaks (CR, LF or CRLF) separate `data:` lines on the wire.
    public init(id: String = "", type: String = ServerSentEvent.defaultType, data: String) {
        self.id = id
        self.type = type.isEmpty ? Self.defaultType : type
        self.data = data
    }

    /// Creates an event from parts the parser has already normalised (the type is never empty).
    @inline(__always)
    init(validatedID id: String, type: String, data: String) {
        self.id = id
        self.type = type
        self.data = data
    }

    private enum CodingKeys: String, CodingKey {
        case id
        case type = "event"
        case data
    }

    /// Decodes an event from the keys `id`, `event` and `data`; `id` and `event` may be absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decodeIfPresent(String.self, forKey: .id) ?? "",
            type: try container.decodeIfPresent(String.self, forKey: .type) ?? Self.defaultType,
            data: try container.decode(String.self, forKey: .data)
        )
    }

    /// Encodes the event with the keys `id`, `event` and `data` (the field names of the wire format).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(data, forKey: .data)
    }
}

extension ServerSentEvent: CustomStringConvertible {
    /// A one-line summary for logs, such as `message #42: {"delta":"hi"}`.
    public var description: String {
        let idPart = id.isEmpty ? "" : " #\(id)"
        return "\(type)\(idPart): \(data.debugDescription)"
    }
}
