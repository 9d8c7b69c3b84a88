import Foundation
import SSETestSupport
import Testing

@testable import SSETestServer

@Suite("Pure pieces: gzip, body encoder, stream timeline, header rules")
struct BodyPipelineTests {
    @Test("CRC-32 matches the standard check value")
    func crc32() {
        var crc = CRC32()
        crc.update(Array("123456789".utf8))
        #expect(crc.value == 0xCBF4_3926)
    }

    @Test("the stored-block gzip stream decodes with the system's gzip", .enabled(if: gzipPath != nil))
    func gzipDecodesWithGzip() async throws {
        var encoder = GzipStoredEncoder()
        var stream: [UInt8] = []
        let pieces: [[UInt8]] = [Array("id: 1\n".utf8), [], Array(repeating: 0x61, count: 70_000), Array("é\n\n".utf8)]
        for piece in pieces { stream += encoder.compress(piece) }
        stream += encoder.finish()
        #expect(try await gunzip(stream) == pieces.flatMap { $0 })
    }

    @Test("an empty gzip stream is valid", .enabled(if: gzipPath != nil))
    func emptyGzip() async throws {
        var encoder = GzipStoredEncoder()
        #expect(try await gunzip(encoder.finish()) == [])
    }

    @Test("the byte limit cuts exactly, then drops everything")
    func byteLimit() {
        var scenario = Scenario()
        scenario.dropAfterBytes = 5
        scenario.framing = .connectionClose
        var encoder = BodyEncoder(scenario: scenario, gzip: false)
        #expect(encoder.encode(Array("abc".utf8)) == [.write(Array("abc".utf8))])
        #expect(!encoder.isCut)
        #expect(encoder.encode(Array("defg".utf8)) == [.write(Array("de".utf8))])
        #expect(encoder.isCut)
        #expect(encoder.encode(Array("h".utf8)) == [])
    }

    @Test("a byte limit of zero is cut from the start")
    func zeroByteLimit() {
        var scenario = Scenario()
        scenario.dropAfterBytes = 0
        #expect(BodyEncoder(scenario: scenario, gzip: false).isCut)
    }

    @Test("tiny writes are split, delayed and chunked one by one")
    func tinyWrites() {
        let scenario = Scenario().tinyWrites(size: 2, delay: .milliseconds(5))
        var encoder = BodyEncoder(scenario: scenario, gzip: false)
        #expect(
            encoder.encode(Array("abcde".utf8)) == [
                .write(Array("2\r\nab\r\n".utf8)), .wait(.milliseconds(5)),
                .write(Array("2\r\ncd\r\n".utf8)), .wait(.milliseconds(5)),
                .write(Array("1\r\ne\r\n".utf8)),
            ]
        )
        #expect(encoder.encode(Array("f".utf8)) == [.wait(.milliseconds(5)), .write(Array("1\r\nf\r\n".utf8))])
        #expect(encoder.finish() == Array("0\r\n\r\n".utf8))
    }

    @Test("the stream timeline interleaves heartbeats between events")
    func timeline() {
        let scenario = Scenario.numbered(count: 3)
        var script = StreamScript(
            prefix: Array("retry: 5\n".utf8),
            events: .numbered(next: 2, last: 3, scenario: scenario),
            interval: .milliseconds(25),
            heartbeat: .milliseconds(10)
        )
        var steps: [StreamScript.Step] = []
        while true {
            let step = script.next()
            steps.append(step)
            if step == .end { break }
        }
        let heartbeat = StreamScript.Step.text(Array(":\n".utf8), isEvent: false)
        #expect(
            steps == [
                .text(Array("retry: 5\n".utf8), isEvent: false),
                .text(Array("id: 2\ndata: 2\n\n".utf8), isEvent: true),
                .wait(.milliseconds(10)), heartbeat,
                .wait(.milliseconds(10)), heartbeat,
                .wait(.milliseconds(5)),
                .text(Array("id: 3\ndata: 3\n\n".utf8), isEvent: true),
                .end,
            ]
        )
    }

    @Test(
        "resume points",
        arguments: [
            (nil, nil, nil, 1), ("abc", 5, nil, 1), ("-3", nil, nil, 1), ("4", nil, nil, 5), ("4", 9, nil, 5),
            ("4", 9, 10, 5), ("4", 9, 3, 7), ("20", 9, 3, 21),
        ] as [(String?, Int?, Int?, Int)]
    )
    func resumePoint(lastEventID: String?, head: Int?, history: Int?, expected: Int) {
        var scenario = Scenario()
        scenario.history = history
        #expect(Resumption.firstNumber(lastEventID: lastEventID, scenario: scenario, head: head, due: nil) == expected)
    }

    @Test("Accept-Encoding and Authorization rules")
    func headerRules() {
        #expect(HTTPResponseParts.acceptsGzip("gzip"))
        #expect(HTTPResponseParts.acceptsGzip("deflate, GZIP;q=0.5"))
        #expect(HTTPResponseParts.acceptsGzip("*"))
        #expect(!HTTPResponseParts.acceptsGzip("gzip;q=0"))
        #expect(!HTTPResponseParts.acceptsGzip("br, deflate"))
        #expect(!HTTPResponseParts.acceptsGzip(nil))
        #expect(HTTPResponseParts.hasBearerToken("Bearer abc", token: "abc"))
        #expect(HTTPResponseParts.hasBearerToken("bearer  abc", token: "abc"))
        #expect(!HTTPResponseParts.hasBearerToken("Basic abc", token: "abc"))
        #expect(!HTTPResponseParts.hasBearerToken("Bearer abcd", token: "abc"))
        #expect(!HTTPResponseParts.hasBearerToken(nil, token: "abc"))
    }
}

/// The system's gzip, which the gzip tests use as an independent decoder.
let gzipPath = ["/usr/bin/gzip", "/bin/gzip"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// Decodes `bytes` with `gzip -dc`; throws when gzip rejects them.
func gunzip(_ bytes: [UInt8]) async throws -> [UInt8] {
    struct GzipFailed: Error {}
    let result = try await ChildProcess.run(gzipPath!, ["-dc"], stdin: bytes)
    guard result.status == 0 else { throw GzipFailed() }
    return result.stdout
}
