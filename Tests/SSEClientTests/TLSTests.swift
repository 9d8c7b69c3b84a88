import SSEClient
import SSETestServer
import SSETestSupport
import Testing

@Suite("TLS", .timeLimit(.minutes(1)))
struct TLSTests {
    let fixture: TLSTerminator

    init() async throws {
        fixture = try await TLSTerminator()
    }

    private func stream(port: Int, host: String = "127.0.0.1") -> String {
        "https://\(host):\(port)/events?count=3"
    }

    @Test("by default a self-signed certificate is rejected with an error that says so, and not retried")
    func selfSignedRejected() async throws {
        try await TestServer.withRunning { server in
            try await fixture.withListener(certificate: "selfsigned", upstreamPort: server.port) { port in
                let (_, error) = try await collectUntilEnd(
                    EventSource(url: stream(port: port), configuration: .testing()))
                guard error?.code == .tlsVerification, let message = error?.message else {
                    Issue.record("expected a TLS verification error, got \(String(describing: error))")
                    return
                }
                #expect(message.lowercased().contains("certificate"))
                #expect(error?.description.contains("could not be verified") == true)
                #expect(server.requests.isEmpty)
            }
        }
    }

    @Test("the test CA is accepted when configured as the CA file")
    func caFileAccepted() async throws {
        try await TestServer.withRunning { server in
            try await fixture.withListener(certificate: "server", upstreamPort: server.port) { port in
                for host in ["127.0.0.1", "localhost"] {
                    let source = EventSource(
                        url: stream(port: port, host: host),
                        configuration: .testing { $0.tls.caFile = fixture.path("ca.pem") }
                    )
                    let events = try await collectEvents(source, count: 3)
                    #expect(events.map(\.id) == ["1", "2", "3"])
                }
            }
        }
    }

    @Test("a certificate for another host is rejected even from a trusted CA")
    func wrongHostRejected() async throws {
        try await TestServer.withRunning { server in
            try await fixture.withListener(certificate: "wronghost", upstreamPort: server.port) { port in
                let source = EventSource(
                    url: stream(port: port),
                    configuration: .testing { $0.tls.caFile = fixture.path("ca.pem") }
                )
                let (_, error) = try await collectUntilEnd(source)
                guard error?.code == .tlsHostNameMismatch, let message = error?.message else {
                    Issue.record("expected a host name mismatch, got \(String(describing: error))")
                    return
                }
                #expect(message.contains("127.0.0.1"))
                // A trusted certificate for another host: passing a CA would not help.
                #expect(error?.description.contains("CA") == false)
            }
        }
    }

    @Test("insecure mode is an explicit opt-in that accepts any certificate")
    func insecureOptIn() async throws {
        try await TestServer.withRunning { server in
            try await fixture.withListener(certificate: "selfsigned", upstreamPort: server.port) { port in
                let source = EventSource(url: stream(port: port), configuration: .testing { $0.tls = .insecure })
                let events = try await collectEvents(source, count: 3)
                #expect(events.map(\.id) == ["1", "2", "3"])
            }
        }
    }
}
