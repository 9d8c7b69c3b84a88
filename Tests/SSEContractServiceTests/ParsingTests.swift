import SSEClient
import SSEParser
import Testing

@testable import SSEContractService

@Suite("Parameters, URLs and callback bodies")
struct ParsingTests {
    @Test("stream parameters map to the client configuration")
    func configuration() throws {
        let json = """
            {"tag": "t", "streamUrl": "http://h/s", "callbackUrl": "http://h:8111/cb/3", "initialDelayMs": 250,
             "readTimeoutMs": 500, "lastEventId": "abc", "method": "REPORT", "body": "{}",
             "headers": {"x-b": "2", "content-type": "application/json", "x-a": "1"}}
            """
        let parameters = try StreamParameters.decode(Array(json.utf8))
        let configuration = parameters.configuration
        #expect(configuration.method == "REPORT")
        #expect(configuration.body == Array("{}".utf8))
        #expect(
            configuration.headers == [
                HTTPHeader("content-type", "application/json"), HTTPHeader("x-a", "1"), HTTPHeader("x-b", "2"),
            ])
        #expect(configuration.lastEventID == "abc")
        #expect(configuration.reconnect.initialDelay == .milliseconds(250))
        #expect(configuration.idleTimeout == .milliseconds(500))
        #expect(configuration.replaysNonIdempotentRequests)
        #expect(parameters.callbackBase == HTTPURL("http://h:8111/cb/3"))
    }

    @Test("absent and null parameters keep the client's defaults")
    func defaults() throws {
        let json = """
            {"streamUrl": "https://h/s", "callbackUrl": "http://h/cb", "initialDelayMs": null,
             "readTimeoutMs": null, "lastEventId": null, "method": null, "body": null, "headers": null}
            """
        let configuration = try StreamParameters.decode(Array(json.utf8)).configuration
        let defaults = EventSource.Configuration()
        #expect(configuration.method == "GET")
        #expect(configuration.body == nil)
        #expect(configuration.headers.isEmpty)
        #expect(configuration.lastEventID == "")
        #expect(configuration.reconnect == defaults.reconnect)
        #expect(configuration.idleTimeout == defaults.idleTimeout)
    }

    @Test(
        "HTTP URLs parse into host, port, target and authority",
        arguments: [
            ("http://localhost:8111/endpoints/99", "localhost", 8111, "/endpoints/99", "localhost:8111"),
            ("HTTP://example.com", "example.com", 80, "/", "example.com"),
            ("http://127.0.0.1:9?x=1", "127.0.0.1", 9, "/?x=1", "127.0.0.1:9"),
            ("http://[::1]:8000/a/b", "::1", 8000, "/a/b", "[::1]:8000"),
        ])
    func urls(text: String, host: String, port: Int, target: String, authority: String) throws {
        let url = try #require(HTTPURL(text))
        #expect(url.host == host)
        #expect(url.port == port)
        #expect(url.target == target)
        #expect(url.authority == authority)
    }

    @Test(
        "anything else is not an HTTP URL the client can use",
        arguments: [
            "https://h/x", "ftp://h/x", "/relative", "http://", "http:///x", "http://h:0/", "http://h:70000/",
            "http://h:x/", "http://u@h/", "http://h/x#f", "http://[::1/", "http://a b/",
        ])
    func badURLs(text: String) {
        #expect(HTTPURL(text) == nil)
    }

    @Test("callback numbers are added as a path component, without doubling slashes")
    func callbackPaths() throws {
        #expect(try #require(HTTPURL("http://h/cb")).appendingPathComponent("1").target == "/cb/1")
        #expect(try #require(HTTPURL("http://h/cb/")).appendingPathComponent("2").target == "/cb/2")
        #expect(try #require(HTTPURL("http://h")).appendingPathComponent("3").target == "/3")
        #expect(try #require(HTTPURL("http://h/cb?k=v")).appendingPathComponent("4").target == "/cb/4?k=v")
    }

    @Test("callback bodies are the suite's JSON messages")
    func callbackBodies() {
        let event = CallbackMessage.event(ServerSentEvent(id: "7", type: "put", data: "a/\"b\"\n€"))
        #expect(
            String(decoding: event.json, as: UTF8.self)
                == #"{"event":{"data":"a/\"b\"\n€","id":"7","type":"put"},"kind":"event"}"#)
        #expect(
            String(decoding: CallbackMessage.event(ServerSentEvent(data: "")).json, as: UTF8.self)
                == #"{"event":{"data":"","id":"","type":"message"},"kind":"event"}"#)
        #expect(
            String(decoding: CallbackMessage.comment(" hi").json, as: UTF8.self)
                == #"{"comment":" hi","kind":"comment"}"#)
        #expect(
            String(decoding: CallbackMessage.error("gone").json, as: UTF8.self) == #"{"error":"gone","kind":"error"}"#)
    }
}
