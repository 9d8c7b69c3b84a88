import SSEParser
import Testing

/// One test per rule of the WHATWG HTML standard, section 9.2.5-9.2.6 ("Parsing an event
/// stream", "Interpreting an event stream"). Every input is also parsed one byte at a time and
/// split at every position, and must give the same result (see `parseEveryWay`).
@Suite("WHATWG event stream interpretation")
struct EventStreamSpecTests {
    // MARK: Decoding

    @Test("the stream is UTF-8; invalid bytes become U+FFFD")
    func invalidUTF8IsReplaced() {
        let outcome = parseEveryWay([UInt8]("data: caf".utf8) + [0xFF] + [UInt8]("é\n\n".utf8))
        #expect(outcome.items == [message("caf\u{FFFD}é")])
    }

    @Test(
        "invalid sequences are replaced per maximal subpart, as the Encoding standard's decoder does",
        arguments: [
            ([0xC3] as [UInt8], "\u{FFFD}"),  // truncated 2-byte sequence
            ([0xE2, 0x82], "\u{FFFD}"),  // truncated 3-byte sequence: one replacement
            ([0xC0, 0xAF], "\u{FFFD}\u{FFFD}"),  // overlong: C0 is never valid
            ([0xED, 0xA0, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}"),  // encoded surrogate
            ([0xF4, 0x90, 0x80, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),  // above U+10FFFF
            ([0xF0, 0x9F, 0x98], "\u{FFFD}"),  // truncated 4-byte sequence
            ([0x80], "\u{FFFD}"),  // lone continuation byte
        ]
    )
    func replacementFollowsMaximalSubparts(bytes: [UInt8], expected: String) {
        let outcome = parseEveryWay([UInt8]("data: <".utf8) + bytes + [UInt8](">\n\n".utf8))
        #expect(outcome.items == [message("<\(expected)>")])
    }

    @Test("a multi-byte character split across chunks decodes whole")
    func splitMultiByteCharacter() {
        let outcome = parseEveryWay("data: 東京 😀 €\n\n")
        #expect(outcome.items == [message("東京 😀 €")])
    }

    @Test("one leading U+FEFF byte order mark is skipped")
    func leadingByteOrderMarkIsSkipped() {
        #expect(parseEveryWay("\u{FEFF}data: a\n\n").items == [message("a")])
    }

    @Test("only one byte order mark is skipped: a second one is part of the first line")
    func secondByteOrderMarkIsKept() {
        // The first line's field name is "\u{FEFF}data", an unknown field.
        #expect(parseEveryWay("\u{FEFF}\u{FEFF}data: a\n\ndata: b\n\n").items == [message("b")])
    }

    @Test("a byte order mark after the start of the stream is not skipped")
    func byteOrderMarkLaterIsKept() {
        #expect(parseEveryWay("data: a\n\n\u{FEFF}data: b\n\n").items == [message("a")])
        #expect(parseEveryWay("data: \u{FEFF}b\n\n").items == [message("\u{FEFF}b")])
    }

    @Test("a truncated byte order mark is ordinary (invalid) text")
    func truncatedByteOrderMark() {
        let outcome = parseEveryWay([0xEF, 0xBB] + [UInt8](":x\ndata: a\n\n".utf8))
        // EF BB is a truncated sequence: one U+FFFD, so the first line is a field named
        // "\u{FFFD}", not a comment.
        #expect(outcome.items == [message("a")])
        #expect(parseEveryWay([0xEF, 0xBB]).items == [])
        #expect(parseEveryWay([0xEF, 0xBB, 0x0A, 0x0A]).items == [])
    }

    @Test("a new stream after finish() may start with a byte order mark again")
    func byteOrderMarkAfterFinish() throws {
        var parser = EventStreamParser()
        #expect(try parser.parse(Array("\u{FEFF}data: a\n\n".utf8)) == [message("a")])
        parser.finish()
        #expect(try parser.parse(Array("\u{FEFF}data: b\n\n".utf8)) == [message("b")])
    }

    // MARK: Lines

    @Test(
        "lines end with CRLF, LF or CR",
        arguments: ["\r\n", "\n", "\r"]
    )
    func lineEndings(newline: String) {
        let stream = "data: a\(newline)data: b\(newline)\(newline)"
        #expect(parseEveryWay(stream).items == [message("a\nb")])
    }

    @Test("mixed line endings in one stream")
    func mixedLineEndings() {
        let outcome = parseEveryWay("data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r: x\n\n")
        #expect(outcome.items == [message("a\nb\nc"), message("d"), .comment(" x")])
    }

    @Test("CR then LF is one line ending, even split across chunks; LF then CR is two")
    func carriageReturnLineFeedIsOneEnding() throws {
        var parser = EventStreamParser()
        #expect(try parser.parse(Array("data: a\r".utf8)) == [])
        // The LF completes the CRLF; it must not be read as a blank line that dispatches.
        #expect(try parser.parse(Array("\n".utf8)) == [])
        #expect(try parser.parse(Array("data: b\r".utf8)) == [])
        #expect(try parser.parse(Array("\n\r\n".utf8)) == [message("a\nb")])
        #expect(parseEveryWay("data: a\n\rdata: b\n\n").items == [message("a"), message("b")])
    }

    @Test("a CR at the end of a chunk followed by another CR is two line endings")
    func twoCarriageReturns() throws {
        var parser = EventStreamParser()
        #expect(try parser.parse(Array("data: a\r".utf8)) == [])
        #expect(try parser.parse(Array("\r".utf8)) == [message("a")])
    }

    // MARK: Fields

    @Test("a line starting with a colon is a comment: reported, never dispatched")
    func comments() {
        let outcome = parseEveryWay(":heartbeat\n: with space\n:\n\ndata: x\n: between\n\n")
        #expect(
            outcome.items == [
                .comment("heartbeat"), .comment(" with space"), .comment(""), .comment(" between"), message("x"),
            ]
        )
    }

    @Test("a line without a colon is a field name with an empty value")
    func fieldWithoutColon() {
        // "data" alone appends an empty line to the data buffer.
        #expect(parseEveryWay("data\n\n").items == [message("")])
        #expect(parseEveryWay("data\ndata\n\n").items == [message("\n")])
        #expect(parseEveryWay("event\ndata: x\n\n").items == [message("x")])
    }

    @Test("one leading space after the colon is removed, and only one")
    func leadingSpace() {
        let outcome = parseEveryWay("data:x\n\ndata: x\n\ndata:  x\n\ndata:\tx\n\ndata: x \n\n")
        #expect(outcome.items == [message("x"), message("x"), message(" x"), message("\tx"), message("x ")])
    }

    @Test("the value is everything after the first colon")
    func valueAfterFirstColon() {
        #expect(parseEveryWay("data: a:b: c\n\n").items == [message("a:b: c")])
        #expect(parseEveryWay("data::\n\n").items == [message(":")])
    }

    @Test("unknown fields are ignored")
    func unknownFields() {
        let outcome = parseEveryWay("foo: bar\ndata: x\nretryy: 5\nids: 3\ndat: y\n\n")
        #expect(outcome.items == [message("x")])
        #expect(outcome.lastEventID == "")
    }

    @Test("field names are case-sensitive")
    func caseSensitiveNames() {
        let outcome = parseEveryWay("Data: x\nEVENT: y\nID: 1\nRetry: 5\ndata: z\n\n")
        #expect(outcome.items == [message("z")])
        #expect(outcome.lastEventID == "")
    }

    @Test("a space before the colon is part of the field name")
    func spaceBeforeColon() {
        #expect(parseEveryWay("data : x\ndata: y\n\n").items == [message("y")])
    }

    // MARK: Data and dispatch

    @Test("data lines are joined with LF and the final LF is removed")
    func dataLinesJoined() {
        #expect(parseEveryWay("data: YHOO\ndata: +2\ndata: 10\n\n").items == [message("YHOO\n+2\n10")])
    }

    @Test("a block without data dispatches nothing, but resets the event type")
    func blockWithoutData() {
        let outcome = parseEveryWay("event: a\n\ndata: x\n\nevent: b\nid: 3\n\n")
        #expect(outcome.items == [message("x")])
        #expect(outcome.lastEventID == "3")
    }

    @Test("data with an empty value dispatches an event with empty data")
    func emptyData() {
        #expect(parseEveryWay("data:\n\ndata: \n\n").items == [message(""), message("")])
        #expect(parseEveryWay("data\ndata\n\n").items == [message("\n")])
    }

    @Test("blank lines with nothing buffered dispatch nothing")
    func blankLinesAlone() {
        #expect(parseEveryWay("\n\n\r\n\r\n").items == [])
    }

    @Test("the event type is the event field's value, message by default, reset after dispatch")
    func eventType() {
        let outcome = parseEveryWay(
            "event: add\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\nevent: a\nevent: b\ndata: 4\n\n")
        #expect(
            outcome.items == [
                message("1", type: "add"), message("2"), message("3"), message("4", type: "b"),
            ]
        )
    }

