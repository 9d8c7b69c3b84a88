/// A dot path into a JSON document, such as `choices.0.delta.content`: what `--field` prints.
///
/// Each component names a member of an object by its key; a component that is a decimal number
/// (`0`, `12`) names an element of an array by its position, counting from 0 (and, in an object,
/// the member whose key is spelled that way). A key that contains a dot cannot be named.
///
/// Looking a value up is one validating pass over the UTF-8 bytes of the document (RFC 8259),
/// without Foundation and without building the values it passes: the document must be exactly
/// one JSON value, surrounded by optional whitespace, or the path finds nothing. Where an object
/// has a key more than once (RFC 8259 section 4 leaves the meaning open), the first one wins.
/// Nesting deeper than ``maximumDepth`` finds nothing, so hostile input cannot exhaust the stack.
///
/// ```swift
/// let path = JSONPath("choices.0.delta.content")!
/// path.value(in: #"{"choices":[{"delta":{"content":"Hi\n"}}]}"#)  // "Hi\n", a line feed
/// path.value(in: #"{"choices":[]}"#)                               // nil
/// ```
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    /// How deeply objects and arrays may nest in a document searched: 512.
    public static let maximumDepth = 512

    /// How ``append(from:as:to:)`` writes the value it finds.
    public enum Rendering: Sendable, Hashable {
        /// A string as its text, its escapes decoded; any other value (a number, `true`, `false`,
        /// `null`, an object, an array) as compact JSON: no whitespace outside strings, strings
        /// escaped the way ``JSONText/quoted(_:)`` does, numbers spelled as the document spells them.
        case text
        /// The ``text`` rendering as a JSON string literal: the `data` of a `--format jsonl` line.
        case quotedText
    }

    /// The keys the components name in objects, as UTF-8, one after another: component `n`'s
    /// ends at `keyEnds[n]`. Flat arrays, so a lookup reads them through pointers without a
    /// retain per step.
    private let keyBytes: [UInt8]
    private let keyEnds: [Int]
    /// The positions the components name in arrays; -1 where one is not a decimal number.
    private let indexes: [Int]

    /// The path as written, such as `choices.0.delta.content`.
    public let description: String

    /// Parses a dot path; `nil` when ``problem(with:)`` finds one (an empty path or component).
    public init?(_ text: String) {
        guard Self.problem(with: text) == nil else { return nil }
        description = text
        var keyBytes: [UInt8] = []
        var keyEnds: [Int] = []
        var indexes: [Int] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            keyBytes += part.utf8
            keyEnds.append(keyBytes.count)
            let isNumber = part.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            indexes.append(isNumber ? Int(part) ?? -1 : -1)
        }
        self.keyBytes = keyBytes
        self.keyEnds = keyEnds
        self.indexes = indexes
    }

    /// Why `text` is not a dot path, as a phrase to follow the option's name, or `nil` when it is one.
    public static func problem(with text: String) -> String? {
        if text.isEmpty {
            return "is empty; expected a dot path such as choices.0.delta.content"
        }
        if text.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
            return "'\(text)' has an empty component: each dot separates two keys or array indexes, "
                + "as in choices.0.delta.content"
        }
        return nil
    }

    /// Appends the value at this path in `json`, rendered as `rendering`.
    ///
    /// - Returns: Whether there was one. When `json` is not one JSON value, or has nothing at the
    ///   path, nothing is appended.
    @discardableResult
    public func append(from json: String, as rendering: Rendering, to output: inout [UInt8]) -> Bool {
        let found = json.utf8.withContiguousStorageIfAvailable { bytes in
            append(from: bytes, as: rendering, to: &output)
        }
        if let found { return found }
        return Array(json.utf8).withUnsafeBufferPointer { append(from: $0, as: rendering, to: &output) }
    }

    /// The value at this path in `json`, rendered as `rendering`; `nil` when ``append(from:as:to:)``
    /// finds none.
    public func value(in json: String, as rendering: Rendering = .text) -> String? {
        var output: [UInt8] = []
        guard append(from: json, as: rendering, to: &output) else { return nil }
        return String(decoding: output, as: UTF8.self)
    }

    private func append(
        from bytes: UnsafeBufferPointer<UInt8>,
        as rendering: Rendering,
        to output: inout [UInt8]
    ) -> Bool {
        let located = keyBytes.withUnsafeBufferPointer { keyBytes in
            keyEnds.withUnsafeBufferPointer { keyEnds in
                indexes.withUnsafeBufferPointer { indexes in
                    var scanner = JSONScanner(bytes, keyBytes: keyBytes, keyEnds: keyEnds, indexes: indexes)
                    return scanner.locate()
                }
            }
        }
        guard let range = located else { return false }
        let isString = bytes[range.lowerBound] == UInt8(ascii: "\"")
        switch (rendering, isString) {
        case (.text, true):
            JSONScanner.appendString(bytes, at: range.lowerBound, requoting: false, to: &output)
        case (.text, false):
            JSONScanner.appendCompact(bytes, range, to: &output)
        case (.quotedText, true):
            // The literal, its escapes written the canonical way, is the string holding its text.
            JSONScanner.appendString(bytes, at: range.lowerBound, requoting: true, to: &output)
        case (.quotedText, false):
            output.append(UInt8(ascii: "\""))
            let start = output.count
            JSONScanner.appendCompact(bytes, range, to: &output)
            JSONScanner.escapeQuotesAndBackslashes(in: &output, from: start)
            output.append(UInt8(ascii: "\""))
        }
        return true
    }
}

