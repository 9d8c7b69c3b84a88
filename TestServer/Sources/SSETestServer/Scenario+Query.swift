import Foundation

extension Scenario {
    /// The query parameters that select this scenario, in a fixed order, leaving out defaults.
    ///
    /// Durations are whole milliseconds; raw bytes are base64. ``init(query:)`` reads them back.
    public var queryItems: [(name: String, value: String)] {
        var items: [(name: String, value: String)] = []
        func add(_ name: String, _ value: String?) {
            if let value { items.append((name, value)) }
        }
        switch content {
        case .numbered: break
        case .echo: add("echo", "1")
        case .raw(let bytes): add("raw", Data(bytes).base64EncodedString())
        case .model(let api): add("content", api.rawValue)
        }
        let model = modelStream
        add("tokens", model.tokens == ModelStream().tokens ? nil : String(model.tokens))
        add("doneNoSpace", model.doneWithoutSpace ? "1" : nil)
        add("processingComments", model.processingComments ? "1" : nil)
        add("errorAfter", model.errorAfter.map(String.init))
        add("closeAfter", model.closeAfter.map(String.init))
        add("response", model.responseID == ModelStream.defaultResponseID ? nil : model.responseID)
        add("count", count.map(String.init))
        add("interval", interval.map(Self.milliseconds))
        add("event", eventType)
        add("size", payloadSize.map(String.init))
        add("history", history.map(String.init))
        add("retry", retry.map(Self.milliseconds))
        add("heartbeat", heartbeat.map { $0 == .zero ? "none" : Self.milliseconds($0) })
        add("dropAfter", dropAfterEvents.map(String.init))
        add("dropAfterBytes", dropAfterBytes.map(String.init))
        add("end", ending?.rawValue)
        add("hang", hang?.rawValue)
        add("status", status.map(String.init))
        add("times", statusTimes.map(String.init))
        add("retryAfter", retryAfter)
        add("statusBody", statusBody)
        add("location", location)
        add("contentType", contentType)
        add("contentLength", declaredContentLength.map(String.init))
        add("writeSize", writeSize.map(String.init))
        add("writeDelay", writeDelay == .zero ? nil : Self.milliseconds(writeDelay))
        add("gzip", compression == .none ? nil : compression.rawValue)
        add("framing", framing == .chunked ? nil : framing.rawValue)
        add("token", bearerToken)
        add("newline", lineEnding == .lf ? nil : lineEnding.rawValue)
        add("unicode", unicodePayload ? "1" : nil)
        add("stamp", stampsEvents ? "1" : nil)
        add("key", key)
        add("live", isLive ? "1" : nil)
        add("replay", replay == .resume ? nil : replay.rawValue)
        add("earlyID", earlyIDEvery.map(String.init))
        add("holdEvents", holdEvents.map(String.init))
        add("holdBytes", holdBytes.map(String.init))
        add("cacheControl", Self.headerValue(cacheControl))
        add("accelBuffering", Self.headerValue(accelBuffering))
        add("silence", silence.map(Self.milliseconds))
        add("silenceEvery", silenceEvery == 10 ? nil : String(silenceEvery))
        add("unknownID", unknownIDStatus.map(String.init))
        add("retryText", retryText)
        add("streamStatus", streamStatus.map(String.init))
        return items
    }

    /// The percent-encoded query string of ``queryItems``, without the leading `?`; empty for the default.
    public var query: String {
        queryItems.map { "\(percentEncode($0.name))=\(percentEncode($0.value))" }.joined(separator: "&")
    }

    /// Reads a scenario from a query string (without the leading `?`), as ``query`` writes it.
    ///
    /// Unknown parameters are ignored, so clients may add their own.
    ///
    /// - Throws: ``TestServerError`` with code `invalidScenario` when a known parameter has a bad value.
    public init(query: String) throws(TestServerError) {
        self.init()
        for (name, value) in parseQuery(query) {
            try apply(name: name, value: value)
        }
    }

