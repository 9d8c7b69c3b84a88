import Foundation
import SSEListenCore
import SSEParser
import Testing

@Suite("formatters")
struct FormatterTests {
    static let awkwardStrings: [String] = [
        "", "plain", "quote \" and backslash \\", "line\nfeed\r\ncrlf\ttab", "\u{0}\u{1}\u{1F}\u{7F}\u{80}\u{9F}",
        "\u{1B}[31mred", "é 🎉 \u{FFFD} \u{2028}\u{2029}", "</script>", String(repeating: "x", count: 10_000),
        "\"", "\"\"in a row\\\n", #"{"id":"cmpl-1","choices":[{"delta":{"content":"é"}}]}"#,
    ]

    @Test("JSON quoting is valid JSON that decodes to the same string", arguments: awkwardStrings)
    func quoting(text: String) throws {
        let quoted = JSONText.quoted(text)
        let decoded = try JSONSerialization.jsonObject(with: Data(quoted.utf8), options: .fragmentsAllowed) as? String
        #expect(decoded == text)
        #expect(!quoted.unicodeScalars.contains { $0.value < 0x20 }, "no raw control characters")
    }

    @Test("jsonl: id, event and data in that order, one line")
    func jsonl() {
        var formatter = EventFormatter(format: .jsonl)
        let line = formatter.format(ServerSentEvent(id: "4\"2", type: "t", data: "a\nb"))
        #expect(String(decoding: line, as: UTF8.self) == #"{"id":"4\"2","event":"t","data":"a\nb"}"# + "\n")
        let empty = formatter.format(ServerSentEvent(data: ""))
        #expect(String(decoding: empty, as: UTF8.self) == #"{"id":"","event":"message","data":""}"# + "\n")
    }

    @Test("data: the data and a line feed")
    func data() {
        var formatter = EventFormatter(format: .data)
        #expect(formatter.format(ServerSentEvent(id: "1", data: "x y")) == Array("x y\n".utf8))
    }

