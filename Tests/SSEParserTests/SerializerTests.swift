import Foundation
import SSEParser
import Testing

@Suite("Serializing events")
struct SerializerTests {
    @Test("an event is written as id, event and data lines and a blank line")
    func basicLayout() {
        var serializer = EventStreamSerializer()
        let text = serializer.serialize(ServerSentEvent(id: "7", type: "update", data: "a\nb"))
        #expect(text == "id: 7\nevent: update\ndata: a\ndata: b\n\n")
        #expect(serializer.lastEventID == "7")
    }

    @Test("the default type and an unchanged id are not repeated")
    func omitsRedundantLines() {
        var serializer = EventStreamSerializer()
        #expect(serializer.serialize(ServerSentEvent(id: "1", data: "x")) == "id: 1\ndata: x\n\n")
        #expect(serializer.serialize(ServerSentEvent(id: "1", data: "y")) == "data: y\n\n")
        #expect(serializer.serialize(ServerSentEvent(id: "", data: "z")) == "id\ndata: z\n\n")
    }

    @Test("comments and retry lines")
    func commentsAndRetry() {
        #expect(EventStreamSerializer.comment("ping") == ":ping\n")
        #expect(EventStreamSerializer.comment("a\nb") == ":a\n:b\n")
        #expect(EventStreamSerializer.retry(.milliseconds(2500)) == "retry: 2500\n")
        #expect(EventStreamSerializer.retry(.seconds(-1)) == "retry: 0\n")
    }

    static let roundTripEvents: [[ServerSentEvent]] = [
        [ServerSentEvent(data: "")],
        [ServerSentEvent(data: "  two leading spaces"), ServerSentEvent(data: "trailing  ")],
        [ServerSentEvent(data: "\n"), ServerSentEvent(data: "\n\nx\n")],
        [ServerSentEvent(id: "1", data: "a"), ServerSentEvent(id: "1", data: "b"), ServerSentEvent(id: "", data: "c")],
        [ServerSentEvent(id: " spaced", type: " typed", data: ": not a comment")],
        [ServerSentEvent(type: "message", data: "data: nested")],
        [ServerSentEvent(id: "é", type: "東京", data: "😀\u{0000}")],
    ]

    @Test("what the serializer writes parses back to the same events", arguments: roundTripEvents)
    func roundTrip(events: [ServerSentEvent]) throws {
        var serializer = EventStreamSerializer()
        let text = events.map { serializer.serialize($0) }.joined()
        let outcome = parseEveryWay(text)
        #expect(outcome.events == events)
        #expect(outcome.lastEventID == serializer.lastEventID)
    }

    @Test("line breaks are normalised so they cannot break the framing")
    func lineBreaksNormalised() {
        var serializer = EventStreamSerializer()
        let text = serializer.serialize(ServerSentEvent(id: "1\r\n2", type: "a\rb", data: "x\r\ny\rz"))
        #expect(parseEveryWay(text).events == [ServerSentEvent(id: "12", type: "ab", data: "x\ny\nz")])
    }

    @Test("randomly generated events round-trip")
    func randomRoundTrip() {
        var random = SplitMix64(seed: 99)
        let pieces = ["a", " ", "\n", ":", "data: ", "é", "😀", "id", "", "\u{0000}"]
        for _ in 0..<500 {
            var serializer = EventStreamSerializer()
            let events = (0..<Int.random(in: 1...5, using: &random)).map { _ in
                func text(_ count: Int) -> String {
                    (0..<count).map { _ in pieces.randomElement(using: &random)! }.joined()
                }
                let id = Bool.random(using: &random) ? "" : text(2).filter { $0 != "\n" && $0 != "\u{0000}" }
                let type = Bool.random(using: &random) ? "message" : text(2).filter { $0 != "\n" }
                return ServerSentEvent(id: id, type: type, data: text(Int.random(in: 0...6, using: &random)))
            }
            let text = events.map { serializer.serialize($0) }.joined()
            let parsed = parse(Array(text.utf8))
            guard parsed.events == events else {
                Issue.record("\(events) serialized as \(text.debugDescription) parsed as \(parsed.events)")
                return
            }
        }
    }

    @Test("ServerSentEvent encodes to and decodes from JSON with id, event and data keys")
    func codable() throws {
        let event = ServerSentEvent(id: "3", type: "tick", data: "{\"n\":3}")
        let json = try JSONEncoder().encode(event)
        let object = try JSONDecoder().decode([String: String].self, from: json)
        #expect(object == ["id": "3", "event": "tick", "data": "{\"n\":3}"])
        #expect(try JSONDecoder().decode(ServerSentEvent.self, from: json) == event)
        let minimal = try JSONDecoder().decode(ServerSentEvent.self, from: Data(#"{"data":"x"}"#.utf8))
        #expect(minimal == ServerSentEvent(data: "x"))
    }

    @Test("an empty type is stored as the default type")
    func emptyTypeIsMessage() {
        #expect(ServerSentEvent(type: "", data: "x").type == "message")
    }
}
