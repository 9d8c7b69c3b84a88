import Foundation
import SSEListenCore
import Testing

/// `--field`'s lookup, rule by rule of RFC 8259: what a document must be for a path to find
/// anything, how each kind of value is printed, and that hostile input finds nothing quickly.
@Suite("JSON path")
struct JSONPathTests {
    /// The text at `path` in `json`, or `nil`.
    static func text(_ path: String, _ json: String) -> String? {
        JSONPath(path)!.value(in: json)
    }

    /// The value at `path` in `json` as a JSON string literal, or `nil`.
    static func quoted(_ path: String, _ json: String) -> String? {
        JSONPath(path)!.value(in: json, as: .quotedText)
    }

    // MARK: Paths

    @Test("a path is dot-separated components; a decimal component indexes an array")
    func parsing() {
        #expect(JSONPath("choices.0.delta.content")?.description == "choices.0.delta.content")
        #expect(Self.text("choices.0.delta.content", #"{"choices":[{"delta":{"content":"Hi"}}]}"#) == "Hi")
        #expect(Self.text("a", #"{"a":1}"#) == "1")
        #expect(Self.text("1", #"["x","y"]"#) == "y")
        #expect(Self.text("007", #"[0,1,2,3,4,5,6,"seven"]"#) == "seven", "leading zeros still count")
        #expect(Self.text("0", #"{"0":"zero"}"#) == "zero", "a number also names a key of that spelling")
        #expect(Self.text("a", #"["x"]"#) == nil, "a key names nothing in an array")
        #expect(Self.text("-1", #"["x"]"#) == nil, "no negative indexes: '-1' is a key")
        #expect(Self.text("-1", #"{"-1":"minus one"}"#) == "minus one")
        #expect(Self.text("99999999999999999999999", #"["x"]"#) == nil, "too large to be an index")
        #expect(Self.text("é.🎉", #"{"é":{"🎉":"party"}}"#) == "party", "keys are compared as UTF-8 text")
        #expect(Self.text("a b", #"{"a b":1}"#) == "1")
    }

    @Test("an empty path is not a path")
    func emptyPath() {
        #expect(JSONPath("") == nil)
        #expect(JSONPath.problem(with: "") == "is empty; expected a dot path such as choices.0.delta.content")
    }

