import SSEParser
import Testing

/// What parsing one whole stream produced.
struct ParseOutcome: Equatable, CustomStringConvertible {
    var items: [EventStreamItem]
    var lastEventID: String
    var error: EventStreamError?

    var events: [ServerSentEvent] {
        items.compactMap {
            if case .event(let event) = $0 { return event }
            return nil
        }
    }

    var description: String {
        "items: \(items), lastEventID: \(lastEventID.debugDescription), error: \(String(describing: error))"
    }
}

/// Parses `bytes` as one stream, cut into the given chunks, and ends it with `finish()`.
func parse(
    _ bytes: [UInt8],
    chunkedAt cuts: [Int] = [],
    configuration: EventStreamParser.Configuration = .default
) -> ParseOutcome {
    var parser = EventStreamParser(configuration: configuration)
    var items: [EventStreamItem] = []
    var start = 0
    do {
        for cut in cuts + [bytes.count] where cut >= start {
            try parser.parse(bytes[start..<cut]) { items.append($0) }
            start = cut
        }
        let lastEventID = parser.lastEventID
        parser.finish()
        #expect(parser.lastEventID == lastEventID, "finish() must keep the last event ID in effect")
        return ParseOutcome(items: items, lastEventID: parser.lastEventID, error: nil)
    } catch let error as EventStreamError {
        return ParseOutcome(items: items, lastEventID: parser.lastEventID, error: error)
    } catch {
        Issue.record("unexpected error \(error)")
        return ParseOutcome(items: items, lastEventID: parser.lastEventID, error: nil)
    }
}

func parse(_ text: String, configuration: EventStreamParser.Configuration = .default) -> ParseOutcome {
    parse(Array(text.utf8), configuration: configuration)
}

/// Parses `bytes` whole, one byte at a time, and split in two at every position, and expects
/// every way to give the same outcome; returns it.
@discardableResult
func parseEveryWay(
    _ bytes: [UInt8],
    configuration: EventStreamParser.Configuration = .default,
    sourceLocation: SourceLocation = #_sourceLocation
) -> ParseOutcome {
    let whole = parse(bytes, configuration: configuration)
    let byteByByte = parse(bytes, chunkedAt: Array(0..<bytes.count), configuration: configuration)
    #expect(byteByByte == whole, "one byte at a time", sourceLocation: sourceLocation)
    for cut in 0...bytes.count {
        let split = parse(bytes, chunkedAt: [cut], configuration: configuration)
        if split != whole {
            Issue.record("split at \(cut) gave \(split), whole gave \(whole)", sourceLocation: sourceLocation)
            break
        }
    }
    return whole
}

@discardableResult
func parseEveryWay(
    _ text: String,
    configuration: EventStreamParser.Configuration = .default,
    sourceLocation: SourceLocation = #_sourceLocation
) -> ParseOutcome {
    parseEveryWay(Array(text.utf8), configuration: configuration, sourceLocation: sourceLocation)
}

/// Shorthand for an expected event.
func message(_ data: String, type: String = "message", id: String = "") -> EventStreamItem {
    .event(ServerSentEvent(id: id, type: type, data: data))
}