    @Test("the spec's examples: ids take effect at the blank line and persist; an empty id resets")
    func specExampleIDs() {
        let outcome = parseEveryWay(
            ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n")
        #expect(
            outcome.items == [
                .comment(" test stream"),
                message("first event", id: "1"),
                message("second event", id: ""),
                message(" third event", id: ""),
            ]
        )
        #expect(outcome.lastEventID == "")
    }

    @Test("the last event ID persists across events until changed")
    func lastEventIDPersists() {
        let outcome = parseEveryWay("id: 7\ndata: a\n\ndata: b\n\nid: 8\ndata: c\n\n")
        #expect(outcome.items == [message("a", id: "7"), message("b", id: "7"), message("c", id: "8")])
        #expect(outcome.lastEventID == "8")
    }

    @Test("an id takes effect when its block ends, even without data")
    func idWithoutData() {
        let outcome = parseEveryWay("id: 5\n\ndata: a\n\n")
        #expect(outcome.items == [message("a", id: "5")])
        #expect(parseEveryWay("id: 5\n\n").lastEventID == "5")
    }

    @Test("an id in a block cut off by the end of the stream is discarded")
    func idInUnterminatedBlock() {
        let outcome = parseEveryWay("id: 1\ndata: a\n\nid: 2\ndata: b\n")
        #expect(outcome.items == [message("a", id: "1")])
        #expect(outcome.lastEventID == "1")
    }

