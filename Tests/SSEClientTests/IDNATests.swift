import Testing

@testable import SSEClient

/// Punycode (RFC 3492) and the host conversion applied to every URL handed to libcurl.
@Suite("IDNA")
struct IDNATests {
    static func scalars(_ values: [UInt32]) -> [Unicode.Scalar] { values.map { Unicode.Scalar($0)! } }

    /// The sample strings of RFC 3492, section 7.1 (outputs lowercased: the encoder ignores the
    /// samples' mixed-case annotations).
    @Test(
        "RFC 3492's sample strings",
        arguments: [
            (
                "(A) Arabic (Egyptian)",
                [
                    0x0644, 0x064A, 0x0647, 0x0645, 0x0627, 0x0628, 0x062A, 0x0643, 0x0644, 0x0645, 0x0648, 0x0634,
                    0x0639, 0x0631, 0x0628, 0x064A, 0x061F,
                ] as [UInt32],
                "egbpdaj6bu4bxfgehfvwxn"
            ),
            (
                "(B) Chinese (simplified)",
                [0x4ED6, 0x4EEC, 0x4E3A, 0x4EC0, 0x4E48, 0x4E0D, 0x8BF4, 0x4E2D, 0x6587],
                "ihqwcrb4cv8a8dqg056pqjye"
            ),
            (
                "(C) Chinese (traditional)",
                [0x4ED6, 0x5011, 0x7232, 0x4EC0, 0x9EBD, 0x4E0D, 0x8AAA, 0x4E2D, 0x6587],
                "ihqwctvzc91f659drss3x8bo0yb"
            ),
            (
                "(I) Russian (Cyrillic)",
                [
                    0x043F, 0x043E, 0x0447, 0x0435, 0x043C, 0x0443, 0x0436, 0x0435, 0x043E, 0x043D, 0x0438, 0x043D,
                    0x0435, 0x0433, 0x043E, 0x0432, 0x043E, 0x0440, 0x044F, 0x0442, 0x043F, 0x043E, 0x0440, 0x0443,
                    0x0441, 0x0441, 0x043A, 0x0438,
                ],
                "b1abfaaepdrnnbgefbadotcwatmq2g4l"
            ),
            (
                "(J) Spanish",
                Array("PorquénopuedensimplementehablarenEspañol".unicodeScalars.map(\.value)),
                "PorqunopuedensimplementehablarenEspaol-fmd56a"
            ),
            (
                "(L) 3<nen>B<gumi><kinpachi><sensei>",
                [0x0033, 0x5E74, 0x0042, 0x7D44, 0x91D1, 0x516B, 0x5148, 0x751F],
                "3B-ww4c5e180e575a65lsy2b"
            ),
            (
                "(M) <amuro><namie>-with-SUPER-MONKEYS",
                [0x5B89, 0x5BA4, 0x5948, 0x7F8E, 0x6075] + Array("-with-SUPER-MONKEYS".unicodeScalars.map(\.value)),
                "-with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n"
            ),
            ("(S) -> $1.00 <-", Array("-> $1.00 <-".unicodeScalars.map(\.value)), "-> $1.00 <--"),
        ]
    )
    func rfcSamples(name: String, input: [UInt32], expected: String) {
        #expect(IDNA.punycode(Self.scalars(input)) == expected, "\(name)")
    }

    @Test("host names: non-ASCII labels lowercased and encoded with xn--, ASCII labels lowercased")
    func hosts() {
        #expect(IDNA.asciiHost("ünïcode.localhost") == "xn--ncode-cta3g.localhost")
        #expect(IDNA.asciiHost("ÜNÏCODE.LocalHost") == "xn--ncode-cta3g.localhost")
        #expect(IDNA.asciiHost("bücher.example") == "xn--bcher-kva.example")
        #expect(IDNA.asciiHost("例え。テスト") == "xn--r8jz45g.xn--zckzah")
        #expect(IDNA.asciiHost("example.com") == "example.com")
    }

    @Test("URLs: only the host changes; userinfo, port, path, query and fragment stay as they are")
    func urls() {
        #expect(
            IDNA.asciiURL("http://ünïcode.localhost:8080/ü?q=ü#ü") == "http://xn--ncode-cta3g.localhost:8080/ü?q=ü#ü")
        #expect(IDNA.asciiURL("https://ü:pässword@bücher.example/") == "https://ü:pässword@xn--bcher-kva.example/")
        #expect(IDNA.asciiURL("http://b%C3%BCcher.example/x") == "http://xn--bcher-kva.example/x")
        #expect(IDNA.asciiURL("http://bücher.example") == "http://xn--bcher-kva.example")
        for unchanged in ["http://127.0.0.1:1/events", "http://[::1]:80/ü", "http://Example.com/", "not a url ü"] {
            #expect(IDNA.asciiURL(unchanged) == unchanged)
        }
    }
}
