import Foundation
import SSEParser
import SSETestServer
import Testing

/// `--format`, `--event`, `--quiet`, `--verbose` and `--color`, through the built binary.
@Suite("sse-listen output", .timeLimit(.minutes(1)))
struct OutputFormatEndToEndTests {
    /// A stream with everything awkward: types, an id reset, multi-line data, quotes, backslashes,
    /// control characters, invalid UTF-8, a BOM-less leading space, comments and `retry:`.
    static let nastyStream: [UInt8] =
        Array("retry: 5000\n: heartbeat\nid: 1\nevent: greeting\ndata: say \"hi\" \\ there\n\n".utf8)
        + Array("data: two\ndata: lines\n\n".utf8)
        + Array("id\ndata:  leading space\u{01}\u{1B}[31mred\ttab\n\n".utf8)
        + Array("id: 7\nevent: bytes\ndata: bad ".utf8) + [0xFF, 0xC3] + Array(" utf8 é 🎉\n\n".utf8)
        + Array("data:\n\n".utf8)

    static func expectedNastyEvents() throws -> [ServerSentEvent] {
        var parser = EventStreamParser()
        return try parser.parse(nastyStream).compactMap {
            if case .event(let event) = $0 { return event } else { return nil }
        }
    }

    @Test("without --format into a pipe: jsonl, one valid JSON object per event, status on stderr only")
    func jsonlByDefault() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run([server.url(for: .numbered(count: 3)), "--no-reconnect"])
            #expect(result.status == 0)
            #expect(
                result.stdout
                    == #"{"id":"1","event":"message","data":"1"}"# + "\n" + #"{"id":"2","event":"message","data":"2"}"#
                    + "\n" + #"{"id":"3","event":"message","data":"3"}"# + "\n"
            )
            #expect(result.stderr.contains("sse-listen: connecting to \(server.url(for: .numbered(count: 3)))"))
            #expect(result.stderr.contains("connected: 200 OK (text/event-stream)"))
            #expect(result.stderr.contains("the server ended the stream; done"))
            #expect(!result.stderr.contains("\u{1B}["), "no colours into a pipe")
        }
    }

    @Test("jsonl is valid JSON for quotes, backslashes, control characters and invalid UTF-8 (as U+FFFD)")
    func jsonlNastyData() async throws {
        try await TestServer.withRunning { server in
            let url = server.route("/nasty", .raw(Self.nastyStream))
            let result = try await ListenProcess.run([url, "--no-reconnect", "--format", "jsonl"])
            #expect(result.status == 0)
            let objects = result.jsonObjects()
            let expected = try Self.expectedNastyEvents()
            #expect(objects.count == expected.count)
            #expect(objects.map { $0["id"] } == expected.map(\.id))
            #expect(objects.map { $0["event"] } == expected.map(\.type))
            #expect(objects.map { $0["data"] } == expected.map(\.data))
            #expect(objects[3]["data"] == "bad \u{FFFD}\u{FFFD} utf8 é 🎉")
            #expect(objects[2]["data"] == " leading space\u{01}\u{1B}[31mred\ttab")
            #expect(!result.stdout.contains("\u{1B}"), "control characters are escaped in JSON")
            #expect(result.stdoutLines.count == expected.count, "one line per event, even with line feeds in data")
        }
    }

    @Test("raw output parses back to exactly the events received")
    func rawRoundTrips() async throws {
        try await TestServer.withRunning { server in
            let url = server.route("/nasty", .raw(Self.nastyStream))
            let result = try await ListenProcess.run([url, "--no-reconnect", "--format", "raw"])
            #expect(result.status == 0)
            var parser = EventStreamParser()
            let reparsed = try parser.parse(result.stdoutBytes).compactMap {
                if case .event(let event) = $0 { return event } else { return nil }
            }
            #expect(reparsed == (try Self.expectedNastyEvents()))
            #expect(result.stdout.hasPrefix("id: 1\nevent: greeting\ndata: say \"hi\" \\ there\n\n"))
        }
    }

    @Test("data output is the data of each event, one per line")
    func dataFormat() async throws {
        try await TestServer.withRunning { server in
            let events = Array("data: {\"n\":1}\n\nevent: other\ndata: plain\n\n".utf8)
            let result = try await ListenProcess.run([
                server.route("/d", .raw(events)), "--no-reconnect", "--format", "data",
            ])
            #expect(result.status == 0)
            #expect(result.stdout == "{\"n\":1}\nplain\n")
        }
    }

    @Test("pretty output: type, id and indented data, JSON pretty-printed in its own key order")
    func prettyFormat() async throws {
        try await TestServer.withRunning { server in
            let events = Array("id: 9\nevent: delta\ndata: {\"z\":1,\"a\":[true,null,\"s\"]}\n\ndata: plain\n\n".utf8)
            let url = server.route("/p", .raw(events))
            let result = try await ListenProcess.run([url, "--no-reconnect", "--format", "pretty"])
            #expect(result.status == 0)
            let lines = result.stdoutLines
            #expect(lines.count == 11)
            #expect(lines[0].hasSuffix(" delta #9"))
            #expect(lines[0].range(of: #"^\d\d:\d\d:\d\d\.\d\d\d delta #9$"#, options: .regularExpression) != nil)
            #expect(
                Array(lines[1...8]) == [
                    "  {", "    \"z\": 1,", "    \"a\": [", "      true,", "      null,", "      \"s\"", "    ]", "  }",
                ])
            #expect(lines[9].hasSuffix(" message #9"))
            #expect(lines[10] == "  plain")
            #expect(!result.stdout.contains("\u{1B}["), "no colours into a pipe")
        }
    }

    @Test("pretty output is coloured with --color always, and control characters in data are shown, not obeyed")
    func prettyColours() async throws {
        try await TestServer.withRunning { server in
            let events = Array("event: x\ndata: {\"k\":\"v\"}\n\ndata: evil\u{1B}]0;title\u{07}\n\n".utf8)
            let url = server.route("/c", .raw(events))
            let coloured = try await ListenProcess.run([
                url, "--no-reconnect", "--format", "pretty", "--color", "always",
            ])
            #expect(coloured.status == 0)
            #expect(coloured.stdout.contains("\u{1B}[1;36mx\u{1B}[0m"), "bold cyan type")
            #expect(
                coloured.stdout.contains("\u{1B}[34m\"k\"\u{1B}[0m: \u{1B}[32m\"v\"\u{1B}[0m"), "blue key, green string"
            )
            #expect(coloured.stdout.contains("evil\u{1B}[2m\\u{1B}\u{1B}[0m]0;title\u{1B}[2m\\u{7}\u{1B}[0m"))
            #expect(coloured.stderr.contains("\u{1B}[2msse-listen:\u{1B}[0m"), "stderr coloured too")

            let plain = try await ListenProcess.run([url, "--no-reconnect", "--format", "pretty", "--color", "never"])
            #expect(!plain.stdout.contains("\u{1B}"), "the ESC from the server is escaped as text")
            #expect(plain.stdout.contains("  evil\\u{1B}]0;title\\u{7}"))
        }
    }

    @Test(
        "a lone event reaches stdout at once, while the stream stays open and nothing else comes",
        arguments: [
            "data", "jsonl",
        ])
    func loneEventIsWrittenAtOnce(format: String) async throws {
        try await TestServer.withRunning { server in
            var scenario = Scenario.numbered(count: 1)
            scenario.ending = .hang
            let process = try ListenProcess([server.url(for: scenario), "--format", format, "-q"])
            try await process.waitForStdoutLines(1)
            process.send(SIGINT)
            let result = try await process.finish()
            #expect(result.status == 130)
            #expect(result.stdoutLines == [format == "data" ? "1" : #"{"id":"1","event":"message","data":"1"}"#])
        }
    }

    @Test("--event prints only the given types (repeatable); --max-events counts printed events")
    func eventFilter() async throws {
        try await TestServer.withRunning { server in
            var text = ""
            for n in 1...9 { text += "id: \(n)\nevent: \(["a", "b", "c"][n % 3])\ndata: \(n)\n\n" }
            let url = server.route("/f", .raw(text))
            let result = try await ListenProcess.run([url, "--no-reconnect", "--event", "a", "--event", "c"])
            #expect(result.status == 0)
            #expect(result.ids == ["2", "3", "5", "6", "8", "9"])
            #expect(Set(result.jsonObjects().map { $0["event"] ?? "" }) == ["a", "c"])

            let limited = try await ListenProcess.run([url, "--no-reconnect", "--event", "b", "--max-events", "2"])
            #expect(limited.status == 0)
            #expect(limited.ids == ["1", "4"])
        }
    }

    @Test("--quiet: nothing on stderr when all goes well")
    func quiet() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run(
                [
                    server.url(for: .numbered(count: 4).droppingAfter(events: 2)), "--quiet", "--max-events", "4",
                ] + fastRetries)
            #expect(result.status == 0)
            #expect(result.ids == ["1", "2", "3", "4"])
            #expect(result.stderr.isEmpty)
        }
    }

    @Test("--verbose: request and response headers on stderr, Authorization and cookies redacted")
    func verbose() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run([
                server.url(for: .numbered(count: 2)), "-v", "--no-reconnect",
                "-H", "Authorization: Bearer sekrit-token", "-H", "Cookie: session=sekrit-cookie",
                "-H", "X-Trace: visible",
            ])
            #expect(result.status == 0)
            #expect(result.ids == ["1", "2"])
            let lines = result.stderrLines
            // The request as libcurl sent it: its request line and the headers it added.
            #expect(lines.contains("sse-listen: > GET /events?count=2 HTTP/1.1"))
            #expect(lines.contains("sse-listen: > Host: 127.0.0.1:\(server.port)"))
            #expect(lines.contains("sse-listen: > Authorization: Bearer [redacted]"))
            #expect(lines.contains("sse-listen: > Cookie: [redacted]"))
            #expect(lines.contains("sse-listen: > X-Trace: visible"))
            #expect(lines.contains("sse-listen: > Accept: text/event-stream"))
            #expect(lines.contains { $0.hasPrefix("sse-listen: > User-Agent: swift-sse/") })
            #expect(lines.contains("sse-listen: < HTTP/1.1 200 OK"))
            #expect(lines.contains("sse-listen: < Content-Type: text/event-stream"))
            #expect(!result.stderr.contains("sekrit"))
            // In order: connecting, the request, the response, connected.
            let order = [
                "sse-listen: connecting", "sse-listen: > GET", "sse-listen: < HTTP/1.1 200 OK", "sse-listen: connected",
            ].map { prefix in
                lines.firstIndex { $0.hasPrefix(prefix) } ?? -1
            }
            #expect(order == order.sorted() && !order.contains(-1), "\(lines)")
            // The server did get the real values.
            #expect(server.requests.first?.header("Authorization") == "Bearer sekrit-token")
        }
    }

    @Test("--verbose: credentials from the URL and --compressed show as libcurl sent them, redacted")
    func verboseWire() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 1)).replacing("http://", with: "http://alice:pa55word@")
            let result = try await ListenProcess.run([url, "-v", "--no-reconnect", "--compressed"])
            #expect(result.status == 0)
            let lines = result.stderrLines
            #expect(lines.contains("sse-listen: > Authorization: Basic [redacted]"), "\(lines)")
            #expect(lines.contains { $0.hasPrefix("sse-listen: > Accept-Encoding: ") && $0.contains("gzip") })
            #expect(!result.stderr.contains("pa55word"))
            #expect(!result.stderr.contains("YWxpY2U6cGE1NXdvcmQ="), "the Basic credentials, base64")
            #expect(server.requests.first?.header("Authorization") == "Basic YWxpY2U6cGE1NXdvcmQ=")
        }
    }

    @Test("an error answer's body: one escaped line on stderr, the whole prefix under -v")
    func errorBody() async throws {
        try await TestServer.withRunning { server in
            let message = String(repeating: "too large ", count: 40)
            let body = #"{"error":{"message":"\#(message)"}}"# + "\n\u{1B}[31m"
            let url = server.url(for: .status(400).statusBody(body))
            let plain = try await ListenProcess.run([url])
            #expect(plain.status == 2)
            let line = try #require(plain.stderrLines.last)
            #expect(line.hasPrefix("sse-listen: error: server answered 400 Bad Request for "))
            #expect(line.contains(#"not retrying: {"error":{"message":"too large too large"#))
            #expect(line.hasSuffix("…"), "cut with a marker: \(line)")
            #expect(!plain.stderr.contains("\u{1B}"), "no control character reaches the terminal")

            let verbose = try await ListenProcess.run([url, "-v"])
            #expect(verbose.status == 2)
            #expect(verbose.stderrLines.contains("sse-listen: < HTTP/1.1 400 Bad Request"))
            let bodyLine = try #require(verbose.stderrLines.first { $0.hasPrefix("sse-listen: < (body, ") })
            #expect(bodyLine.hasSuffix(#"too large "}}\n\u{1B}[31m"#), "\(bodyLine)")
        }
    }

    @Test("--verbose shows heartbeats and retry: changes")
    func verboseComments() async throws {
        try await TestServer.withRunning { server in
            let url = server.route("/h", .raw("retry: 2500\n: ping\ndata: x\n\n"))
            let result = try await ListenProcess.run([url, "-v", "--no-reconnect"])
            #expect(result.status == 0)
            #expect(result.stderrLines.contains("sse-listen: comment: ping"))
            #expect(result.stderrLines.contains("sse-listen: server set the reconnection time to 2.5 s"))
        }
    }
}
