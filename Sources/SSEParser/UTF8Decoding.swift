import CUTF8Validation

/// Fast UTF-8 to `String` conversion for the parser's hot path.
///
/// `String(decoding:as:)` validates byte by byte and is the single largest cost of parsing a
/// stream. Almost all event-stream text is valid and mostly ASCII, so this validates eight
/// bytes at a time while they are ASCII and hands valid input to `String` without a second
/// validation. Invalid input, which needs U+FFFD repair, takes the standard library's path.
enum UTF8Decoding {
    /// Decodes UTF-8, replacing invalid sequences with U+FFFD as the WHATWG decoder does.
    @inline(__always)
    static func string(from bytes: UnsafeBufferPointer<UInt8>) -> String {
        #if compiler(>=6.2)
            if #available(macOS 26, iOS 26, tvOS 26, watchOS 26, visionOS 26, *) {
                switch validate(bytes) {
                case .ascii:
                    return String(copying: unsafe UTF8Span(unchecked: bytes.span, isKnownASCII: true))
                case .valid:
                    return String(copying: unsafe UTF8Span(unchecked: bytes.span))
                case .invalid:
                    break
                }
            }
        #endif
        return String(decoding: bytes, as: UTF8.self)
    }

    /// For lead bytes 0x80...0xFF (indexed by the low 7 bits): the lowest and highest allowed
    /// second byte (bits 0-7, 8-15), the sequence length (bits 16-23, 0 when the byte cannot
    /// start a sequence) and a mask of the continuation checks the third and fourth bytes need
    /// (bits 32-47, matching the top two bits of the third and fourth bytes).
    private static let leadBytes: [UInt64] = (0x80...0xFF).map { lead -> UInt64 in
        func entry(_ low: UInt64, _ high: UInt64, _ length: UInt64) -> UInt64 {
            let needed: UInt64 = length == 4 ? 0xC0C0 : (length == 3 ? 0x00C0 : 0)
            return low | high << 8 | length << 16 | needed << 32
        }
        switch lead {
        case 0xC2...0xDF: return entry(0x80, 0xBF, 2)
        case 0xE0: return entry(0xA0, 0xBF, 3)
        case 0xE1...0xEC, 0xEE...0xEF: return entry(0x80, 0xBF, 3)
        case 0xED: return entry(0x80, 0x9F, 3)
        case 0xF0: return entry(0x90, 0xBF, 4)
        case 0xF1...0xF3: return entry(0x80, 0xBF, 4)
        case 0xF4: return entry(0x80, 0x8F, 4)
        default: return 0
        }
    }

    enum Validity {
        case ascii
        case valid
        case invalid
    }

    /// From this length on, the SIMD validator (where the CPU has one) is faster than the
    /// scalar loop below, call overhead included.
    static let simdThreshold = 64

    /// Checks `bytes` against the well-formed byte sequences of Unicode 15, table 3-7.
    static func validate(_ bytes: UnsafeBufferPointer<UInt8>) -> Validity {
        guard let start = bytes.baseAddress else { return .ascii }
        let count = bytes.count
        if count >= simdThreshold {
            switch sse_utf8_validate(start, count) {
            case Int32(SSE_UTF8_ASCII): return .ascii
            case Int32(SSE_UTF8_VALID): return .valid
            case Int32(SSE_UTF8_INVALID): return .invalid
            default: break
            }
        }
        return validateScalar(bytes)
    }

    /// ``validate(_:)`` without SIMD instructions: 16 bytes at a time while they are ASCII.
    static func validateScalar(_ bytes: UnsafeBufferPointer<UInt8>) -> Validity {
        guard let start = bytes.baseAddress else { return .ascii }
        let count = bytes.count
        let raw = UnsafeRawPointer(start)
        let highBits: UInt64 = 0x8080_8080_8080_8080
        var index = 0
        var sawMultiByte = false
        // 16 bytes per step while they are ASCII; at a non-ASCII byte, check one sequence with
        // selects rather than branches (the mix of 2-, 3- and 4-byte characters in real text
        // would defeat branch prediction), then resume.
        while index &+ 16 <= count {
            let low = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) & highBits
            let high = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index &+ 8, as: UInt64.self)) & highBits
            if low | high == 0 {
                index &+= 16
                continue
            }
            // Gather the 16 high bits into one mask (bit n set when byte n is not ASCII) so the
            // offset of the first non-ASCII byte is one count of trailing zeros, without a branch.
            let spread: UInt64 = 0x0102_0408_1020_4080
            let mask = ((low &>> 7) &* spread) &>> 56 | (((high &>> 7) &* spread) &>> 56) &<< 8
            index &+= mask.trailingZeroBitCount
            guard index &+ 4 <= count else { break }
            sawMultiByte = true
            let lead = start[index]
            let entry = leadBytes[Int(lead & 0x7F)]
            let secondLow = UInt8(truncatingIfNeeded: entry)
            let secondHigh = UInt8(truncatingIfNeeded: entry &>> 8)
            let length = Int(truncatingIfNeeded: (entry &>> 16) & 0xFF)
            let continuationsNeeded = UInt32(truncatingIfNeeded: entry &>> 32)
            let second = start[index &+ 1]
            // Zero where the third and fourth bytes are continuation bytes (10xxxxxx).
            let continuations =
                (UInt32(start[index &+ 2] & 0xC0) | UInt32(start[index &+ 3] & 0xC0) &<< 8) ^ 0x8080
            let secondOutOfRange: UInt32 = (second &- secondLow) > (secondHigh &- secondLow) ? 1 : 0
            let invalidLead: UInt32 = length == 0 ? 1 : 0
            if secondOutOfRange | invalidLead | (continuations & continuationsNeeded) != 0 {
                return .invalid
            }
            index &+= length
        }

        // The last few bytes: two overlapping words when they are ASCII, else one sequence at a time.
        if count &- index >= 8 {
            let word =
                raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                | raw.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
            if word & highBits == 0 {
                return sawMultiByte ? .valid : .ascii
            }
        }
        while index < count {
            let lead = start[index]
            if lead < 0x80 {
                index &+= 1
                continue
            }
            sawMultiByte = true
            let length: Int
            var secondLow: UInt8 = 0x80
            var secondHigh: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                secondLow = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                secondHigh = 0x9F
            case 0xF0:
                length = 4
                secondLow = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                secondHigh = 0x8F
            default: return .invalid
            }
            guard index &+ length <= count else { return .invalid }
            let second = start[index &+ 1]
            guard second >= secondLow && second <= secondHigh else { return .invalid }
            if length > 2 {
                guard start[index &+ 2] & 0xC0 == 0x80 else { return .invalid }
                if length > 3 {
                    guard start[index &+ 3] & 0xC0 == 0x80 else { return .invalid }
                }
            }
            index &+= length
        }
        return sawMultiByte ? .valid : .ascii
    }
}
