/// JSON text without Foundation: quoting strings for `--format jsonl`, and re-indenting a JSON
/// document for `--format pretty` without parsing it into dictionaries, so key order and number
/// spellings stay exactly as the server sent them.
public enum JSONText {
    /// Appends `string` as a JSON string literal (RFC 8259 section 7): quotes, backslashes and
    /// every control character below U+0020 escaped, everything else as UTF-8.
    ///
    /// Swift strings are always valid Unicode, and the parser has already replaced invalid UTF-8
    /// with U+FFFD, so the output is valid JSON for any event data.
    public static func appendQuoted(_ string: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var string = string
        // Native strings are contiguous UTF-8 already: this does not copy.
        string.withUTF8 { appendEscaped($0, to: &output) }
        output.append(UInt8(ascii: "\""))
    }

    /// Appends `bytes` with JSON string escapes, copying the runs between escapes whole.
    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        var runStart = 0
        for index in bytes.indices {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            runStart = index + 1
            output.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(byte)
            case 0x0A: output.append(UInt8(ascii: "n"))
            case 0x0D: output.append(UInt8(ascii: "r"))
            case 0x09: output.append(UInt8(ascii: "t"))
            case 0x08: output.append(UInt8(ascii: "b"))
            case 0x0C: output.append(UInt8(ascii: "f"))
            default:
                output.append(contentsOf: "u00".utf8)
                output.append(hexDigit(byte >> 4))
                output.append(hexDigit(byte & 0x0F))
            }
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
    }

    /// `string` as a JSON string literal.
    public static func quoted(_ string: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(string.utf8.count + 2)
        appendQuoted(string, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Whether `text` is one complete JSON value (with optional surrounding whitespace).
    public static func isValid(_ text: String) -> Bool {
        var reader = Reindenter(Array(text.utf8), palette: nil)
        return reader.run() != nil
    }

    /// `text` re-indented with two spaces per level when it is a JSON object or array; `nil` when
    /// it is anything else (a scalar, or not JSON), so the caller shows it as it is.
    ///
    /// - Parameters:
    ///   - text: The candidate document.
    ///   - palette: ANSI colours for keys, strings, numbers and literals; `nil` for plain text.
    public static func prettyPrinted(_ text: String, palette: JSONPalette? = nil) -> String? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first(where: { !Reindenter.isWhitespace($0) }),
            first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
        else { return nil }
        var reader = Reindenter(bytes, palette: palette)
        return reader.run().map { String(decoding: $0, as: UTF8.self) }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}

/// The ANSI SGR sequences used to colour pretty-printed JSON.
public struct JSONPalette: Sendable, Hashable {
    /// Before an object key.
    public var key: String
    /// Before a string value.
    public var string: String
    /// Before a number.
    public var number: String
    /// Before `true`, `false` or `null`.
    public var literal: String
    /// After any of them.
    public var reset: String

    /// Creates a palette from SGR sequences.
    public init(key: String, string: String, number: String, literal: String, reset: String) {
        self.key = key
        self.string = string
        self.number = number
        self.literal = literal
        self.reset = reset
    }

    /// Blue keys, green strings, yellow numbers, magenta literals.
    public static let standard = JSONPalette(
        key: "\u{1B}[34m",
        string: "\u{1B}[32m",
        number: "\u{1B}[33m",
        literal: "\u{1B}[35m",
        reset: "\u{1B}[0m"
    )
}

/// A validating single pass over JSON text that writes it back indented. Recursive descent with a
/// depth limit, so hostile nesting falls back to the plain text instead of exhausting the stack.
private struct Reindenter {
    static let maximumDepth = 256

    let input: [UInt8]
    let palette: JSONPalette?
    var index = 0
    var output: [UInt8] = []

    init(_ input: [UInt8], palette: JSONPalette?) {
        self.input = input
        self.palette = palette
        output.reserveCapacity(input.count * 2)
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    mutating func run() -> [UInt8]? {
        skipWhitespace()
        guard value(depth: 0) else { return nil }
        skipWhitespace()
        return index == input.count ? output : nil
    }

    private var current: UInt8? { index < input.count ? input[index] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, Self.isWhitespace(byte) { index += 1 }
    }

    private mutating func newline(depth: Int) {
        output.append(0x0A)
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
    }

    private mutating func painted(_ color: KeyPath<JSONPalette, String>, _ body: (inout Self) -> Bool) -> Bool {
        if let palette { output.append(contentsOf: Array(palette[keyPath: color].utf8)) }
        guard body(&self) else { return false }
        if let palette { output.append(contentsOf: Array(palette.reset.utf8)) }
        return true
    }

    private mutating func value(depth: Int) -> Bool {
        guard depth < Self.maximumDepth, let byte = current else { return false }
        switch byte {
        case UInt8(ascii: "{"): return container(close: UInt8(ascii: "}"), isObject: true, depth: depth)
        case UInt8(ascii: "["): return container(close: UInt8(ascii: "]"), isObject: false, depth: depth)
        case UInt8(ascii: "\""): return painted(\.string) { $0.string() }
        case UInt8(ascii: "t"): return painted(\.literal) { $0.literal("true") }
        case UInt8(ascii: "f"): return painted(\.literal) { $0.literal("false") }
        case UInt8(ascii: "n"): return painted(\.literal) { $0.literal("null") }
        default: return painted(\.number) { $0.number() }
        }
    }

    private mutating func container(close: UInt8, isObject: Bool, depth: Int) -> Bool {
        output.append(input[index])
        index += 1
        skipWhitespace()
        if current == close {
            output.append(close)
            index += 1
            return true
        }
        while true {
            newline(depth: depth + 1)
            if isObject {
                guard current == UInt8(ascii: "\""), painted(\.key, { $0.string() }) else { return false }
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { return false }
                index += 1
                output.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
                skipWhitespace()
            }
            guard value(depth: depth + 1) else { return false }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                output.append(UInt8(ascii: ","))
                index += 1
                skipWhitespace()
            case close:
                newline(depth: depth)
                output.append(close)
                index += 1
                return true
            default:
                return false
            }
        }
    }

    /// Copies a string literal verbatim after checking it (escapes, no raw control characters).
    private mutating func string() -> Bool {
        let start = index
        index += 1
        while let byte = current {
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                output.append(contentsOf: input[start..<index])
                return true
            case UInt8(ascii: "\\"):
                guard let escaped = current else { return false }
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    continue
                case UInt8(ascii: "u"):
                    for _ in 0..<4 {
                        guard let hex = current, Self.isHexDigit(hex) else { return false }
                        index += 1
                    }
                default:
                    return false
                }
            case 0x00..<0x20:
                return false
            default:
                continue
            }
        }
        return false
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= input.count else { return false }
        let matches = word.withUTF8Buffer { expected in
            input[index..<index + count].elementsEqual(expected)
        }
        guard matches else { return false }
        output.append(contentsOf: input[index..<index + count])
        index += count
        return true
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, copied verbatim.
    private mutating func number() -> Bool {
        let start = index
        if current == UInt8(ascii: "-") { index += 1 }
        if current == UInt8(ascii: "0") {
            index += 1
        } else {
            guard digits() else { return false }
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard digits() else { return false }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard digits() else { return false }
        }
        output.append(contentsOf: input[start..<index])
        return true
    }

    private mutating func digits() -> Bool {
        let start = index
        while let byte = current, byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") { index += 1 }
        return index > start
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }
}