/// One validating pass over JSON text (RFC 8259) that finds where the value at a path is, skipping
/// everything else without building it. Recursive descent, bounded by ``JSONPath/maximumDepth``.
///
/// Every read checks its index against the buffer's count: the input is untrusted, and in an
/// optimized build an unsafe buffer does not check for itself.
struct JSONScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let keyBytes: UnsafeBufferPointer<UInt8>
    private let keyEnds: UnsafeBufferPointer<Int>
    private let indexes: UnsafeBufferPointer<Int>
    /// How many components the path has.
    private let steps: Int
    private var index = 0
    private var found: Range<Int>?
    /// Whether the string literal skipped last had an escape, so its bytes are not its text.
    private var lastStringHadEscape = false

    /// A scanner for the path whose components' keys are `keyBytes`, component `n`'s ending at
    /// `keyEnds[n]`, and whose array positions are `indexes` (-1: none).
    init(
        _ bytes: UnsafeBufferPointer<UInt8>,
        keyBytes: UnsafeBufferPointer<UInt8>,
        keyEnds: UnsafeBufferPointer<Int>,
        indexes: UnsafeBufferPointer<Int>
    ) {
        self.bytes = bytes
        self.keyBytes = keyBytes
        self.keyEnds = keyEnds
        self.indexes = indexes
        steps = keyEnds.count
    }

    /// The bytes of the value at the path, when the whole input is one valid JSON value
    /// (RFC 8259 section 2: `ws value ws`) with a value there.
    mutating func locate() -> Range<Int>? {
        skipWhitespace()
        guard value(depth: 0, step: 0) else { return nil }
        skipWhitespace()
        return index == bytes.count ? found : nil
    }

    // MARK: Grammar

    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")

    private func byte(is expected: UInt8) -> Bool {
        index < bytes.count && bytes[index] == expected
    }

    /// RFC 8259 section 2: space, horizontal tab, line feed, carriage return.
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, Self.isWhitespace(bytes[index]) { index += 1 }
    }

    /// Skips one value. `step` is the component of the path this value must match next:
    /// `steps` when this value is the one looked for, `nil` when it is off the path.
    private mutating func value(depth: Int, step: Int?) -> Bool {
        guard index < bytes.count else { return false }
        if step == steps {
            let start = index
            guard value(depth: depth, step: nil) else { return false }
            found = start..<index
            return true
        }
        switch bytes[index] {
        case UInt8(ascii: "{"): return object(depth: depth + 1, step: step)
        case UInt8(ascii: "["): return array(depth: depth + 1, step: step)
        case Self.quote: return skipString()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        default: return false
        }
    }

    /// `{ member *( , member ) }` where `member = string : value` (section 4).
    private mutating func object(depth: Int, step: Int?) -> Bool {
        guard depth <= JSONPath.maximumDepth else { return false }
        index += 1
        skipWhitespace()
        if byte(is: UInt8(ascii: "}")) {
            index += 1
            return true
        }
        // The key to follow, until it is found: the first of duplicate keys wins.
        var wanted = step
        while true {
            guard byte(is: Self.quote) else { return false }
            let keyStart = index
            guard skipString() else { return false }
            let key = keyStart..<index
            skipWhitespace()
            guard byte(is: UInt8(ascii: ":")) else { return false }
            index += 1
            skipWhitespace()
            var next: Int?
            if let step = wanted, keyEquals(key, step: step) {
                next = step + 1
                wanted = nil
            }
            guard value(depth: depth, step: next) else { return false }
            skipWhitespace()
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                index += 1
                return true
            default:
                return false
            }
        }
    }

    /// `[ value *( , value ) ]` (section 5).
    private mutating func array(depth: Int, step: Int?) -> Bool {
        guard depth <= JSONPath.maximumDepth else { return false }
        index += 1
        skipWhitespace()
        if byte(is: UInt8(ascii: "]")) {
            index += 1
            return true
        }
        let wanted = step.map { indexes[$0] } ?? -1
        var position = 0
        while true {
            guard value(depth: depth, step: position == wanted ? step.map { $0 + 1 } : nil) else { return false }
            position += 1
            skipWhitespace()
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                index += 1
                return true
            default:
                return false
            }
        }
    }

    /// A string literal (section 7): no raw control characters, only the escapes `\" \\ \/ \b \f
    /// \n \r \t \uXXXX`. The input is a Swift string's UTF-8, so it is valid UTF-8 already.
    private mutating func skipString() -> Bool {
        var position = index + 1
        lastStringHadEscape = false
        while true {
            position = Self.nextSpecialByte(bytes, from: position)
            guard position < bytes.count else { return false }
            let byte = bytes[position]
            if byte == Self.quote {
                index = position + 1
                return true
            }
            guard byte == Self.backslash, position + 1 < bytes.count else { return false }
            lastStringHadEscape = true
            switch bytes[position + 1] {
            case Self.quote, Self.backslash, UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                position += 2
            case UInt8(ascii: "u"):
                guard Self.hexQuad(bytes, at: position + 2) != nil else { return false }
                position += 6
            default:
                return false
            }
        }
    }

    /// The index of the first quote, backslash or control character at or after `start` in a
    /// string literal, or the count: the runs between them are most of a JSON text, so they are
    /// searched eight bytes at a time.
    @inline(__always)
    private static func nextSpecialByte(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = bytes.baseAddress else { return bytes.count }
        var position = start
        let ones: UInt64 = 0x0101_0101_0101_0101
        while bytes.count - position >= 8 {
            let word = UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self)
            // Bit 7 of a byte of `(x - ones) & ~x` is set where that byte of x is 0, and perhaps
            // in later bytes (a borrow), never in earlier ones; of `(x - 0x20 * ones) & ~x` where
            // the byte is below 0x20. So the lowest bit set, in a little-endian load, is exact.
            let quotes = word.littleEndian ^ (ones &* 0x22)
            let backslashes = word.littleEndian ^ (ones &* 0x5C)
            let below = word.littleEndian
            let found =
                (((quotes &- ones) & ~quotes) | ((backslashes &- ones) & ~backslashes)
                    | ((below &- ones &* 0x20) & ~below)) & (ones &* 0x80)
            if found != 0 { return position + found.trailingZeroBitCount / 8 }
            position += 8
        }
        while position < bytes.count {
            let byte = bytes[position]
            if byte == quote || byte == backslash || byte < 0x20 { return position }
            position += 1
        }
        return position
    }

    /// `true`, `false` or `null` (section 3).
    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        let expected = word.utf8Start
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            return false
        }
        index += count
        return true
    }

    /// `-? (0 | [1-9] [0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` (section 6).
    private mutating func number() -> Bool {
        if byte(is: UInt8(ascii: "-")) { index += 1 }
        if byte(is: UInt8(ascii: "0")) {
            index += 1
        } else {
            guard digits() else { return false }
        }
        if byte(is: UInt8(ascii: ".")) {
            index += 1
            guard digits() else { return false }
        }
        if byte(is: UInt8(ascii: "e")) || byte(is: UInt8(ascii: "E")) {
            index += 1
            if byte(is: UInt8(ascii: "+")) || byte(is: UInt8(ascii: "-")) { index += 1 }
            guard digits() else { return false }
        }
        return true
    }

    private mutating func digits() -> Bool {
        let start = index
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            index += 1
        }
        return index > start
    }

    /// Whether the string literal at `literal` (quotes included, just skipped) has the text of
    /// component `step`'s key.
    private func keyEquals(_ literal: Range<Int>, step: Int) -> Bool {
        let key = UnsafeBufferPointer(rebasing: keyBytes[(step == 0 ? 0 : keyEnds[step - 1])..<keyEnds[step]])
        let inner = literal.lowerBound + 1..<literal.upperBound - 1
        guard lastStringHadEscape else {
            guard inner.count == key.count else { return false }
            for offset in 0..<key.count where bytes[inner.lowerBound + offset] != key[offset] {
                return false
            }
            return true
        }
        // Rare: a key spelled with escapes (`"con\u0074ent"`) is compared by its text.
        var text: [UInt8] = []
        Self.appendString(bytes, at: literal.lowerBound, requoting: false, to: &text)
        return text.elementsEqual(key)
    }

    // MARK: Writing a value found

    /// The code unit of the four hexadecimal digits at `position`, or `nil` if there are not four.
    private static func hexQuad(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int) -> UInt32? {
        guard position >= 0, bytes.count - position >= 4 else { return nil }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let byte = bytes[position + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Appends the string literal that opens at `start` (a checked one): as its text, escapes
    /// decoded, or, when `requoting`, as a JSON string literal again with its escapes written the
    /// canonical way (`\"`, `\\`, `\b \f \n \r \t`, `\u00XX` for other control characters, and
    /// every other character as UTF-8: `\/` becomes `/`, `\u00e9` becomes `é`).
    ///
    /// `\uXXXX` escapes are UTF-16 code units (section 7): a high surrogate followed by a low one
    /// is one character; an unpaired surrogate, which no UTF-8 text can hold, becomes U+FFFD.
    ///
    /// - Returns: The index after the closing quote.
    @discardableResult
    static func appendString(
        _ bytes: UnsafeBufferPointer<UInt8>,
        at start: Int,
        requoting: Bool,
        to output: inout [UInt8]
    ) -> Int {
        if requoting { output.append(quote) }
        var position = start + 1
        var runStart = position
        while position < bytes.count {
            position = nextSpecialByte(bytes, from: position)
            guard position < bytes.count else { break }
            let byte = bytes[position]
            if byte < 0x20 {
                // Not in a checked literal; kept as text rather than read as an escape.
                position += 1
                continue
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
            if byte == quote {
                if requoting { output.append(quote) }
                return position + 1
            }
            guard position + 1 < bytes.count else { break }
            let scalar: UInt32
            switch bytes[position + 1] {
            case UInt8(ascii: "b"): scalar = 0x08
            case UInt8(ascii: "f"): scalar = 0x0C
            case UInt8(ascii: "n"): scalar = 0x0A
            case UInt8(ascii: "r"): scalar = 0x0D
            case UInt8(ascii: "t"): scalar = 0x09
            case UInt8(ascii: "u"):
                guard let unit = hexQuad(bytes, at: position + 2) else { return bytes.count }
                position += 4
                switch unit {
                case 0xD800...0xDBFF:
                    if bytes.count - position > 3, bytes[position + 2] == backslash,
                        bytes[position + 3] == UInt8(ascii: "u"),
                        let low = hexQuad(bytes, at: position + 4), (0xDC00...0xDFFF).contains(low)
                    {
                        scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        position += 6
                    } else {
                        scalar = 0xFFFD
                    }
                case 0xDC00...0xDFFF:
                    scalar = 0xFFFD
                default:
                    scalar = unit
                }
            case let escaped:
                // `\"`, `\\` and `\/` stand for themselves.
                scalar = UInt32(escaped)
            }
            position += 2
            runStart = position
            if requoting {
                appendEscaped(scalar, to: &output)
            } else {
                appendUTF8(scalar, to: &output)
            }
        }
        return bytes.count
    }

    /// Appends a value (a checked one) with the whitespace outside its strings removed and its
    /// strings requoted by ``appendString(_:at:requoting:to:)``.
    static func appendCompact(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, to output: inout [UInt8]) {
        var position = range.lowerBound
        while position < range.upperBound {
            let byte = bytes[position]
            if isWhitespace(byte) {
                position += 1
            } else if byte == quote {
                position = appendString(bytes, at: position, requoting: true, to: &output)
            } else {
                let start = position
                while position < range.upperBound, !isWhitespace(bytes[position]), bytes[position] != quote {
                    position += 1
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<position]))
            }
        }
    }

    /// Puts a backslash before every quote and backslash in `output[start...]`, in place: compact
    /// JSON has no other character a string literal must escape.
    static func escapeQuotesAndBackslashes(in output: inout [UInt8], from start: Int) {
        var extra = 0
        for byte in output[start...] where byte == quote || byte == backslash { extra += 1 }
        guard extra > 0 else { return }
        var read = output.count
        output.append(contentsOf: repeatElement(0, count: extra))
        var write = output.count
        // From the end, so every byte moves once and none is overwritten before it is read.
        while read > start {
            read -= 1
            let byte = output[read]
            write -= 1
            output[write] = byte
            if byte == quote || byte == backslash {
                write -= 1
                output[write] = backslash
            }
        }
    }

    /// Appends `scalar` as it is written inside a JSON string literal.
    private static func appendEscaped(_ scalar: UInt32, to output: inout [UInt8]) {
        switch scalar {
        case 0x22, 0x5C:
            output.append(backslash)
            output.append(UInt8(scalar))
        case 0x08: output.append(contentsOf: [backslash, UInt8(ascii: "b")])
        case 0x0C: output.append(contentsOf: [backslash, UInt8(ascii: "f")])
        case 0x0A: output.append(contentsOf: [backslash, UInt8(ascii: "n")])
        case 0x0D: output.append(contentsOf: [backslash, UInt8(ascii: "r")])
        case 0x09: output.append(contentsOf: [backslash, UInt8(ascii: "t")])
        case 0..<0x20:
            output.append(contentsOf: [backslash, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            output.append(hexDigit(UInt8(scalar >> 4)))
            output.append(hexDigit(UInt8(scalar & 0x0F)))
        default:
            appendUTF8(scalar, to: &output)
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// Appends a Unicode scalar value (never a surrogate) as UTF-8.
    private static func appendUTF8(_ scalar: UInt32, to output: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            output.append(UInt8(scalar))
        case 0x80..<0x800:
            output.append(UInt8(0xC0 | scalar >> 6))
            output.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            output.append(UInt8(0xE0 | scalar >> 12))
            output.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            output.append(UInt8(0x80 | scalar & 0x3F))
        default:
            output.append(UInt8(0xF0 | scalar >> 18))
            output.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            output.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            output.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}
