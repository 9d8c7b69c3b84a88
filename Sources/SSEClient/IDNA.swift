/// Internationalised host names for libcurl: IDNA's ToASCII, as far as URLs need it.
///
/// libcurl converts such names itself only when built with libidn2, and then through the
/// process's locale (`idn2_lookup_ul`): a Swift program runs in the "C" locale unless it calls
/// `setlocale`, so `http://ünïcode.localhost/` failed with "URL using bad/illegal format", while
/// the `curl` tool, which sets the locale, succeeds. Converting here is independent of the locale
/// and of how libcurl was built.
///
/// Each label of the host that is not ASCII is lowercased (Unicode's full lowercase mapping) and
/// replaced by `xn--` and its Punycode (RFC 3492); ASCII labels are lowercased. Not done: the
/// rest of UTS #46 (NFC normalisation, the mapping of compatibility characters, validity checks),
/// so a name that needs those fails at DNS rather than being rewritten.
package enum IDNA {
    /// `url` with its host converted to ASCII; `url` itself when the host is ASCII already (or
    /// an IPv6 literal, or there is no `scheme://` authority to convert).
    ///
    /// A host in UTF-8 percent-encoding (`%C3%BC…`, as some URL types produce) is decoded first.
    package static func asciiURL(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var hostStart = rest.startIndex
        if let at = rest[..<authorityEnd].lastIndex(of: "@") { hostStart = rest.index(after: at) }
        let hostAndPort = rest[hostStart..<authorityEnd]
        guard hostAndPort.first != "[" else { return url }
        let hostEnd = hostAndPort.lastIndex(of: ":") ?? hostAndPort.endIndex
        let host = hostAndPort[..<hostEnd]
        guard host.utf8.contains(where: { $0 >= 0x80 || $0 == UInt8(ascii: "%") }),
            let ascii = asciiHost(percentDecoded(host) ?? String(host))
        else { return url }
        return String(url[..<host.startIndex]) + ascii + String(url[host.endIndex...])
    }

    /// `host` in ASCII: its labels (separated by `.` or an ideographic full stop) each lowercased
    /// and, when not ASCII, Punycode-encoded with the `xn--` prefix; `nil` if a label is too
    /// long to encode.
    package static func asciiHost(_ host: String) -> String? {
        let separators: Set<Unicode.Scalar> = [".", "\u{3002}", "\u{FF0E}", "\u{FF61}"]
        var labels: [String] = []
        var label = String.UnicodeScalarView()
        func finishLabel() -> Bool {
            let lowered = String(label).lowercased()
            label = String.UnicodeScalarView()
            if lowered.unicodeScalars.allSatisfy(\.isASCII) {
                labels.append(lowered)
                return true
            }
            guard let encoded = punycode(Array(lowered.unicodeScalars)) else { return false }
            labels.append("xn--" + encoded)
            return true
        }
        for scalar in host.unicodeScalars {
            if separators.contains(scalar) {
                guard finishLabel() else { return nil }
            } else {
                label.append(scalar)
            }
        }
        guard finishLabel() else { return nil }
        return labels.joined(separator: ".")
    }

    /// The Punycode encoding of `input` (RFC 3492, section 6.3), lowercase, without the `xn--`
    /// prefix: the ASCII code points in order, a `-` if there were any, then the others as
    /// generalised variable-length integers. `nil` on overflow (input far beyond a DNS label).
    package static func punycode(_ input: [Unicode.Scalar]) -> String? {
        let base = 36
        let tMin = 1
        let tMax = 26
        var output: [UInt8] = input.filter(\.isASCII).map { UInt8($0.value) }
        let basicCount = output.count
        if basicCount > 0 { output.append(UInt8(ascii: "-")) }

        var n = 128
        var delta = 0
        var bias = 72
        var handled = basicCount
        while handled < input.count {
            // The smallest code point not handled yet.
            guard let next = input.lazy.map({ Int($0.value) }).filter({ $0 >= n }).min() else { break }
            let (product, overflow) = (next - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow, delta <= Int(Int32.max) - product else { return nil }
            delta += product
            n = next
            for scalar in input {
                let code = Int(scalar.value)
                if code < n {
                    delta += 1
                    guard delta <= Int(Int32.max) else { return nil }
                }
                guard code == n else { continue }
                var q = delta
                var k = base
                while true {
                    let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                    if q < t { break }
                    output.append(digit(t + (q - t) % (base - t)))
                    q = (q - t) / (base - t)
                    k += base
                }
                output.append(digit(q))
                bias = adapt(delta, points: handled + 1, first: handled == basicCount)
                delta = 0
                handled += 1
            }
            delta += 1
            n += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bias adaptation of RFC 3492, section 6.1.
    private static func adapt(_ delta: Int, points: Int, first: Bool) -> Int {
        var delta = first ? delta / 700 : delta / 2
        delta += delta / points
        var k = 0
        while delta > ((36 - 1) * 26) / 2 {
            delta /= 36 - 1
            k += 36
        }
        return k + (36 * delta) / (delta + 38)
    }

    /// The basic code point for a digit: 0–25 are `a`–`z`, 26–35 are `0`–`9`.
    private static func digit(_ value: Int) -> UInt8 {
        value < 26 ? UInt8(ascii: "a") + UInt8(value) : UInt8(ascii: "0") + UInt8(value - 26)
    }

    /// `text` with `%XX` escapes decoded, if that gives UTF-8; `nil` when it has no escapes or
    /// they are malformed.
    private static func percentDecoded(_ text: Substring) -> String? {
        guard text.contains("%") else { return nil }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
