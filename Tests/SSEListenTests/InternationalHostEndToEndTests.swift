import Foundation
import SSETestServer
import Testing

/// An internationalised host name works as it does in curl: the host goes out in Punycode,
/// whatever the locale (libcurl's own conversion depends on it, and fails in the "C" locale).
@Suite("sse-listen with an internationalised host name", .timeLimit(.minutes(1)))
struct InternationalHostEndToEndTests {
    @Test(
        "http://ünïcode.localhost:PORT/ reaches the server as xn--ncode-cta3g.localhost, in any locale",
        arguments: ["C", "C.UTF-8"])
    func unicodeHost(locale: String) async throws {
        try await TestServer.withRunning { server in
            let url = "http://ünïcode.localhost:\(server.port)/events?count=2"
            let result = try await ListenProcess.run(
                [url, "--no-reconnect"], environment: ["LC_ALL": locale, "LANG": locale])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.ids == ["1", "2"])
            #expect(server.requests.first?.header("Host") == "xn--ncode-cta3g.localhost:\(server.port)")
            // Status lines show the name as given.
            #expect(result.stderr.contains("connecting to \(url)"))
        }
    }
}
