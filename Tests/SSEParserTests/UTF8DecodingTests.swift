import CUTF8Validation
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

    /// What the standard library says about `bytes`: the answer both validators must give.
    static func reference(_ bytes: [UInt8]) -> UTF8Decoding.Validity {
        if bytes.allSatisfy({ $0 < 0x80 }) { return .ascii }
        return Array(String(decoding: bytes, as: UTF8.self).utf8) == bytes ? .valid : .invalid
    }

    /// What each validator says: the one in use (AVX2 on this CPU if it has it), SSSE3 and scalar.
    static func validities(_ bytes: [UInt8]) -> (simd: UTF8Decoding.Validity, scalar: UTF8Decoding.Validity) {
        bytes.withUnsafeBufferPointer { buffer in
            let simd = UTF8Decoding.validate(buffer)
            let scalar = UTF8Decoding.validateScalar(buffer)
            // The SSSE3 path, checked against the other two whenever this CPU has it.
            switch sse_utf8_validate_ssse3(buffer.baseAddress, buffer.count) {
            case Int32(SSE_UTF8_ASCII) where simd != .ascii, Int32(SSE_UTF8_VALID) where simd != .valid,
                Int32(SSE_UTF8_INVALID) where simd != .invalid:
                return (.invalid, .ascii)  // a disagreement the callers report
            default:
                return (simd, scalar)
            }
        }
    }

    @Test("both validators agree with the standard library, at every offset across 16-byte blocks")
    func validatorsAtEveryOffset() {
        let sequences =
            Self.edgeCases.filter { !$0.isEmpty && $0.count <= 4 } + [[0xC3, 0xA9, 0xC3], [0xE2, 0x82, 0xAC, 0x80]]
        for sequence in sequences {
            for length in [64, 65, 79, 80, 81, 95, 96, 97, 127, 128, 129, 130, 191, 192, 193] {
                for offset in 0...(length - sequence.count) {
                    var bytes = [UInt8](repeating: 0x61, count: length)
                    bytes.replaceSubrange(offset..<offset + sequence.count, with: sequence)
                    let expected = Self.reference(bytes)
                    let (simd, scalar) = Self.validities(bytes)
                    guard simd == expected, scalar == expected else {
                        Issue.record(
                            "\(sequence) at \(offset) of \(length): simd \(simd), scalar \(scalar), expected \(expected)"
                        )
                        return
                    }
                }
            }
        }
    }

    @Test("both validators agree with the standard library on long random text")
    func validatorsOnRandomText() {
        var random = SplitMix64(seed: 0x51_3D)
        let pieces: [[UInt8]] = [
            Array("abcdefgh".utf8), Array("é".utf8), Array("東".utf8), Array("😀".utf8), Array("ñandú ".utf8),
            [0x80], [0xC3], [0xED, 0xA0], [0xF4, 0x90], [0xE0, 0x80], [0xFF], [0xC0, 0xAF], [0xF0, 0x80, 0x80],
            Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8),
        ]
        var counts: [UTF8Decoding.Validity: Int] = [:]
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            while bytes.count < Int.random(in: 64...400, using: &random) {
                // Mostly valid pieces, so that valid long text is common and errors are rare.
                let index =
                    Int.random(in: 0..<100, using: &random) < 97
                    ? [0, 1, 2, 3, 4, 13].randomElement(using: &random)!
                    : Int.random(in: 0..<pieces.count, using: &random)
                bytes += pieces[index]
            }
            let expected = Self.reference(bytes)
            counts[expected, default: 0] += 1
            let (simd, scalar) = Self.validities(bytes)
            guard simd == expected, scalar == expected else {
                Issue.record("\(bytes): simd \(simd), scalar \(scalar), expected \(expected)")
                return
            }
        }
        // The generator must exercise all three answers.
        #expect(counts[.valid, default: 0] > 1000 && counts[.invalid, default: 0] > 1000)
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
