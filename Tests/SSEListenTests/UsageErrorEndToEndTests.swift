import Foundation
import SSEListenCore
import SSETestServer
import Testing

/// Usage errors are usage errors: exit 1 with a message naming the argument, before anything is
/// sent, not exit 2 with libcurl's wording or a claim about the server.
@Suite("sse-listen usage errors", .timeLimit(.minutes(1)))
struct UsageErrorEndToEndTests {
    /// A self-signed CA certificate (P-256), PEM: only its form matters here.
    static let certificate = """
        -----BEGIN CERTIFICATE-----
        MIIBezCCASGgAwIBAgIUNY72i5394TV01lq/laBZ4p55YXEwCgYIKoZIzj0EAwIw
        EjEQMA4GA1UEAwwHdGVzdC1jYTAgFw0yNjEyMDEyMDA4MzdaGA8yMTI2MTEwNzIw
        MDgzN1owEjEQMA4GA1UEAwwHdGVzdC1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH
        A0IABGPTK8UgDl42cs70l9Owms2tmcrB6NZnlmZgJdgrC5kiC5VEqFXa+wenJCAh
        8P8Ln1yHbDNqizrCQ5/anye825yjUzBRMB0GA1UdDgQWBBQXJjGFzGiMFCDv5IpY
        b5Ty800rSjAfBgNVHSMEGDAWgBQXJjGFzGiMFCDv5IpYb5Ty800rSjAPBgNVHRMB
        Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIAjSlVkPgiwiVwHbmE6mT14tustb
        okHWzg01Nt1Dics1AiEAgOeG2wZXkXPF+LlfPIZDCN5eJU09Gnxw0B7phLYEZQY=
        -----END CERTIFICATE-----

        """

    /// Runs sse-listen with `arguments` and checks the usage error: exit 1, nothing on standard
    /// output, the message and the hint on standard error, and no request at the server.
    func expectUsageError(_ arguments: [String], _ message: String) async throws {
        try await TestServer.withRunning { server in
            let result = try await ListenProcess.run(
                arguments.map { $0.replacing("SERVER", with: server.baseURL) })
            #expect(result.status == 1)
            #expect(result.stdout.isEmpty)
            let lines = result.stderrLines
            #expect(lines.count == 2, "\(lines)")
            #expect(
                lines.first == "sse-listen: error: " + message.replacing("SERVER", with: server.baseURL),
                "\(lines)")
            #expect(lines.last == "sse-listen: see 'sse-listen --help' for the options")
            #expect(server.requests.isEmpty)
        }
    }

    @Test(
        "URLs libcurl would refuse, or that lack a scheme",
        arguments: [
            (
                "http://localhost:99999/",
                "'http://localhost:99999/' has port '99999'; a port is a number from 1 to 65535"
            ),
            ("http://[::1]:0/", "'http://[::1]:0/' has port '0'; a port is a number from 1 to 65535"),
            ("http://u:p@h:8x/", "'http://u:p@h:8x/' has port '8x'; a port is a number from 1 to 65535"),
            (
                "localhost:8080/events",
                "'localhost:8080/events' has no scheme; did you mean 'http://localhost:8080/events'?"
            ),
            ("127.0.0.1:8080", "'127.0.0.1:8080' has no scheme; did you mean 'http://127.0.0.1:8080'?"),
            ("example.com/feed", "'example.com/feed' has no scheme; did you mean 'http://example.com/feed'?"),
        ]
    )
    func urls(url: String, message: String) async throws {
        try await expectUsageError([url], message)
    }

    @Test(
        "negative, zero, infinite and NaN numbers say 'must be positive', not 'Missing value'",
        arguments: [
            (["--max-events", "-1"], "--max-events must be positive (a whole number), got -1"),
            (["--max-retries", "-2"], "--max-retries must be positive or 0 (a whole number), got -2"),
            (["--retry-initial", "-5"], "--retry-initial must be positive or 0 (milliseconds), got -5"),
            (["--retry-max", "0"], "--retry-max must be positive (milliseconds), got 0"),
            (["--timeout", "-1"], "--timeout must be positive (a finite number of seconds), got -1"),
            (["--timeout", "inf"], "--timeout must be positive (a finite number of seconds), got inf"),
            (["--timeout", "nan"], "--timeout must be positive (a finite number of seconds), got nan"),
            (["--timeout", "-0.5"], "--timeout must be positive (a finite number of seconds), got -0.5"),
            (
                ["--idle-timeout", "-infinity"],
                "--idle-timeout must be positive or 0 (a finite number of seconds; 0: never), got -inf"
            ),
            (
                ["--idle-timeout", "NaN"],
                "--idle-timeout must be positive or 0 (a finite number of seconds; 0: never), got nan"
            ),
        ]
    )
    func numbers(arguments: [String], message: String) async throws {
        try await expectUsageError(["SERVER/events"] + arguments, message)
    }

    @Test("--cacert: unreadable, a directory, not PEM, DER, a key without a certificate, broken base64")
    func caFiles() async throws {
        let directory = try TemporaryDirectory()
        func write(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = directory.file(name)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        let pem = Array(Self.certificate.utf8)
        let body = Self.certificate.split(separator: "\n").dropFirst().dropLast().joined()
        let der = try write("ca.der", Array(try #require(Data(base64Encoded: body))))
        let text = try write("notes.txt", Array("just some notes\n".utf8))
        let empty = try write("empty.pem", Array("\n".utf8))
        let key = try write(
            "key.pem",
            Array(
                "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"
                    .utf8))
        let broken = try write(
            "broken.pem", Array("-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n".utf8))
        let unterminated = try write("cut.pem", Array(pem.prefix(200)))
        let prefix = "--cacert file"
        for (path, message) in [
            (
                directory.file("none.pem"),
                "cannot read --cacert file '\(directory.file("none.pem"))': No such file or directory"
            ),
            (directory.path, "cannot read --cacert file '\(directory.path)': Is a directory"),
            (
                text,
                "\(prefix) '\(text)' is not a CA bundle in PEM format: it holds no '-----BEGIN CERTIFICATE-----' block"
            ),
            (empty, "\(prefix) '\(empty)' is not a CA bundle in PEM format: it is empty"),
            (
                der,
                "\(prefix) '\(der)' is not a CA bundle in PEM format: it looks like a DER (binary) certificate; "
                    + "convert it with 'openssl x509 -inform der -in \(der) -out ca.pem'"
            ),
            (
                key,
                "\(prefix) '\(key)' is not a CA bundle in PEM format: it holds no certificate, only a PRIVATE KEY block"
            ),
            (
                broken,
                "\(prefix) '\(broken)' is not a CA bundle in PEM format: its CERTIFICATE block is not a base64 certificate"
            ),
            (
                unterminated,
                "\(prefix) '\(unterminated)' is not a CA bundle in PEM format: its CERTIFICATE block has no END line"
            ),
        ] {
            try await expectUsageError(["SERVER/events", "--cacert", path], message)
        }
        // A bundle with text around the certificate (as `openssl x509 -text` writes) is accepted.
        let annotated = try write("bundle.pem", Array(("Certificate:\n    Data: …\n" + Self.certificate).utf8))
        let command = try SSEListen.parse(["https://h/", "--cacert", annotated])
        let environment = TerminalEnvironment(stdoutIsTerminal: false, stderrIsTerminal: false, variables: [:])
        #expect(try ListenPlan.resolve(command, environment: environment).configuration.tls.caFile == annotated)
    }
}
