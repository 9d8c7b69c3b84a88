/// A streaming gzip encoder (RFC 1952) that stores data in uncompressed deflate blocks (RFC 1951, §3.2.4).
///
/// A test server needs a valid gzip stream more than a small one, and stored blocks need no zlib: each
/// ``compress(_:)`` returns whole blocks, so a client's inflater can hand every write's bytes to the event
/// parser as soon as they arrive, the way a real server flushing its compressor would behave.
struct GzipStoredEncoder {
    private var crc = CRC32()
    private var size: UInt32 = 0
    private var headerWritten = false

    /// The ten-byte member header: magic, method deflate, no flags, no time, no extra flags, OS unknown.
    private static let header: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]

    /// The largest stored block: its length is a 16-bit field.
    private static let maximumBlock = 65_535

    /// Returns the gzip bytes for `bytes`: the header first, then non-final stored blocks.
    mutating func compress(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 15 + 5 * (bytes.count / Self.maximumBlock))
        appendHeaderIfNeeded(to: &output)
        var start = 0
        while start < bytes.count {
            let end = min(start + Self.maximumBlock, bytes.count)
            Self.appendStoredBlock(bytes[start..<end], final: false, to: &output)
            start = end
        }
        crc.update(bytes)
        size &+= UInt32(truncatingIfNeeded: bytes.count)
        return output
    }

    /// Returns the end of the stream: an empty final block, then CRC-32 and length, little-endian.
    mutating func finish() -> [UInt8] {
        var output: [UInt8] = []
        appendHeaderIfNeeded(to: &output)
        Self.appendStoredBlock([][...], final: true, to: &output)
        for value in [crc.value, size] {
            output += [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: value >> $0) }
        }
        return output
    }

    private mutating func appendHeaderIfNeeded(to output: inout [UInt8]) {
        if !headerWritten {
            output += Self.header
            headerWritten = true
        }
    }

    private static func appendStoredBlock(_ block: ArraySlice<UInt8>, final: Bool, to output: inout [UInt8]) {
        // BFINAL in bit 0, BTYPE 00 (stored) in bits 1-2, then padding to the byte boundary.
        output.append(final ? 1 : 0)
        let length = UInt16(block.count)
        output += [UInt8(length & 0xff), UInt8(length >> 8), UInt8(~length & 0xff), UInt8(~length >> 8)]
        output += block
    }
}

/// CRC-32 as gzip uses it (polynomial 0xEDB88320, reflected, initial and final XOR 0xFFFFFFFF).
struct CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 {
            value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1
        }
        return value
    }

    private var state: UInt32 = 0xFFFF_FFFF

    /// The checksum of all bytes so far.
    var value: UInt32 { state ^ 0xFFFF_FFFF }

    mutating func update(_ bytes: [UInt8]) {
        Self.table.withUnsafeBufferPointer { table in
            for byte in bytes {
                state = table[Int((state ^ UInt32(byte)) & 0xff)] ^ (state >> 8)
            }
        }
    }
}
