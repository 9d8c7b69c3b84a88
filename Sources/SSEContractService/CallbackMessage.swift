import SSEParser

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What a stream reports to the harness, one message per callback.
enum CallbackMessage: Sendable, Hashable {
    /// An event: `{"kind":"event","event":{"type":T,"data":D,"id":ID}}`, where the ID is the
    /// stream's last event ID when the event was dispatched (empty when none is set).
    case event(ServerSentEvent)
    /// A comment line without its colon: `{"kind":"comment","comment":TEXT}`.
    case comment(String)
    /// A failed connection attempt: `{"kind":"error","error":MESSAGE}`.
    case error(String)

    private struct Wire: Encodable {
        struct Event: Encodable {
            var type: String
            var data: String
            var id: String
        }

        var kind: String
        var event: Event?
        var comment: String?
        var error: String?
    }

    /// The JSON body of the callback.
    var json: [UInt8] {
        let wire: Wire =
            switch self {
            case .event(let event):
                Wire(kind: "event", event: .init(type: event.type, data: event.data, id: event.id))
            case .comment(let text):
                Wire(kind: "comment", comment: text)
            case .error(let message):
                Wire(kind: "error", error: message)
            }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings and optionals cannot fail.
        return Array(try! encoder.encode(wire))
    }
}
