import Testing

@testable import SSEParser

/// The fast decoder must agree with the standard library's repairing decoder on every input.
@Suite("UTF-8 decoding")
struct UTF8DecodingTests {
    static let edgeCases: [[UInt8]] = [
        [], Array("plain ascii that is longer than thirty-two bytes, to take the wide path".utf8),
        Array("é東京😀".utf8), [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xE0, 0x9F, 0xBF],
        [0xED, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80],
        [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
        [0xC0, 0x80], [0xC1, 0xBF], [0x80], [0xBF], [0xFE], [0xFF], [0xE2, 0x82], [0xF0, 0x9F, 0x98],
        Array(repeating: 0x61, count: 31) + [0xC3],
        Array(repeating: 0x61, count: 40) + [0xC3, 0xA9] + Array(repeating: 0x62, count: 9),
    ]

    @Test("edge cases of Unicode table 3-7", arguments: edgeCases)
    func edgeCase(bytes: [UInt8]) {
        let decoded = bytes.withUnsafeBufferPointer { UTF8Decoding.string(from: $0) }
        #expect(decoded == String(decoding: bytes, as: UTF8.self))
        #expect(Array(decoded.utf8) == Array(String(decoding: bytes, as: UTF8.self).utf8))
    }

    @Test("random byte strings, mostly ASCII with multi-byte and invalid bytes mixed in")
    func randomBytes() {
        var random = SplitMix64(seed: 0xDEC0DE)
        let pieces: [[UInt8]] = [
            Array("abcdefgh".utf8), Array("é".utf8), Array("東".utf8), Array("😀".utf8), [0x80], [0xC3], [0xED, 0xA0],
            [0xF4, 0x90], [0xE0, 0x80], [0xFF], Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8),
        ]
        for _ in 0..<5000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...12, using: &random) {
                bytes += pieces.randomElement(using: &random)!
            }
            let decoded = bytes.withUnsafeBufferPointer { UTF8Decoding.string(from: $0) }
            guard Array(decoded.utf8) == Array(String(decoding: bytes, as: UTF8.self).utf8) else {
                Issue.record("\(bytes) decoded as \(decoded.debugDescription)")
                return
            }
        }
    }
}
