import SSEParser
import Testing

/// A small deterministic random number generator, so a failing seed can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A straightforward transcription of the standard, independent of the parser under test:
/// decode the whole stream, skip one BOM, split into lines, interpret each line.
func referenceInterpretation(of bytes: [UInt8]) -> ParseOutcome {
    var scalars = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
    if scalars.first == "\u{FEFF}" { scalars.removeFirst() }

    var lines: [[Unicode.Scalar]] = []
    var current: [Unicode.Scalar] = []
    var index = 0
    while index < scalars.count {
        let scalar = scalars[index]
        if scalar == "\r" || scalar == "\n" {
            lines.append(current)
            current = []
            if scalar == "\r", index + 1 < scalars.count, scalars[index + 1] == "\n" { index += 1 }
        } else {
            current.append(scalar)
        }
        index += 1
    }
    // `current` is an unterminated line: discarded at the end of the stream.

    var items: [EventStreamItem] = []
    var data = ""
    var eventType = ""
    var lastEventIDBuffer = ""
    var lastEventID = ""
    func text(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var string = ""
        string.unicodeScalars.append(contentsOf: scalars)
        return string
    }
    for line in lines {
        if line.isEmpty {
            lastEventID = lastEventIDBuffer
            if data.isEmpty {
                eventType = ""
                continue
            }
            if data.hasSuffix("\n") { data.removeLast() }
            items.append(
                .event(ServerSentEvent(id: lastEventID, type: eventType.isEmpty ? "message" : eventType, data: data)))
            data = ""
            eventType = ""
            continue
        }
        if line.first == ":" {
            items.append(.comment(text(line.dropFirst())))
            continue
        }
        let name: String
        var value: ArraySlice<Unicode.Scalar>
        if let colon = line.firstIndex(of: ":") {
            name = text(line[..<colon])
            value = line[(colon + 1)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            name = text(line[...])
            value = []
        }
        switch name {
        case "data": data += text(value) + "\n"
        case "event": eventType = text(value)
        case "id": if !value.contains("\u{0000}") { lastEventIDBuffer = text(value) }
        case "retry":
            if !value.isEmpty, value.allSatisfy({ ("0"..."9").contains($0) }) {
                items.append(.retry(.milliseconds(Int64(text(value)) ?? Int64.max)))
            }
        default: break
        }
    }
    return ParseOutcome(items: items, lastEventID: lastEventID, error: nil)
}

/// Generates streams mixing every construct the parser handles.
struct StreamGenerator {
    var random: SplitMix64

    private static let newlines = ["\n", "\r", "\r\n"]
    private static let words = [
        "a", "data", "id", "event", "retry", ":", " ", "x y", "é", "東京", "😀", "\u{0000}", "12", "message",
    ]
    private static let invalidBytes: [[UInt8]] = [
        [0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF0, 0x9F], [0x80],
    ]
    private static let fieldNames = ["data", "data", "data", "event", "id", "retry", "Data", "foo", ""]

    mutating func stream() -> [UInt8] {
        var bytes: [UInt8] = []
        if Int.random(in: 0..<4, using: &random) == 0 { bytes += [0xEF, 0xBB, 0xBF] }
        for _ in 0..<Int.random(in: 0...6, using: &random) {
            for _ in 0..<Int.random(in: 0...4, using: &random) {
                bytes += line()
                bytes += Array(Self.newlines.randomElement(using: &random)!.utf8)
            }
            bytes += Array(Self.newlines.randomElement(using: &random)!.utf8)
        }
        if Bool.random(using: &random) { bytes += line() }
        return bytes
    }

    private mutating func line() -> [UInt8] {
        switch Int.random(in: 0..<10, using: &random) {
        case 0: return [UInt8(ascii: ":")] + value()
        case 1: return Array(Self.fieldNames.randomElement(using: &random)!.utf8)
        case 2: return Array("retry: \(Int.random(in: 0...99999, using: &random))".utf8)
        default:
            let name = Array(Self.fieldNames.randomElement(using: &random)!.utf8)
            let separator = Array([":", ": ", ":  "].randomElement(using: &random)!.utf8)
            return name + separator + value()
        }
    }

    private mutating func value() -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<Int.random(in: 0...4, using: &random) {
            if Int.random(in: 0..<8, using: &random) == 0 {
                bytes += Self.invalidBytes.randomElement(using: &random)!
            } else {
                bytes += Array(Self.words.randomElement(using: &random)!.utf8)
            }
        }
        return bytes
    }
}

@Suite("Randomized streams")
struct RandomizedStreamTests {
    @Test("the parser agrees with a transcription of the standard, however the stream is chunked")
    func agreesWithReference() {
        var generator = StreamGenerator(random: SplitMix64(seed: 0x5EED))
        var chunking = SplitMix64(seed: 42)
        for iteration in 0..<3000 {
            let bytes = generator.stream()
            let expected = referenceInterpretation(of: bytes)
            let whole = parse(bytes)
            guard whole == expected else {
                Issue.record("stream #\(iteration) \(bytes): parser gave \(whole), the standard says \(expected)")
                return
            }
            var cuts: [Int] = []
            var position = 0
            while position < bytes.count {
                position += Int.random(in: 1...8, using: &chunking)
                cuts.append(min(position, bytes.count))
            }
            let chunked = parse(bytes, chunkedAt: cuts)
            guard chunked == expected else {
                Issue.record(
                    "stream #\(iteration) \(bytes) cut at \(cuts): parser gave \(chunked), the standard says \(expected)"
                )
                return
            }
        }
    }

    @Test("every split position gives the same result, on generated streams")
    func everySplitPosition() {
        var generator = StreamGenerator(random: SplitMix64(seed: 7))
        for _ in 0..<150 {
            parseEveryWay(generator.stream())
        }
    }
}