    @Test("a path with an empty component is not a path", arguments: ["a..b", ".a", "a.", ".", "a.b..c"])
    func emptyComponent(path: String) {
        #expect(JSONPath(path) == nil)
        #expect(
            JSONPath.problem(with: path)
                == "'\(path)' has an empty component: each dot separates two keys or array indexes, "
                + "as in choices.0.delta.content")
    }

    // MARK: RFC 8259 section 2: the document

    @Test("insignificant whitespace is space, tab, line feed and carriage return, around any token")
    func whitespace() {
        #expect(Self.text("a.1", " \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ 0 , \"x\" ] \n} \r\n") == "x")
        #expect(Self.text("a", "\u{0C}{\"a\":1}") == nil, "form feed is not JSON whitespace")
        #expect(Self.text("a", "{\"a\":1}\u{A0}") == nil, "nor is a no-break space")
        #expect(Self.text("a", "\u{FEFF}{\"a\":1}") == nil, "nor a byte order mark")
    }

    @Test(
        "the data must be exactly one JSON value",
        arguments: [
            "", " ", "{\"a\":1} {\"a\":2}", "{\"a\":1}x", "{\"a\":1},", "{\"a\":1}}", "[DONE]", "data",
            "{\"a\":1", "a=1", "'{\"a\":1}'",
        ])
    func oneValue(json: String) {
        #expect(Self.text("a", json) == nil)
    }

    @Test("a path into a scalar finds nothing")
    func scalars() {
        for json in ["1", "\"a\"", "true", "null"] {
            #expect(Self.text("a", json) == nil)
            #expect(Self.text("0", json) == nil)
        }
    }

    // MARK: Section 3: literals

    @Test("true, false and null: exactly those words, printed as themselves")
    func literals() {
        #expect(Self.text("a", #"{"a":true}"#) == "true")
        #expect(Self.text("a", #"{"a":false}"#) == "false")
        #expect(Self.text("a", #"{"a":null}"#) == "null")
        for bad in ["True", "nul", "truex", "fals", "NULL", "undefined", "nil"] {
            #expect(Self.text("a", #"{"a":\#(bad)}"#) == nil, "\(bad)")
        }
        #expect(Self.text("b", #"{"a":tru}"#) == nil, "a malformed value elsewhere spoils the document")
    }

    // MARK: Section 4: objects

    @Test("object members: found by key, missing keys find nothing, the first of duplicate keys wins")
    func objects() {
        let json = #"{"a":{"b":{"c":"deep"}},"x":1,"x":2,"e":{}}"#
        #expect(Self.text("a.b.c", json) == "deep")
        #expect(Self.text("a.b", json) == #"{"c":"deep"}"#)
        #expect(Self.text("a.b.d", json) == nil)
        #expect(Self.text("missing", json) == nil)
        #expect(Self.text("a.b.c.d", json) == nil, "past a string")
        #expect(Self.text("x", json) == "1", "the first of duplicate keys wins")
        #expect(Self.text("e", json) == "{}")
        #expect(Self.text("y", #"{"y":{"q":1},"y":{"w":2}}"#) == #"{"q":1}"#)
        #expect(Self.text("y.w", #"{"y":{"z":1},"y":{"w":2}}"#) == nil, "a later duplicate is not searched")
        #expect(Self.text("A", #"{"a":1}"#) == nil, "keys are case-sensitive")
    }

    @Test("a key spelled with escapes is matched by its text")
    func escapedKeys() {
        #expect(Self.text("content", #"{"con\u0074ent":"hi"}"#) == "hi")
        #expect(Self.text("a\"b", #"{"a\"b":1}"#) == "1")
        #expect(Self.text("a/b", #"{"a\/b":1}"#) == "1")
        #expect(Self.text("🎉", #"{"\ud83c\udf89":1}"#) == "1")
        #expect(Self.text("ab", #"{"a\u0000b":1}"#) == nil)
    }

    @Test(
        "malformed objects find nothing",
        arguments: [
            #"{"a":1,}"#, #"{"a" 1}"#, #"{a:1}"#, #"{'a':1}"#, #"{"a":1 "b":2}"#, #"{,"a":1}"#, #"{"a"}"#,
            #"{"a":}"#, #"{1:1}"#, #"{"a"::1}"#, #"{"a":1]"#,
        ])
    func malformedObjects(json: String) {
        #expect(Self.text("a", json) == nil)
    }

    // MARK: Section 5: arrays

    @Test("array elements: by position from 0, nested arrays, out of range finds nothing")
    func arrays() {
        let json = #"[[1,2],[3,[4,"five"]],[]]"#
        #expect(Self.text("0", json) == "[1,2]")
        #expect(Self.text("0.1", json) == "2")
        #expect(Self.text("1.1.1", json) == "five")
        #expect(Self.text("1.1.2", json) == nil)
        #expect(Self.text("2", json) == "[]")
        #expect(Self.text("2.0", json) == nil)
        #expect(Self.text("3", json) == nil)
        #expect(Self.text("choices.1.text", #"{"choices":[{"text":"a"},{"text":"b"}]}"#) == "b")
    }

    @Test("malformed arrays find nothing", arguments: ["[1,]", "[,1]", "[1 2]", "[1,,2]", "[1}", "[", "]"])
    func malformedArrays(json: String) {
        #expect(Self.text("0", json) == nil)
    }

    // MARK: Section 6: numbers

    @Test(
        "numbers are printed exactly as spelled",
        arguments: ["0", "-0", "42", "-17", "3.25", "1e3", "1E+3", "2.5e-10", "-0.0e0", "12345678901234567890123"])
    func numbers(number: String) {
        #expect(Self.text("n", #"{"n":\#(number)}"#) == number)
        #expect(Self.text("0", "[ \(number) ]") == number)
    }

    @Test(
        "malformed numbers find nothing",
        arguments: ["01", "-01", "1.", ".5", "+1", "-", "1e", "1e+", "0x10", "NaN", "Infinity", "-Infinity", "1.2.3"])
    func malformedNumbers(number: String) {
        #expect(Self.text("n", #"{"n":\#(number)}"#) == nil)
    }

    // MARK: Section 7: strings

    @Test(
        "every escape is decoded when a string prints as its text",
        arguments: [
            (#""\"""#, "\""), (#""\\""#, "\\"), (#""\/""#, "/"), (#""\b""#, "\u{08}"), (#""\f""#, "\u{0C}"),
            (#""\n""#, "\n"), (#""\r""#, "\r"), (#""\t""#, "\t"), (#""\u0041""#, "A"), (#""\u00e9""#, "é"),
            (#""\u00E9""#, "é"), (#""\u20ac""#, "€"), (#""\u0000""#, "\u{0}"), (#""\u001b[31m""#, "\u{1B}[31m"),
            (#""\ud83c\udf89""#, "🎉"), (#""\uD83C\uDF89""#, "🎉"), (#""a\nb\tc""#, "a\nb\tc"),
            (#""\u2028\u2029""#, "\u{2028}\u{2029}"), (#""plain é 🎉""#, "plain é 🎉"), (#""""#, ""),
        ])
    func escapes(literal: String, text: String) {
        #expect(Self.text("s", #"{"s":\#(literal)}"#) == text)
    }

    @Test("strings are searched eight bytes at a time: an escape, a quote or a control character at every offset")
    func everyOffset() {
        for length in 0..<20 {
            for position in 0...length {
                for trailing in 0..<9 {
                    let end = String(repeating: " ", count: trailing)
                    let head = String(repeating: "é", count: position / 2) + String(repeating: "a", count: position % 2)
                    let tail = String(repeating: "b", count: length - position)
                    #expect(Self.text("s", #"{"s":"\#(head)\"\#(tail)"}"# + end) == head + "\"" + tail)
                    #expect(Self.text("s", #"{"s":"\#(head)\\\#(tail)"}"# + end) == head + "\\" + tail)
                    #expect(Self.quoted("s", #"{"s":"\#(head)\u0022\#(tail)"}"# + end) == #""\#(head)\"\#(tail)""#)
                    #expect(Self.text("s", #"{"s":"\#(head)\#(tail)"}"# + end) == head + tail)
                    #expect(Self.text("s", "{\"s\":\"\(head)\u{1F}\(tail)\"}" + end) == nil)
                    #expect(Self.text("s", "{\"s\":\"\(head)\u{7F}\(tail)\"}" + end) == head + "\u{7F}" + tail)
                    #expect(Self.text("s", #"{"s":"\#(head)"# + end) == nil)
                }
            }
        }
    }

    @Test("an unpaired surrogate, which UTF-8 cannot hold, prints as U+FFFD")
    func loneSurrogates() {
        #expect(Self.text("s", #"{"s":"\ud83c"}"#) == "\u{FFFD}")
        #expect(Self.text("s", #"{"s":"\udf89x"}"#) == "\u{FFFD}x")
        #expect(Self.text("s", #"{"s":"\ud83c\u0041"}"#) == "\u{FFFD}A")
        #expect(Self.text("s", #"{"s":"\ud83c\ud83c\udf89"}"#) == "\u{FFFD}🎉")
        #expect(Self.quoted("s", #"{"s":"\ud83c"}"#) == "\"\u{FFFD}\"")
    }

    @Test(
        "malformed strings find nothing: unknown escapes, short \\u, raw control characters, no closing quote",
        arguments: [
            #""\x""#, #""\u12""#, #""\u12g4""#, #""\U0041""#, #""\'""#, #""\""#, #""abc"#, "\"tab\there\"",
            "\"line\nfeed\"", "\"nul\u{0}\"", "\"\u{1F}\"",
        ])
    func malformedStrings(literal: String) {
        #expect(Self.text("s", #"{"s":\#(literal)}"#) == nil)
        #expect(Self.text("t", #"{"s":\#(literal),"t":1}"#) == nil, "also when skipped")
    }

    // MARK: Rendering

    @Test("other values print as compact JSON: whitespace outside strings removed, strings requoted")
    func compact() {
        let json = """
            { "v" : { "list" : [ 1 , -2.5e3 , true , false , null , "a b" , { } , [ ] ] ,
              "s" : "\\u0041\\/\\"\\\\\\n\\u001f\\u00e9 ", "k\\u0065y" : 0 } }
            """
        #expect(
            Self.text("v", json)
                == #"{"list":[1,-2.5e3,true,false,null,"a b",{},[]],"s":"A/\"\\\n\u001fé ","key":0}"#)
    }

    @Test("as a JSON string literal (jsonl's data): the text of the value, escaped")
    func quotedText() throws {
        #expect(Self.quoted("s", #"{"s":"Hi\n\"you\"\u00e9"}"#) == #""Hi\n\"you\"é""#)
        #expect(Self.quoted("n", #"{"n":42}"#) == #""42""#)
        #expect(Self.quoted("o", #"{"o":{ "a" : [1, "x\"y\\z"] }}"#) == #""{\"a\":[1,\"x\\\"y\\\\z\"]}""#)
        #expect(Self.quoted("o", #"{"o":null}"#) == #""null""#)
        // Whatever the value, the literal decodes to the text rendering.
        let json = #"{"o":{"a":[1,"x\"y\\z\n\u0001"],"b":"\ud83c\udf89"},"s":"q\"\\\/\b\f\n\r\t\u0000"}"#
        for path in ["o", "o.a", "o.a.1", "o.b", "s"] {
            let literal = try #require(Self.quoted(path, json))
            let decoded = try JSONSerialization.jsonObject(with: Data(literal.utf8), options: .fragmentsAllowed)
            #expect(decoded as? String == Self.text(path, json), "\(path): \(literal)")
        }
    }

    @Test("append adds the value to what is there, and nothing when there is none")
    func append() {
        let path = JSONPath("a")!
        var output = Array("before:".utf8)
        #expect(path.append(from: #"{"a":"x"}"#, as: .text, to: &output))
        #expect(!path.append(from: #"{"b":"x"}"#, as: .text, to: &output))
        #expect(!path.append(from: #"{"a":"x"#, as: .quotedText, to: &output))
        #expect(path.append(from: #"{"a":[1]}"#, as: .quotedText, to: &output))
        #expect(String(decoding: output, as: UTF8.self) == #"before:x"[1]""#)
    }

    // MARK: Hostile and large input

    @Test("every truncation of a document finds nothing, and none crashes")
    func truncated() {
        let json =
            #"{"id":"c1","choices":[{"index":0,"delta":{"content":"H\u00e9\ud83c\udf89 \"q\"\n"},"x":[1.5e3,true,null]}]}"#
        let path = JSONPath("choices.0.delta.content")!
        #expect(path.value(in: json) == "Hé🎉 \"q\"\n")
        let bytes = Array(json.utf8)
        for end in 0..<bytes.count {
            let prefix = String(decoding: bytes[..<end], as: UTF8.self)
            #expect(path.value(in: prefix) == nil, "\(prefix)")
            #expect(JSONPath("id")!.value(in: prefix) == nil, "\(prefix)")
        }
    }

    @Test("nesting up to the depth limit is searched; deeper finds nothing without exhausting the stack")
    func depth() {
        let limit = JSONPath.maximumDepth
        let deepest = String(repeating: "[", count: limit) + "\"bottom\"" + String(repeating: "]", count: limit)
        let path = Array(repeating: "0", count: limit).joined(separator: ".")
        #expect(Self.text(path, deepest) == "bottom")
        #expect(Self.text("0", deepest)?.count == deepest.count - 2)
        let tooDeep = "[" + deepest + "]"
        #expect(Self.text("0", tooDeep) == nil)
        let objects = String(repeating: #"{"a":"#, count: limit + 1) + "1" + String(repeating: "}", count: limit + 1)
        #expect(Self.text("a", objects) == nil)
        let hostile = String(repeating: "[", count: 1_000_000)
        #expect(Self.text("0", hostile) == nil)
        #expect(Self.text("0", String(repeating: "[{\"a\":", count: 500_000)) == nil)
    }

    @Test("megabytes: a long string, and the value after a hundred thousand elements")
    func huge() {
        let long = String(repeating: "token é🎉 ", count: 200_000)
        #expect(Self.text("s", #"{"s":"\#(long)"}"#) == long)
        let elements = (0..<100_000).map { #"{"n":\#($0),"s":"\u00e9 \#($0)"}"# }.joined(separator: ",")
        let json = #"{"items":[\#(elements)],"last":"found"}"#
        #expect(Self.text("last", json) == "found")
        #expect(Self.text("items.99999.s", json) == "é 99999")
        #expect(Self.text("items.100000", json) == nil)
        #expect(Self.text("last", json.replacing(#","last""#, with: #""last""#)) == nil, "a missing comma at the end")
    }

    // MARK: Against a reference

    @Test("random documents, random spacing and escapes: every path finds what a reference model says")
    func randomDocuments() throws {
        var random = SeededRandom(seed: 0x5EED_F1E1D)
        var checked = 0
        for _ in 0..<300 {
            let value = ReferenceJSON.random(depth: 0, using: &random)
            let text = value.serialized(using: &random)
            for (path, expected) in value.paths() where !path.isEmpty {
                let joined = path.joined(separator: ".")
                guard let jsonPath = JSONPath(joined) else { continue }
                #expect(jsonPath.value(in: text) == expected.text, "\(joined) in \(text)")
                checked += 1
            }
            // Mutations must never crash, and a document cut short (an object or an array, so no
            // prefix is a document) finds nothing.
            var bytes = Array(text.utf8)
            let cut = Int.random(in: 0..<bytes.count, using: &random)
            let prefix = String(decoding: bytes[..<cut], as: UTF8.self)
            #expect(JSONPath("k")!.value(in: prefix) == nil && JSONPath("0")!.value(in: prefix) == nil, "\(prefix)")
            bytes = Array(text.utf8)
            for _ in 0..<4 {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = Array(#"{}[]":,\ u0"a1"#.utf8)
                    .randomElement(using: &random)!
                _ = JSONPath("k.0")!.value(in: String(decoding: bytes, as: UTF8.self))
            }
        }
        #expect(checked > 1_000, "the documents have paths to check: \(checked)")
    }
}

/// SplitMix64: a tiny seeded generator, so a failing random case fails the same way every time.
private struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A JSON value as a tree, written out with random whitespace and escapes, and the text each of
/// its paths must print.
private indirect enum ReferenceJSON {
    case string(String)
    case number(String)
    case literal(String)
    case array([ReferenceJSON])
    case object([(String, ReferenceJSON)])

    static let alphabet: [Character] = ["a", "k", "0", "1", " ", "\"", "\\", "/", "\n", "\t", "\u{1}", "é", "🎉", "€"]

    static func randomString(using random: inout SeededRandom) -> String {
        String((0..<Int.random(in: 0...6, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
    }

    static func random(depth: Int, using random: inout SeededRandom) -> ReferenceJSON {
        let kind = Int.random(in: depth == 0 ? 4...5 : depth > 4 ? 0...2 : 0...5, using: &random)
        switch kind {
        case 0: return .string(randomString(using: &random))
        case 1: return .number(["0", "-1", "3.5", "1e9", "-0.25E-3", "12"].randomElement(using: &random)!)
        case 2: return .literal(["true", "false", "null"].randomElement(using: &random)!)
        case 3, 4:
            return .array(
                (0..<Int.random(in: 0...4, using: &random)).map { _ in Self.random(depth: depth + 1, using: &random) })
        default:
            // Keys from a small set, so duplicates happen; "k" and "0" are the ones paths use most.
            let keys = ["k", "0", "1", "a b", "é"]
            return .object(
                (0..<Int.random(in: 0...4, using: &random)).map { _ in
                    (keys.randomElement(using: &random)!, Self.random(depth: depth + 1, using: &random))
                })
        }
    }

    /// Every path to a value, with the first of duplicate keys winning, and the value there.
    func paths() -> [([String], ReferenceJSON)] {
        var result: [([String], ReferenceJSON)] = [([], self)]
        switch self {
        case .array(let elements):
            for (position, element) in elements.enumerated() {
                result += element.paths().map { (["\(position)"] + $0.0, $0.1) }
            }
        case .object(let members):
            var seen: Set<String> = []
            for (key, member) in members where seen.insert(key).inserted {
                result += member.paths().map { ([key] + $0.0, $0.1) }
            }
        default:
            break
        }
        return result
    }

    /// What `--field` prints for this value.
    var text: String {
        switch self {
        case .string(let string): string
        default: compact
        }
    }

    /// Compact JSON, strings escaped as `JSONText.quoted` does.
    var compact: String {
        switch self {
        case .string(let string): JSONText.quoted(string)
        case .number(let number): number
        case .literal(let word): word
        case .array(let elements): "[" + elements.map(\.compact).joined(separator: ",") + "]"
        case .object(let members):
            "{" + members.map { JSONText.quoted($0.0) + ":" + $0.1.compact }.joined(separator: ",") + "}"
        }
    }

    /// The value as JSON text, with random whitespace between tokens and characters escaped at random.
    func serialized(using random: inout SeededRandom) -> String {
        let spaces = [" ", "\t", "\n", "\r", ""]
        func space() -> String {
            (0..<Int.random(in: 0...2, using: &random)).map { _ in spaces.randomElement(using: &random)! }.joined()
        }
        func literal(_ string: String) -> String {
            var text = "\""
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"": text += "\\\""
                case "\\": text += "\\\\"
                case "\n": text += Bool.random(using: &random) ? "\\n" : "\\u000a"
                case "\t": text += "\\t"
                case "\u{1}": text += "\\u0001"
                case "/": text += Bool.random(using: &random) ? "\\/" : "/"
                default:
                    if Int.random(in: 0..<4, using: &random) == 0 {
                        // As UTF-16 escapes, a surrogate pair above the BMP.
                        text += String(scalar).utf16.map {
                            "\\u" + String($0, radix: 16, uppercase: Bool.random(using: &random)).leftPadded(4)
                        }.joined()
                    } else {
                        text.unicodeScalars.append(scalar)
                    }
                }
            }
            return text + "\""
        }
        switch self {
        case .string(let string): return literal(string)
        case .number(let number): return number
        case .literal(let word): return word
        case .array(let elements):
            return "[" + space()
                + elements.map { $0.serialized(using: &random) + space() }.joined(separator: "," + space()) + "]"
        case .object(let members):
            return "{" + space()
                + members.map { literal($0.0) + space() + ":" + space() + $0.1.serialized(using: &random) + space() }
                .joined(separator: "," + space()) + "}"
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