    @Test("an id containing U+0000 is ignored")
    func idWithNull() {
        let outcome = parseEveryWay("id: 1\n\nid: a\u{0000}b\ndata: x\n\n")
        #expect(outcome.items == [message("x", id: "1")])
    }

    @Test("an empty id resets the last event ID")
    func emptyIDResets() {
        #expect(parseEveryWay("id: 1\n\nid:\ndata: x\n\n").items == [message("x", id: "")])
        #expect(parseEveryWay("id: 1\n\nid\n\n").lastEventID == "")
    }

    @Test("the id can be any text, including spaces and non-ASCII")
    func idText() {
        #expect(parseEveryWay("id:  spaced id é\ndata: x\n\n").items == [message("x", id: " spaced id é")])
    }

    @Test("retry with ASCII digits only sets the reconnection time, at once")
    func retry() {
        let outcome = parseEveryWay("retry: 1500\nretry:0\ndata: x\n\n")
        #expect(outcome.items == [.retry(.milliseconds(1500)), .retry(.zero), message("x")])
    }

    @Test(
        "retry with anything but ASCII digits is ignored",
        arguments: [
            "retry: 1.5", "retry: -1", "retry: 10 ", "retry:  10", "retry: ", "retry", "retry: ١٢", "retry: 1e3",
        ]
    )
    func invalidRetry(line: String) {
        #expect(parseEveryWay("\(line)\ndata: x\n\n").items == [message("x")])
    }

    @Test("a huge retry value saturates instead of overflowing")
    func hugeRetry() {
        let outcome = parseEveryWay("retry: 99999999999999999999999999\n")
        #expect(outcome.items == [.retry(.milliseconds(Int64.max))])
    }

    @Test("an unterminated event at the end of the stream is discarded")
    func unterminatedEvent() {
        #expect(parseEveryWay("data: a\n\ndata: b\n").items == [message("a")])
        #expect(parseEveryWay("data: a\n\ndata: b").items == [message("a")])
        #expect(parseEveryWay("data: a").items == [])
    }

    @Test("finish() discards the event in progress; the next stream starts clean")
    func finishDiscards() throws {
        var parser = EventStreamParser()
        #expect(try parser.parse(Array("id: 1\n\nevent: x\nid: 2\ndata: partial\ndata: more".utf8)) == [])
        parser.finish()
        #expect(parser.lastEventID == "1")
        #expect(try parser.parse(Array("\ndata: next\n\n".utf8)) == [message("next", id: "1")])
    }

