import SSEParser
import Testing

@testable import SSETestServer

@Suite("Scenario values and their query parameters")
struct ScenarioTests {
    static let examples: [Scenario] = [
        Scenario(),
        .numbered(count: 5, interval: .milliseconds(250), eventType: "tick", payloadSize: 64),
        .numbered(count: 10).droppingAfter(events: 3, with: .reset).keyed("drops"),
        .numbered().droppingAfter(bytes: 7).retrying(after: .milliseconds(1500)).heartbeat(every: .milliseconds(20)),
        .status(503, times: 2, retryAfter: "1"),
        .redirect(302, to: "/events?count=1&x=a b", times: 1),
        .raw([0, 1, 2, 0xff, 0xfe, 13, 10, 0x2b, 0x2f]),
        .raw("data: é\r\n\r\n"),
        .echo,
        .hangBeforeHeaders,
        .hangAfterHeaders,
        .endlessHeaders(every: .milliseconds(20)),
        .numbered(count: 2).declaringContentLength(10_000_000_000).ending(with: .hang),
        .largeEvent(size: 1 << 20),
        .numbered(count: 2).tinyWrites(size: 1, delay: .milliseconds(3)).gzip(.always).framing(.connectionClose),
        .numbered(count: 2).gzip().contentType("text/plain").requiringBearerToken("s3cret+/="),
        .numbered(count: 2).contentType("").ending(with: .hang),
        .numbered(count: 3).lineEnding(.crlf).unicodePayload(),
        .numbered(count: 3).lineEnding(.cr),
    ]

    @Test("query round-trips", arguments: examples)
    func roundTrip(_ scenario: Scenario) throws {
        #expect(try Scenario(query: scenario.query) == scenario)
    }

    @Test("the default scenario has an empty query")
    func defaultQuery() {
        #expect(Scenario().query == "")
        #expect(Scenario.numbered(count: 3).query == "count=3")
    }

    @Test("query names are the documented ones")
    func queryNames() {
        var scenario = Scenario.numbered(count: 9, interval: .milliseconds(5), eventType: "t", payloadSize: 8)
            .droppingAfter(events: 2, with: .reset)
        scenario.dropAfterBytes = 4
        scenario.history = 3
        scenario.retry = .seconds(2)
        scenario.heartbeat = .milliseconds(7)
        scenario.hang = .afterHeaders
        scenario.status = 429
        scenario.statusTimes = 1
        scenario.retryAfter = "3"
        scenario.location = "/x"
        scenario.contentType = "text/html"
        scenario.writeSize = 1
        scenario.writeDelay = .milliseconds(2)
        scenario.compression = .whenAccepted
        scenario.framing = .connectionClose
        scenario.bearerToken = "t"
        scenario.lineEnding = .crlf
        scenario.unicodePayload = true
        scenario.key = "k"
        #expect(
            scenario.query
                == "count=9&interval=5&event=t&size=8&history=3&retry=2000&heartbeat=7&dropAfter=2&dropAfterBytes=4"
                + "&end=reset&hang=after-headers&status=429&times=1&retryAfter=3&location=%2Fx&contentType=text%2Fhtml"
                + "&writeSize=1&writeDelay=2&gzip=1&framing=close&token=t&newline=crlf&unicode=1&key=k"
        )
    }

    @Test("raw bytes travel as base64, also base64url without padding")
    func rawBase64() throws {
        #expect(Scenario.raw([0xfb, 0xff]).query == "raw=%2B%2F8%3D")
        #expect(try Scenario(query: "raw=-_8").content == .raw([0xfb, 0xff]))
        #expect(try Scenario(query: "raw=+/8=").content == .raw([0xfb, 0xff]))
    }

    @Test("unknown parameters are ignored")
    func unknownParameters() throws {
        #expect(try Scenario(query: "cacheBuster=17&count=2") == .numbered(count: 2))
    }

    @Test(
        "bad values are rejected with a message naming the parameter",
        arguments: [
            ("count=-1", "count"), ("interval=soon", "interval"), ("status=42", "status"), ("end=explode", "end"),
            ("hang=forever", "hang"), ("writeSize=0", "writeSize"), ("gzip=brotli", "gzip"), ("raw=%%%", "raw"),
            ("framing=http2", "framing"), ("heartbeat=0", "heartbeat"),
        ]
    )
    func badValues(query: String, parameter: String) {
        #expect {
            try Scenario(query: query)
        } throws: { error in
            guard let error = error as? TestServerError else { return false }
            return error.code == .invalidScenario && error.description.contains(parameter)
        }
    }

    @Test("numbered data is the number padded with dots")
    func numberedData() {
        #expect(Scenario.numberedData(7, payloadSize: nil) == "7")
        #expect(Scenario.numberedData(7, payloadSize: 4) == "7...")
        #expect(Scenario.numberedData(123, payloadSize: 2) == "123")
        #expect(
            Scenario.numbered(eventType: "tick").numberedEvent(3) == ServerSentEvent(id: "3", type: "tick", data: "3")
        )
    }

    @Test("percent-encoding round-trips any text")
    func percentEncoding() {
        for text in ["", "a b&c=d", "é/?#%", "100%", "%zz"] {
            #expect(percentDecode(percentEncode(text)[...]) == text)
        }
        #expect(percentDecode("%zz%4") == "%zz%4")
    }
}