    @Test("raw: a sequence of events, ids changing and resetting, parses back to the same events")
    func rawRoundTrip() throws {
        let events =
            [
                ServerSentEvent(id: "1", type: "a", data: "one"),
                ServerSentEvent(id: "1", data: "two\nlines"),
                ServerSentEvent(id: "", data: " leading space"),
                ServerSentEvent(id: "9", type: "b", data: ""),
                ServerSentEvent(id: "9", data: "\u{0}\u{1B}"),
            ]
            + Self.awkwardStrings.map {
                ServerSentEvent(id: "x", data: $0.replacingOccurrences(of: "\r\n", with: "\n"))
            }
        var formatter = EventFormatter(format: .raw)
        var bytes: [UInt8] = []
        for event in events { bytes += formatter.format(event) }
        var parser = EventStreamParser()
        let parsed = try parser.parse(bytes).compactMap { item -> ServerSentEvent? in
            if case .event(let event) = item { return event } else { return nil }
        }
        #expect(
            parsed
                == events.map {
                    ServerSentEvent(id: $0.id, type: $0.type, data: $0.data.replacingOccurrences(of: "\r", with: "\n"))
                })
    }

    @Test("pretty: time, type and id on one line, the data indented below")
    func pretty() {
        var formatter = EventFormatter(format: .pretty)
        let text = String(
            decoding: formatter.format(ServerSentEvent(id: "7", type: "up", data: "a\nb"), time: "12:00:00.000"),
            as: UTF8.self)
        #expect(text == "12:00:00.000 up #7\n  a\n  b\n")
        let noID = String(decoding: formatter.format(ServerSentEvent(data: ""), time: "T"), as: UTF8.self)
        #expect(noID == "T message\n  (empty)\n")
        let json = String(
            decoding: formatter.format(ServerSentEvent(data: #"{"a":{},"b":[]}"#), time: "T"), as: UTF8.self)
        #expect(json == "T message\n  {\n    \"a\": {},\n    \"b\": []\n  }\n")
    }

    @Test("pretty with colours: SGR sequences around time, type, id and JSON tokens")
    func prettyColours() {
        var formatter = EventFormatter(format: .pretty, style: TerminalStyle(colors: true))
        let text = String(
            decoding: formatter.format(ServerSentEvent(id: "1", type: "t", data: #"[1,"s",false]"#), time: "T"),
            as: UTF8.self)
        #expect(
            text
                == "\u{1B}[2mT\u{1B}[0m \u{1B}[1;36mt\u{1B}[0m \u{1B}[33m#1\u{1B}[0m\n"
                + "  [\n    \u{1B}[33m1\u{1B}[0m,\n    \u{1B}[32m\"s\"\u{1B}[0m,\n    \u{1B}[35mfalse\u{1B}[0m\n  ]\n"
        )
    }

    @Test(
        "pretty-printing keeps key order, numbers and escapes as sent",
        arguments: [
            (#"{"b":1,"a":2}"#, "{\n  \"b\": 1,\n  \"a\": 2\n}"),
            (#" [ -1.5e+3 , 0, "\u00e9\n" ] "#, "[\n  -1.5e+3,\n  0,\n  \"\\u00e9\\n\"\n]"),
            (#"{"a":{"b":{"c":null}}}"#, "{\n  \"a\": {\n    \"b\": {\n      \"c\": null\n    }\n  }\n}"),
        ]
    )
    func prettyPrinting(input: String, expected: String) {
        #expect(JSONText.prettyPrinted(input) == expected)
    }

    @Test(
        "not pretty-printed: scalars and anything that is not exactly JSON",
        arguments: [
            "42", "\"s\"", "true", "{", "[1,]", "{\"a\" 1}", "[01]", "[1.]", "[\"\u{1}\"]", "{\"a\":1} x", "[tru]",
            "[\"\\x\"]", "[\"\\u12\"]", "plain text",
            String(repeating: "[", count: 300) + String(repeating: "]", count: 300),
        ]
    )
    func notPrettyPrinted(input: String) {
        #expect(JSONText.prettyPrinted(input) == nil)
    }

    @Test("terminal sanitizing escapes ESC, CR, DEL and C1 controls but keeps tabs, line feeds and text")
    func sanitizing() {
        let plain = TerminalStyle.plain
        #expect(plain.sanitized("a\tb\nc é") == "a\tb\nc é")
        #expect(plain.sanitized("\u{1B}[2J\r\u{7F}\u{9B}") == "\\u{1B}[2J\\u{D}\\u{7F}\\u{9B}")
    }

    @Test("colours: auto needs a terminal, no NO_COLOR and a TERM other than dumb; always and never are final")
    func colourChoice() {
        #expect(TerminalStyle.resolve(.auto, isTerminal: true, environment: [:]).colors)
        #expect(!TerminalStyle.resolve(.auto, isTerminal: false, environment: [:]).colors)
        #expect(!TerminalStyle.resolve(.auto, isTerminal: true, environment: ["NO_COLOR": "1"]).colors)
        #expect(TerminalStyle.resolve(.auto, isTerminal: true, environment: ["NO_COLOR": ""]).colors)
        #expect(!TerminalStyle.resolve(.auto, isTerminal: true, environment: ["TERM": "dumb"]).colors)
        #expect(TerminalStyle.resolve(.always, isTerminal: false, environment: ["NO_COLOR": "1"]).colors)
        #expect(!TerminalStyle.resolve(.never, isTerminal: true, environment: [:]).colors)
    }

    @Test("the default format is pretty on a terminal, jsonl otherwise")
    func defaultFormat() {
        #expect(OutputFormat.defaultFormat(stdoutIsTerminal: true) == .pretty)
        #expect(OutputFormat.defaultFormat(stdoutIsTerminal: false) == .jsonl)
    }
}
