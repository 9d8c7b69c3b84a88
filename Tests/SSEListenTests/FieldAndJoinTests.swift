import ArgumentParser
import Foundation
import SSEListenCore
import SSEParser
import Testing

/// `--field PATH` and `-j/--join`, byte for byte: the formatter, a session made from arguments as
/// `sse-listen` makes it, and the combinations that are usage errors. No process, no socket.
@Suite("--field and --join")
struct FieldAndJoinTests {
    static let pipes = TerminalEnvironment(stdoutIsTerminal: false, stderrIsTerminal: false, variables: [:])
    static let terminal = TerminalEnvironment(stdoutIsTerminal: true, stderrIsTerminal: true, variables: [:])
    static let url = "http://127.0.0.1:9/s"

    static func plan(_ arguments: [String], environment: TerminalEnvironment = pipes) throws -> ListenPlan {
        try ListenPlan.resolve(SSEListen.parse([url] + arguments), environment: environment, readStandardInput: { [] })
    }

    /// A chat completion's streamed chunk, as such APIs send it.
    static func chunk(_ content: String?, id: String = "") -> ServerSentEvent {
        let delta = content.map { #"{"content":\#(JSONText.quoted($0))}"# } ?? "{}"
        return ServerSentEvent(
            id: id,
            data: #"{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":\#(delta)}]}"#)
    }

    /// What a run prints for `events`, ended as `sse-listen` ends it.
    static func output(_ arguments: [String], _ events: [ServerSentEvent]) throws -> (String, ListenSession) {
        var session = ListenSession(plan: try plan(arguments))
        var stdout: [UInt8] = []
        for event in events { _ = session.print(event, stdout: &stdout) }
        session.finishOutput(stdout: &stdout)
        return (String(decoding: stdout, as: UTF8.self), session)
    }

    static let stream = [
        chunk(nil, id: "1"), chunk("Hel", id: "2"), chunk("lo, ", id: "3"), ServerSentEvent(data: "[DONE]"),
        chunk("wörld\n", id: "4"), chunk("", id: "5"), ServerSentEvent(data: "{\"choices\":[]}"),
        chunk("\"🎉\"", id: "6"),
    ]

    // MARK: The formatter

    @Test("--format data --field: each value on its line; events without it print nothing and are counted")
    func dataField() throws {
        let (text, session) = try Self.output(["--field", "choices.0.delta.content"], Self.stream)
        #expect(text == "Hel\nlo, \nwörld\n\n\n\"🎉\"\n")
        #expect(session.printedEvents == 5)
        #expect(session.eventsWithoutField == 3)
    }

    @Test("--join --field: the values joined as they stream, one line feed at the end")
    func joinedField() throws {
        let (text, session) = try Self.output(["--field", "choices.0.delta.content", "--join"], Self.stream)
        #expect(text == "Hello, wörld\n\"🎉\"\n")
        #expect(session.printedEvents == 5)
        #expect(session.eventsWithoutField == 3)
    }

    @Test("--join: each event's bytes are exactly its value, so each can be flushed as it arrives")
    func joinedPerEvent() throws {
        var session = ListenSession(plan: try Self.plan(["--field", "choices.0.delta.content", "-j"]))
        var pieces: [String] = []
        for event in Self.stream {
            var stdout: [UInt8] = []
            _ = session.print(event, stdout: &stdout)
            pieces.append(String(decoding: stdout, as: UTF8.self))
        }
        var end: [UInt8] = []
        session.finishOutput(stdout: &end)
        #expect(pieces == ["", "Hel", "lo, ", "", "wörld\n", "", "", "\"🎉\""])
        #expect(end == [0x0A])
        session.finishOutput(stdout: &end)
        #expect(end == [0x0A], "a second finish adds nothing")
    }

    @Test("--join ends the output with a line feed only if an event was printed")
    func joinedNothing() throws {
        let (none, _) = try Self.output(["--field", "a", "--join"], [ServerSentEvent(data: "[DONE]")])
        #expect(none == "")
        let (empty, _) = try Self.output(["--field", "a", "--join"], [ServerSentEvent(data: #"{"a":""}"#)])
        #expect(empty == "\n", "an empty value is a printed event: the line feed ends the (empty) line")
        let (nothing, _) = try Self.output(["--format", "data", "--join"], [])
        #expect(nothing == "")
    }

    @Test("--format data --join: the data of every event, joined, then a line feed")
    func joinedData() throws {
        let events = ["a", "", "b\nc", "[DONE]"].map { ServerSentEvent(data: $0) }
        #expect(try Self.output(["--format", "data", "--join"], events).0 == "ab\nc[DONE]\n")
        #expect(try Self.output(["--join"], events).0 == "ab\nc[DONE]\n", "--join alone prints data")
        #expect(try Self.output(["--format", "data"], events).0 == "a\n\nb\nc\n[DONE]\n")
    }

    @Test("--format jsonl --field: the value's text is the data field, a JSON string, in a whole line")
    func jsonlField() throws {
        let events = [
            ServerSentEvent(id: "7", type: "delta", data: #"{"v":"Hi \"you\"\n\u00e9"}"#),
            ServerSentEvent(id: "8", data: #"{"v": {"n": [1, 2.5, null], "s": "x\\y"} }"#),
            ServerSentEvent(id: "9", data: #"{"w":1}"#),
            ServerSentEvent(id: "10", data: #"{"v":42}"#),
            ServerSentEvent(id: "11", data: "not json"),
        ]
        let (text, session) = try Self.output(["--format", "jsonl", "--field", "v"], events)
        #expect(
            text == #"{"id":"7","event":"delta","data":"Hi \"you\"\né"}"# + "\n"
                + #"{"id":"8","event":"message","data":"{\"n\":[1,2.5,null],\"s\":\"x\\\\y\"}"}"# + "\n"
                + #"{"id":"10","event":"message","data":"42"}"# + "\n")
        #expect(session.eventsWithoutField == 2)
        // Each line is JSON whose data is what --format data would print.
        let (data, _) = try Self.output(["--field", "v"], events)
        let decoded = try text.split(separator: "\n").map { line in
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        }
        #expect(decoded.map { $0?["data"] ?? "?" }.joined(separator: "\n") + "\n" == data)
    }

    @Test("--format jsonl --field --join: the lines' objects follow each other, one line feed at the end")
    func jsonlJoined() throws {
        let events = [ServerSentEvent(id: "1", data: #"{"v":"a"}"#), ServerSentEvent(id: "2", data: #"{"v":"b"}"#)]
        let (text, _) = try Self.output(["--format", "jsonl", "--field", "v", "-j"], events)
        #expect(
            text == #"{"id":"1","event":"message","data":"a"}{"id":"2","event":"message","data":"b"}"# + "\n")
    }

    @Test("the formatter on its own: field and join apply to data and jsonl, and finish appends")
    func formatter() {
        var formatter = EventFormatter(format: .data, field: JSONPath("a.0"), joinsEvents: true)
        var output: [UInt8] = []
        #expect(formatter.append(ServerSentEvent(data: #"{"a":["x"]}"#), to: &output))
        #expect(!formatter.append(ServerSentEvent(data: #"{"a":[]}"#), to: &output))
        #expect(formatter.format(ServerSentEvent(data: #"{"a":[{"b" : true}]}"#)) == Array(#"{"b":true}"#.utf8))
        formatter.finish(to: &output)
        #expect(String(decoding: output, as: UTF8.self) == "x\n")
        #expect(formatter.eventsWithoutField == 1)

        var plain = EventFormatter(format: .data)
        var lines: [UInt8] = []
        plain.append(ServerSentEvent(data: "a"), to: &lines)
        plain.finish(to: &lines)
        #expect(lines == Array("a\n".utf8), "without --join, finish adds nothing")
    }

    // MARK: The session

    @Test("--field and --join print data by default, on a terminal too; --format jsonl is kept")
    func defaultFormat() throws {
        #expect(try Self.plan(["--field", "a"], environment: Self.terminal).format == .data)
        #expect(try Self.plan(["--join"], environment: Self.terminal).format == .data)
        #expect(try Self.plan([], environment: Self.terminal).format == .pretty)
        #expect(try Self.plan(["--field", "a", "--format", "jsonl"]).format == .jsonl)
        let plan = try Self.plan(["--field", "choices.0.delta.content", "-j"])
        #expect(plan.field == JSONPath("choices.0.delta.content"))
        #expect(plan.joinsEvents)
        #expect(try Self.plan([]).field == nil)
    }

    @Test("--max-events counts printed values: events without the field do not count")
    func maxEvents() throws {
        var session = ListenSession(plan: try Self.plan(["--field", "choices.0.delta.content", "--max-events", "2"]))
        var stdout: [UInt8] = []
        #expect(!session.print(Self.stream[0], stdout: &stdout))
        #expect(!session.print(Self.stream[1], stdout: &stdout))
        #expect(!session.print(Self.stream[3], stdout: &stdout))
        #expect(session.print(Self.stream[2], stdout: &stdout))
        #expect(session.printedEvents == 2)
        #expect(String(decoding: stdout, as: UTF8.self) == "Hel\nlo, \n")
    }

    @Test("--event filters before --field looks: filtered events are neither printed nor counted as missing")
    func eventFilter() throws {
        let events = [
            ServerSentEvent(type: "a", data: #"{"v":1}"#), ServerSentEvent(type: "b", data: #"{"v":2}"#),
            ServerSentEvent(type: "a", data: "x"),
        ]
        let (text, session) = try Self.output(["--field", "v", "--event", "a"], events)
        #expect(text == "1\n")
        #expect(session.eventsWithoutField == 1)
        #expect(session.printedEvents == 1)
    }

    @Test("-v: one closing line with how many events had no value at the path; none without -v")
    func summary() throws {
        let (_, verbose) = try Self.output(["--field", "choices.0.delta.content", "-v"], Self.stream)
        #expect(
            verbose.fieldSummaryLines == [
                StatusLine(
                    .detail,
                    "--field choices.0.delta.content: 3 of 8 events had no value there "
                        + "(data not JSON, or no such path) and printed nothing")
            ])
        let (_, one) = try Self.output(["--field", "a", "-v"], [ServerSentEvent(data: #"{"a":1}"#)])
        #expect(
            one.fieldSummaryLines.map(\.text) == [
                "--field a: 0 of 1 event had no value there (data not JSON, or no such path) and printed nothing"
            ])
        #expect(try Self.output(["--field", "a"], Self.stream).1.fieldSummaryLines.isEmpty)
        #expect(try Self.output(["-v"], Self.stream).1.fieldSummaryLines.isEmpty)
    }

    // MARK: Usage errors

    /// The message `sse-listen` prints for `arguments`, or `nil` when they parse.
    static func usageError(_ arguments: [String]) -> String? {
        do {
            _ = try SSEListen.parse([url] + arguments)
            return nil
        } catch {
            return SSEListen.message(for: error)
        }
    }

    @Test(
        "--field with a format that shows whole events, or a path that is not one, is a usage error",
        arguments: [
            (
                ["--field", "a", "--format", "raw"],
                "--field prints one value per event; use it with --format data or jsonl, not raw"
            ),
            (
                ["--format", "pretty", "--field", "a"],
                "--field prints one value per event; use it with --format data or jsonl, not pretty"
            ),
            (["--field", ""], "--field is empty; expected a dot path such as choices.0.delta.content"),
            (
                ["--field", "a..b"],
                "--field 'a..b' has an empty component: each dot separates two keys or array indexes, as in "
                    + "choices.0.delta.content"
            ),
            (
                ["--field", "choices.0."],
                "--field 'choices.0.' has an empty component: each dot separates two keys or array indexes, as in "
                    + "choices.0.delta.content"
            ),
        ])
    func fieldUsageErrors(arguments: [String], message: String) {
        #expect(Self.usageError(arguments) == message)
    }

    @Test(
        "--join without data to join is a usage error",
        arguments: [
            (["--join", "--format", "jsonl"], "jsonl"), (["-j", "--format", "raw"], "raw"),
            (["--format", "pretty", "--join"], "pretty"),
        ])
    func joinUsageErrors(arguments: [String], format: String) {
        #expect(
            Self.usageError(arguments)
                == "-j/--join joins the data of events; use it with --format data or --field, not --format \(format)")
    }

    @Test(
        "the combinations that work parse",
        arguments: [
            ["--field", "a"], ["--field", "a", "--format", "data"], ["--field", "a", "--format", "jsonl"],
            ["--field", "a", "-j"], ["--field", "a", "--format", "jsonl", "--join"], ["--join"],
            ["--format", "data", "-j"], ["--field", "0"], ["--field", "a b.é"],
        ])
    func validCombinations(arguments: [String]) {
        #expect(Self.usageError(arguments) == nil)
    }

    @Test("--help documents both flags, duplicate keys, and the chat example")
    func help() {
        let help = SSEListen.helpMessage(columns: 1000)
        #expect(help.contains("--field <path>"))
        #expect(help.contains("-j, --join"))
        #expect(help.contains("of duplicate keys the first wins"))
        #expect(help.contains("--field choices.0.delta.content --join"))
    }
}