    private mutating func apply(name: String, value: String) throws(TestServerError) {
        switch name {
        case "echo": if try Self.flag(name, value) { content = .echo }
        case "raw":
            // Accept base64url too, and tolerate a `+` that a form encoder turned into a space.
            var base64 = value.replacingOccurrences(of: " ", with: "+")
            base64 = base64.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
            guard let data = Data(base64Encoded: base64) else {
                throw .invalidScenario("raw must be base64, got '\(value)'")
            }
            content = .raw(Array(data))
        case "content": content = try Self.content(value)
        case "tokens": modelStream.tokens = try Self.integer(name, value)
        case "doneNoSpace": modelStream.doneWithoutSpace = try Self.flag(name, value)
        case "processingComments": modelStream.processingComments = try Self.flag(name, value)
        case "errorAfter": modelStream.errorAfter = try Self.integer(name, value)
        case "closeAfter": modelStream.closeAfter = try Self.integer(name, value)
        case "response":
            guard !value.isEmpty else { throw .invalidScenario("response must not be empty") }
            modelStream.responseID = value
        case "count": count = try Self.integer(name, value)
        case "interval": interval = try Self.duration(name, value)
        case "event": eventType = value
        case "size": payloadSize = try Self.integer(name, value)
        case "history": history = try Self.integer(name, value, minimum: 1)
        case "retry": retry = try Self.duration(name, value)
        case "heartbeat": heartbeat = value == "none" ? .zero : try Self.duration(name, value, minimum: 1)
        case "dropAfter": dropAfterEvents = try Self.integer(name, value)
        case "dropAfterBytes": dropAfterBytes = try Self.integer(name, value)
        case "end": ending = try Self.choice(name, value)
        case "hang": hang = try Self.choice(name, value)
        case "status": status = try Self.integer(name, value, minimum: 100, maximum: 599)
        case "times": statusTimes = try Self.integer(name, value)
        case "retryAfter": retryAfter = value
        case "statusBody": statusBody = value
        case "location": location = value
        case "contentType": contentType = value
        case "contentLength": declaredContentLength = try Self.integer(name, value)
        case "writeSize": writeSize = try Self.integer(name, value, minimum: 1)
        case "writeDelay": writeDelay = try Self.duration(name, value)
        case "gzip": compression = value == "0" ? .none : try Self.choice(name, value)
        case "framing": framing = try Self.choice(name, value)
        case "token": bearerToken = value
        case "newline": lineEnding = try Self.choice(name, value)
        case "unicode": unicodePayload = try Self.flag(name, value)
        case "stamp": stampsEvents = try Self.flag(name, value)
        case "key": key = value
        case "live": isLive = try Self.flag(name, value)
        case "replay": replay = try Self.choice(name, value)
        case "earlyID": earlyIDEvery = try Self.integer(name, value, minimum: 1)
        case "holdEvents": holdEvents = try Self.integer(name, value, minimum: 1)
        case "holdBytes": holdBytes = try Self.integer(name, value, minimum: 1)
        case "cacheControl": cacheControl = value == "none" ? .omitted : .custom(value)
        case "accelBuffering": accelBuffering = value == "none" ? .omitted : .custom(value)
        case "silence": silence = try Self.duration(name, value, minimum: 1)
        case "silenceEvery": silenceEvery = try Self.integer(name, value, minimum: 1)
        case "unknownID": unknownIDStatus = try Self.integer(name, value, minimum: 400, maximum: 599)
        case "retryText":
            guard !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) else {
                throw .invalidScenario("retryText must be one line, without CR or LF")
            }
            retryText = value
        case "streamStatus":
            let status = try Self.integer(name, value, minimum: 200, maximum: 599)
            guard status != 204, status != 304 else {
                throw .invalidScenario("streamStatus must be a status that has a body, got '\(value)'")
            }
            streamStatus = status
        default: break
        }
    }

    /// `content=`: `numbered`, `echo`, or a ``ModelAPI``'s raw value (raw bytes have `raw=`).
    private static func content(_ value: String) throws(TestServerError) -> Content {
        switch value {
        case "numbered": return .numbered
        case "echo": return .echo
        default:
            guard let api = ModelAPI(rawValue: value) else {
                let choices = (["numbered", "echo"] + ModelAPI.allCases.map(\.rawValue)).joined(separator: ", ")
                throw .invalidScenario("content must be one of \(choices), got '\(value)'")
            }
            return .model(api)
        }
    }

    /// A ``HeaderValue`` as a query value: `none` when omitted, `nil` (left out) when standard.
    private static func headerValue(_ value: HeaderValue) -> String? {
        switch value {
        case .standard: nil
        case .omitted: "none"
        case .custom(let text): text
        }
    }

    private static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    private static func integer(
        _ name: String,
        _ value: String,
        minimum: Int = 0,
        maximum: Int = Int.max
    ) throws(TestServerError) -> Int {
        guard let number = Int(value), number >= minimum, number <= maximum else {
            let range = maximum == Int.max ? "at least \(minimum)" : "between \(minimum) and \(maximum)"
            throw .invalidScenario("\(name) must be an integer \(range), got '\(value)'")
        }
        return number
    }

    /// Whole milliseconds, such as `1500`; `1500ms` and `2s` are read too.
    private static func duration(
        _ name: String,
        _ value: String,
        minimum: Int = 0
    ) throws(TestServerError) -> Duration {
        var digits = Substring(value)
        var scale = 1
        if digits.hasSuffix("ms") {
            digits = digits.dropLast(2)
        } else if digits.hasSuffix("s") {
            digits = digits.dropLast()
            scale = 1000
        }
        guard let number = Int(digits), number >= 0, number <= Int.max / scale, number * scale >= minimum else {
            throw .invalidScenario(
                "\(name) must be whole milliseconds (or seconds with an s), at least \(minimum) ms, got '\(value)'")
        }
        return .milliseconds(number * scale)
    }

    private static func flag(_ name: String, _ value: String) throws(TestServerError) -> Bool {
        switch value {
        case "1", "true", "": return true
        case "0", "false": return false
        default: throw .invalidScenario("\(name) must be 1 or 0, got '\(value)'")
        }
    }

    private static func choice<Choice: RawRepresentable & CaseIterable>(
        _ name: String,
        _ value: String
    ) throws(TestServerError) -> Choice where Choice.RawValue == String {
        guard let choice = Choice(rawValue: value) else {
            let choices = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidScenario("\(name) must be one of \(choices), got '\(value)'")
        }
        return choice
    }
}

/// Splits a query string into decoded name-value pairs. `+` is kept as is (RFC 3986 gives it no meaning).
func parseQuery(_ query: String) -> [(name: String, value: String)] {
    query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
        if let equals = pair.firstIndex(of: "=") {
            return (percentDecode(pair[..<equals]), percentDecode(pair[pair.index(after: equals)...]))
        }
        return (percentDecode(pair), "")
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
func percentEncode(_ text: String) -> String {
    var result = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            result.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = String(byte, radix: 16, uppercase: true)
            result += byte < 16 ? "%0\(hex)" : "%\(hex)"
        }
    }
    return result
}

/// Decodes `%XX` escapes; malformed escapes are kept as they are, invalid UTF-8 is repaired.
func percentDecode(_ text: Substring) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var utf8 = text.utf8[...]
    while let byte = utf8.popFirst() {
        if byte == UInt8(ascii: "%"), utf8.count >= 2,
            let high = hexValue(utf8[utf8.startIndex]),
            let low = hexValue(utf8[utf8.index(after: utf8.startIndex)])
        {
            bytes.append(high << 4 | low)
            utf8 = utf8.dropFirst(2)
        } else {
            bytes.append(byte)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