    @Test("a CR ending the previous stream does not swallow an LF starting the next")
    func finishClearsPendingCarriageReturn() throws {
        var parser = EventStreamParser()
        #expect(try parser.parse(Array("data: a\r".utf8)) == [])
        parser.finish()
        #expect(try parser.parse(Array("data: b\n\n".utf8)) == [message("b")])
        parser.finish()
        #expect(try parser.parse(Array("data: c\r".utf8)) == [])
        parser.finish()
        // A fresh stream starting with LF: a blank line with nothing buffered.
        #expect(try parser.parse(Array("\ndata: d\n\n".utf8)) == [message("d")])
    }

    @Test("an initial last event ID is used for events until the stream sets one")
    func initialLastEventID() throws {
        var parser = EventStreamParser(lastEventID: "41")
        #expect(
            try parser.parse(Array("data: a\n\nid: 42\ndata: b\n\n".utf8)) == [
                message("a", id: "41"), message("b", id: "42"),
            ])
    }

    @Test("the spec's example of empty data lines")
    func specExampleEmptyData() {
        #expect(parseEveryWay("data\n\ndata\ndata\n\ndata:").items == [message(""), message("\n")])
        #expect(parseEveryWay("data:test\n\ndata: test\n\n").items == [message("test"), message("test")])
    }

    @Test("NUL bytes in data are kept")
    func nullInData() {
        #expect(parseEveryWay("data: a\u{0000}b\n\n").items == [message("a\u{0000}b")])
    }

    // MARK: Limits

    @Test("an event up to the maximum size is accepted; the line being read counts whole")
    func eventAtLimit() {
        // The line "data: 123456789" is 15 bytes while it is read; the data buffer then holds 10.
        let fits = parseEveryWay("data: 123456789\n\n", configuration: .init(maximumEventSize: 15))
        #expect(fits.items == [message("123456789")])
        #expect(fits.error == nil)
        let tooLarge = parseEveryWay("data: 123456789\n\n", configuration: .init(maximumEventSize: 14))
        #expect(tooLarge.items == [])
        #expect(tooLarge.error == .eventTooLarge(limit: 14))
    }

    @Test("data lines that add up past the maximum size throw eventTooLarge")
    func manyDataLinesPastLimit() {
        // Each line is 11 bytes and leaves 6 in the data buffer: 6 + 11 fits in 20, 12 + 11 does not.
        let configuration = EventStreamParser.Configuration(maximumEventSize: 20)
        let outcome = parseEveryWay(
            "data: 1\n\ndata: 12345\ndata: 12345\ndata: 12345\n\n", configuration: configuration)
        #expect(outcome.items == [message("1")])
        #expect(outcome.error == .eventTooLarge(limit: 20))
    }

    @Test("an endless line throws eventTooLarge once it passes the maximum size")
    func endlessLine() throws {
        var parser = EventStreamParser(configuration: .init(maximumEventSize: 1024))
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 100)
        var thrown: EventStreamError?
        for _ in 0..<100 {
            do {
                _ = try parser.parse(chunk)
            } catch let error as EventStreamError {
                thrown = error
                break
            }
        }
        #expect(thrown == .eventTooLarge(limit: 1024))
        // The error is sticky until the stream is finished.
        #expect(throws: EventStreamError.eventTooLarge(limit: 1024)) { _ = try parser.parse(Array("\n\n".utf8)) }
        parser.finish()
        #expect(try parser.parse(Array("data: ok\n\n".utf8)) == [message("ok")])
    }

    @Test("an endless comment line is bounded too")
    func endlessComment() {
        let configuration = EventStreamParser.Configuration(maximumEventSize: 64)
        let outcome = parse(
            Array((":" + String(repeating: "x", count: 200)).utf8), chunkedAt: [10, 20, 70],
            configuration: configuration)
        #expect(outcome.error == .eventTooLarge(limit: 64))
    }

    @Test("the error says what happened and what to do")
    func errorDescription() {
        let description = EventStreamError.eventTooLarge(limit: 16).description
        #expect(description.contains("16 bytes"))
        #expect(description.contains("maximumEventSize"))
    }

    @Test("the default maximum event size is 16 MiB")
    func defaultLimit() {
        #expect(EventStreamParser.Configuration.default.maximumEventSize == 16 * 1024 * 1024)
    }
}
