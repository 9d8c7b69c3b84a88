import Testing

@testable import SSEClient

@Suite("Response classification")
struct ResponseClassifierTests {
    private func head(_ status: Int, _ headers: [HTTPHeader] = []) -> ResponseHead {
        ResponseHead(status: status, headers: headers, url: "http://example.com/stream")
    }

    private let eventStream = [HTTPHeader("Content-Type", "text/event-stream")]
    /// 2026-11-26 12:00:00 UTC.
    private let now = 1_795_694_400.0

    @Test(
        "200 with an event-stream Content-Type opens, with parameters and in any case",
        arguments: [
            "text/event-stream", "text/event-stream; charset=utf-8", "Text/Event-Stream", " text/event-stream ;x=y",
        ]
    )
    func opens(contentType: String) {
        #expect(
            ResponseClassifier.classify(head(200, [HTTPHeader("content-type", contentType)]), requestURL: "u", now: now)
                == .open)
    }

    @Test(
        "a wrong or missing Content-Type is fatal and says what came back",
        arguments: [Optional("text/plain"), "application/json", "text/event-streams", nil]
    )
    func wrongContentType(contentType: String?) {
        let headers = contentType.map { [HTTPHeader("Content-Type", $0)] } ?? []
        let answer = head(200, headers)
        let disposition = ResponseClassifier.classify(answer, requestURL: "http://x/", now: now)
        #expect(disposition == .fail(.wrongContentType(contentType, url: "http://x/", response: answer)))
        if case .fail(let error) = disposition {
            #expect(error.description.contains(contentType ?? "(none)"))
            #expect(!error.isTransient)
        }
    }

    @Test("204 finishes the stream for good")
    func noContent() {
        #expect(ResponseClassifier.classify(head(204), requestURL: "u", now: now) == .finish)
    }

    @Test("408, 429 and 5xx are retried", arguments: [408, 429, 500, 502, 503, 504, 599])
    func retried(status: Int) {
        #expect(ResponseClassifier.classify(head(status), requestURL: "u", now: now) == .retry(after: nil))
        #expect(EventSourceError.unexpectedStatus(status, url: "u").isTransient)
    }

    @Test("other statuses are fatal", arguments: [301, 304, 400, 401, 403, 404, 405, 410, 418, 451])
    func fatal(status: Int) {
        let answer = head(status)
        let disposition = ResponseClassifier.classify(answer, requestURL: "http://x/y", now: now)
        #expect(disposition == .fail(.unexpectedStatus(status, url: "http://x/y", response: answer)))
        if case .fail(let error) = disposition {
            #expect(error.status == status)
            #expect(!error.description.contains("  "), "no double space when the status has no reason phrase")
        }
    }

    @Test("the fatal-status message names the status and the URL")
    func statusMessage() {
        let error = EventSourceError.unexpectedStatus(404, url: "https://example.com/feed")
        #expect(error.description == "server answered 404 Not Found for https://example.com/feed; not retrying")
    }

    @Test("Retry-After in seconds")
    func retryAfterSeconds() {
        let response = head(503, [HTTPHeader("Retry-After", "120")])
        #expect(ResponseClassifier.classify(response, requestURL: "u", now: now) == .retry(after: .seconds(120)))
        #expect(ResponseClassifier.parseRetryAfter(" 5 ", now: now) == .seconds(5))
        #expect(ResponseClassifier.parseRetryAfter("0", now: now) == .zero)
    }

    @Test(
        "Retry-After as an HTTP date, in all three formats",
        arguments: ["Thu, 26 Nov 2026 12:00:30 GMT", "Thursday, 26-Nov-26 12:00:30 GMT", "Thu Nov 26 12:00:30 2026"]
    )
    func retryAfterDate(value: String) {
        #expect(ResponseClassifier.parseRetryAfter(value, now: now) == .seconds(30))
    }

    @Test("a Retry-After date in the past means now")
    func retryAfterPast() {
        #expect(ResponseClassifier.parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == .zero)
    }

    @Test(
        "Retry-After values that are neither are ignored, including dates a hostile server made to overflow",
        arguments: [
            "soon", "-5", "1.5", "", "Thu, 32 Nov 2026 12:00:30 GMT", "Sun Nov  6 08:49:37 9999999999999999",
            "Sun, 06 Nov -9223372036854775808 08:49:37 GMT", "Sunday, 06-Nov-99999999999999999 08:49:37 GMT",
        ]
    )
    func retryAfterInvalid(value: String) {
        #expect(ResponseClassifier.parseRetryAfter(value, now: now) == nil)
    }

    @Test("a huge Retry-After does not overflow")
    func retryAfterHuge() {
        let delay = ResponseClassifier.parseRetryAfter("999999999999999999999999", now: now)
        #expect(delay != nil && delay! > .seconds(1_000_000))
    }

    @Test("HTTP dates convert to Unix time")
    func httpDate() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(HTTPDate.parse("Tue, 29 Feb 2028 23:59:59 GMT") == 1_835_481_599)
    }
}

@Suite("Response head lines")
struct ResponseHeadParserTests {
    private func read(_ lines: [String]) -> ([ResponseHeadParser.Line], [HTTPHeader]) {
        var parser = ResponseHeadParser()
        var kinds: [ResponseHeadParser.Line] = []
        for line in lines {
            kinds.append(Array(line.utf8).withUnsafeBytes { parser.read($0) })
        }
        return (kinds, parser.takeHeaders())
    }

    @Test("status lines, fields and the blank line, with or without CRLF")
    func lines() {
        let (kinds, headers) = read([
            "HTTP/1.1 200 OK\r\n", "Content-Type:  text/event-stream \r\n", "X-A:b\n", "Empty:\r\n", "\r\n",
        ])
        #expect(kinds == [.status(200), .field, .field, .field, .end])
        #expect(
            headers == [
                HTTPHeader("Content-Type", "text/event-stream"), HTTPHeader("X-A", "b"), HTTPHeader("Empty", ""),
            ]
        )
    }

    @Test("a new status line (a redirect, 100 Continue) starts a new head")
    func newResponse() {
        let (_, headers) = read(["HTTP/1.1 302 Found\r\n", "Location: /x\r\n", "\r\n", "HTTP/2 200\r\n", "A: 1\r\n"])
        #expect(headers == [HTTPHeader("A", "1")])
    }

    @Test("malformed lines are ignored, never kept with an empty name")
    func malformed() {
        let (kinds, headers) = read(["no colon here\r\n", " :x\r\n", ":y\r\n", "\u{1D}\r\n"])
        #expect(kinds == [.ignored, .ignored, .ignored, .ignored])
        #expect(headers.isEmpty)
    }

    @Test("a head with too many fields keeps the first ones only")
    func boundedFields() {
        let (_, headers) = read((0..<(ResponseHeadParser.maximumFields + 50)).map { "X-\($0): v\r\n" })
        #expect(headers.count == ResponseHeadParser.maximumFields)
    }
}
