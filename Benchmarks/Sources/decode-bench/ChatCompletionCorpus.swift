/// An OpenAI chat-completion stream as a server sends it, generated in memory from a seed: the
/// same seed and event count always give the same bytes.
///
/// One completion: a first chunk with `"role":"assistant"` and empty content, `tokenCount`
/// chunks of one token each, a last chunk with an empty delta and `"finish_reason":"stop"`,
/// then `data: [DONE]`. Every event is one `data:` line and a blank line (LF line ends, no
/// `id:`, no comments), as OpenAI writes them:
///
/// ```
/// data: {"id":"chatcmpl-…","object":"chat.completion.chunk","created":1732700000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" stream"},"finish_reason":null}]}
/// ```
///
/// Tokens are 1 to 8 characters drawn from a weighted vocabulary: words with their leading
/// space, word pieces, punctuation, numbers, newlines, quotes and backslashes (written as JSON
/// escapes), and non-ASCII text, written as raw UTF-8 or, one time in four, as `\uXXXX` escapes
/// (surrogate pairs above the BMP).
struct ChatCompletionCorpus {
    /// The whole stream, `[DONE]` included.
    let bytes: [UInt8]
    /// The `data` of every event before `[DONE]`, in order: the JSON texts a decoder sees.
    let payloads: [String]
    /// What a correct decoder adds up: the chunks and their content bytes.
    let expectedDecoded: Tally
    /// What a correct parser adds up: the events before `[DONE]` and their data bytes.
    let expectedParsed: Tally

    /// The stream's terminator, the data of its last event.
    static let terminator = "[DONE]"

    /// Generates the stream of `tokenCount` token chunks from `seed`.
    init(tokenCount: Int, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        let id = String(decoding: (0..<29).map { _ in alphabet[random.below(alphabet.count)] }, as: UTF8.self)
        let created = 1_732_700_000 + random.below(1_000_000)
        let head =
            #"{"id":"chatcmpl-\#(id)","object":"chat.completion.chunk","created":\#(created),"#
            + #""model":"gpt-4o-mini","choices":[{"index":0,"delta":"#

        var payloads: [String] = []
        payloads.reserveCapacity(tokenCount + 2)
        payloads.append(head + #"{"role":"assistant","content":""},"finish_reason":null}]}"#)
        var contentBytes = 0
        for _ in 0..<tokenCount {
            let token = Self.vocabulary.pick(&random)
            contentBytes += token.utf8.count
            let escaped = Self.jsonEscaped(token, escapingNonASCII: random.below(4) == 0)
            payloads.append(head + #"{"content":""# + escaped + #""},"finish_reason":null}]}"#)
        }
        payloads.append(head + #"{},"finish_reason":"stop"}]}"#)

        var bytes: [UInt8] = []
        bytes.reserveCapacity(payloads.reduce(0) { $0 + $1.utf8.count + 8 } + 16)
        for payload in payloads + [Self.terminator] {
            bytes += "data: ".utf8
            bytes += payload.utf8
            bytes += "\n\n".utf8
        }
        self.bytes = bytes
        self.payloads = payloads
        expectedDecoded = Tally(events: payloads.count, bytes: contentBytes)
        expectedParsed = Tally(events: payloads.count, bytes: payloads.reduce(0) { $0 + $1.utf8.count })
    }

    /// `text` as the inside of a JSON string: quote, backslash and control characters escaped,
    /// and everything outside ASCII too when `escapingNonASCII` is set.
    static func jsonEscaped(_ text: String, escapingNonASCII: Bool) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += #"\""#
            case "\\": result += #"\\"#
            case "\n": result += #"\n"#
            case "\t": result += #"\t"#
            case _ where scalar.value < 0x20 || (escapingNonASCII && scalar.value >= 0x80):
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16)
                    result += #"\u"# + String(repeating: "0", count: 4 - hex.count) + hex
                }
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Token texts with their weights; each is 1 to 8 characters once decoded.
    static let vocabulary = WeightedChoice([
        (
            60,
            [
                " the", " a", " of", " to", " and", " in", " is", " that", " it", " for", " with", " on",
                " as", " be", " this", " are", " by", " from", " at", " or", " an", " we", " can", " you",
                " stream", " event", " server", " client", " token", " model", " data", " parse", " reply",
                " each", " first", " line", " bytes", " field", " value", " JSON", " Swift", " will", " which",
                "The", "This", "In", "It", "We", "Here",
            ]
        ),
        (12, ["ing", "ed", "tion", "er", "s", "ly", "un", "re", "able", "ment", "est", "ize", "iz", "ation"]),
        (12, [".", ",", ":", ";", "!", "?", " (", ")", " -", "**", "`", "```", " `", "'s", "...", " /"]),
        (5, ["\n", "\n\n", ".\n\n", ":\n", "\n-", "\n1."]),
        (3, ["1", "2", "42", " 3", "2024", " 10", "0", "%"]),
        (3, ["\"", " \"", "\",", "\\", "\\n", "\t", " {\"", "\":"]),
        (
            5,
            [
                " café", "é", " naïve", "東京", "データ", " привет", "😀", " →", "€", " ß", "—", "“", "”", " über",
                "ñ", "🚀", "…", " 東",
            ]
        ),
    ])
}

/// What a case found in the stream: for a decoding case, the chunks it decoded and the UTF-8
/// bytes of their `content`; for the others, the events and the UTF-8 bytes of their `data`.
/// Summed so that no work can be optimised away and two decoders can be compared.
struct Tally: Sendable, Hashable {
    /// Decoded chunks, or events (`[DONE]` is neither).
    var events = 0
    /// The UTF-8 bytes of every choice's `delta.content`, or of every event's `data`, summed.
    var bytes = 0

    /// Counts one decoded chunk.
    mutating func add(_ chunk: Chunk) {
        events += 1
        for choice in chunk.choices {
            bytes += choice.delta.content?.utf8.count ?? 0
        }
    }

    /// Counts one event that is not decoded, and its data bytes.
    mutating func count(_ data: String) {
        events += 1
        bytes += data.utf8.count
    }
}

/// Picks from groups of strings, a group by its weight, then a string in it uniformly.
struct WeightedChoice {
    private let groups: [(weight: Int, items: [String])]
    private let totalWeight: Int

    init(_ groups: [(Int, [String])]) {
        self.groups = groups.map { (weight: $0.0, items: $0.1) }
        totalWeight = groups.reduce(0) { $0 + $1.0 }
        precondition(groups.allSatisfy { $0.1.allSatisfy { (1...8).contains($0.count) } }, "tokens are 1-8 characters")
    }

    func pick(_ random: inout SplitMix64) -> String {
        var roll = random.below(totalWeight)
        for group in groups {
            if roll < group.weight { return group.items[random.below(group.items.count)] }
            roll -= group.weight
        }
        preconditionFailure("a roll below the total weight falls in a group")
    }
}

/// SplitMix64 (Steele, Lea and Flood): small, fast and the same on every platform, unlike
/// `SystemRandomNumberGenerator`, so a seed names a corpus.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

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

    /// A whole number in `0..<bound`.
    mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }
}
