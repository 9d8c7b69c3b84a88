import Foundation
import SSETestServer
import SSETestSupport
import Testing

/// `-H`, `-X`, `-d`, `-u`, `-k`, `--cacert` and `--compressed`, checked on what the server saw.
@Suite("sse-listen request options", .timeLimit(.minutes(1)))
struct RequestOptionEndToEndTests {
    @Test("-H adds headers (repeatable), on every connection including reconnects")
    func headers() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 4).droppingAfter(events: 2))
            let result = try await ListenProcess.run(
                [url, "-H", "X-One: 1", "--header", "X-Two:  two words  ", "--max-events", "4"] + fastRetries)
            #expect(result.status == 0)
            #expect(result.ids == ["1", "2", "3", "4"])
            let requests = server.requests
            #expect(requests.count == 2)
            for request in requests {
                #expect(request.header("X-One") == "1")
                #expect(request.header("X-Two") == "two words")
                #expect(request.header("Accept") == "text/event-stream")
            }
        }
    }

    @Test("-X sets the method")
    func method() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run([server.url(for: .echo), "-X", "PUT", "--no-reconnect"])
            #expect(result.status == 0)
            #expect(server.requests.first?.method == "PUT")
        }
    }

    @Test("-d BODY posts it, with a JSON Content-Type for JSON; a POST stream ends instead of being repeated")
    func dataLiteral() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run([server.url(for: .numbered(count: 2)), "-d", #"{"prompt":"hi"}"#])
            #expect(result.status == 0)
            #expect(result.ids == ["1", "2"])
            let request = try #require(server.requests.first)
            #expect(request.method == "POST")
            #expect(request.bodyText == #"{"prompt":"hi"}"#)
            #expect(request.header("Content-Type") == "application/json")
            #expect(server.requests.count == 1, "a POST is not sent again when the stream ends")
        }
    }

    @Test("-d @file reads the file; -d @- reads standard input; an explicit Content-Type wins")
    func dataFromFileAndStdin() async throws {
        try await TestServer.withRunning { server in
            let directory = try TemporaryDirectory()
            let file = directory.file("body.txt")
            try "a=1&b=2".write(toFile: file, atomically: true, encoding: .utf8)
            let fromFile = try await ListenProcess.run([server.url(for: .echo), "-d", "@\(file)"])
            #expect(fromFile.status == 0)
            #expect(server.requests.last?.bodyText == "a=1&b=2")
            #expect(server.requests.last?.header("Content-Type") == "application/x-www-form-urlencoded")

            let fromStdin = try await ListenProcess.run(
                [server.url(for: .echo), "-d", "@-", "-H", "Content-Type: text/plain"],
                stdin: Array("from stdin\n".utf8)
            )
            #expect(fromStdin.status == 0)
            #expect(server.requests.last?.bodyText == "from stdin\n")
            #expect(server.requests.last?.header("Content-Type") == "text/plain")
            #expect(server.requests.last?.method == "POST")
        }
    }

    @Test("-u USER:PASS sends Basic credentials")
    func basicAuth() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run([server.url(for: .echo), "-u", "alice:s3cret:x", "--no-reconnect"])
            #expect(result.status == 0)
            let expected = "Basic " + Data("alice:s3cret:x".utf8).base64EncodedString()
            #expect(server.requests.first?.header("Authorization") == expected)
        }
    }

    @Test("a bearer token reaches a server that requires it; without it: 401, exit 2")
    func bearerToken() async throws {
        try await TestServer.withRunning { server in
            let url = server.url(for: .numbered(count: 2).requiringBearerToken("t0k"))
            let accepted = try await ListenProcess.run([url, "-H", "Authorization: Bearer t0k", "--no-reconnect"])
            #expect(accepted.status == 0)
            #expect(accepted.ids == ["1", "2"])
            let refused = try await ListenProcess.run([url])
            #expect(refused.status == 2)
            #expect(refused.stderr.contains("401 Unauthorized"))
        }
    }

    @Test("--compressed asks for gzip and decodes it")
    func compressed() async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run([
                server.url(for: .numbered(count: 3).gzip()), "--compressed", "-v", "--no-reconnect",
            ])
            #expect(result.status == 0)
            #expect(result.ids == ["1", "2", "3"])
            #expect(server.requests.first?.header("Accept-Encoding")?.contains("gzip") == true)
            #expect(result.stderrLines.contains("sse-listen: < Content-Encoding: gzip"))

            let plain = try await ListenProcess.run([server.url(for: .numbered(count: 1).gzip()), "--no-reconnect"])
            #expect(plain.ids == ["1"])
            #expect(server.requests.last?.header("Accept-Encoding") == nil)
        }
    }

    @Test("TLS: an unknown CA is a fatal error (exit 2); --cacert trusts it; -k accepts anything")
    func tls() async throws {
        let terminator = try await TLSTerminator()
        try await TestServer.withRunning { server in
            try await terminator.withListener(upstreamPort: server.port) { port in
                let url = "https://127.0.0.1:\(port)/events?count=2"
                let refused = try await ListenProcess.run([url])
                #expect(refused.status == 2)
                #expect(refused.stderr.contains("could not be verified"))
                #expect(refused.stdout.isEmpty)

                let trusted = try await ListenProcess.run([
                    url, "--cacert", terminator.path("ca.pem"), "--no-reconnect",
                ])
                #expect(trusted.status == 0)
                #expect(trusted.ids == ["1", "2"])

                let insecure = try await ListenProcess.run([url, "-k", "--no-reconnect"])
                #expect(insecure.status == 0)
                #expect(insecure.ids == ["1", "2"])
            }
        }
    }

    @Test("--cacert with a missing file is a usage error")
    func missingCAFile() async throws {
        let result = try await ListenProcess.run(["https://127.0.0.1:1/", "--cacert", "/nonexistent/ca.pem"])
        #expect(result.status == 1)
        #expect(
            result.stderrLines.first
                == "sse-listen: error: cannot read --cacert file '/nonexistent/ca.pem': No such file or directory")
    }
}
