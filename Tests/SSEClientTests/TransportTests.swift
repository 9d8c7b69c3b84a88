import Foundation
import SSEClient
import SSEParser
import SSETestServer
import SSETestSupport
import Testing

/// How requests travel, against the real TestServer: a Unix domain socket, name overrides, the IP
/// version, the HTTP versions this libcurl has and the one it lacks.
@Suite("Transport", .timeLimit(.minutes(1)))
struct TransportTests {
    static func temporarySocketPath() -> String {
        NSTemporaryDirectory() + "sse-\(UInt32.random(in: 0...UInt32.max)).sock"
    }

    @Test("a Unix domain socket: the events arrive, the Host header is the URL's; a reconnect resumes through it")
    func unixSocket() async throws {
        try await TestServer.withRunning(unixSocketPath: Self.temporarySocketPath()) { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 4).droppingAfter(events: 2)),
                configuration: .testing { $0.transport.unixSocketPath = server.unixSocketPath })
            let events = try await collectEvents(source, count: 4)
            #expect(events.map(\.id) == ["1", "2", "3", "4"])
            #expect(server.requests.first?.header("Host") == "localhost")
            #expect(server.requests.dropFirst().first?.header("Last-Event-ID") == "2")
        }
    }

    @Test("--resolve: a name no DNS knows reaches the given address; the Host header keeps the name")
    func resolve() async throws {
        try await TestServer.withRunning { server in
            let name = "feed.invalid"
            let source = EventSource(
                url: "http://\(name):\(server.port)/events?count=2",
                configuration: .testing {
                    $0.transport.resolve = [.init(host: name, port: server.port, addresses: ["127.0.0.1"])]
                })
            let sourceEvents = try await collectEvents(source, count: 2)
            #expect(sourceEvents.map(\.id) == ["1", "2"])
            #expect(server.requests.first?.header("Host") == "\(name):\(server.port)")
        }
    }

    @Test("--connect-to: the request for one host and port is made to another; the URL's Host stays")
    func connectTo() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: "http://elsewhere.invalid:1/events?count=2",
                configuration: .testing {
                    $0.transport.connectTo = [
                        .init(host: "elsewhere.invalid", port: 1, toHost: "127.0.0.1", toPort: server.port)
                    ]
                })
            let sourceEvents = try await collectEvents(source, count: 2)
            #expect(sourceEvents.map(\.id) == ["1", "2"])
            #expect(server.requests.first?.header("Host") == "elsewhere.invalid:1")
        }
    }

    @Test("IPv6: a literal [::1] URL; a name with both addresses goes to the IPv6 one with -6, fails with -4")
    func ipVersions() async throws {
        // The IPv4 attempt must be refused: another test's server on 127.0.0.1 could otherwise
        // have the port number the kernel gave this one on ::1.
        let refusing = try RefusingLoopbackPort()
        try await TestServer.withRunning(host: "::1", port: refusing.port) { server in
            #expect(server.baseURL == "http://[::1]:\(server.port)")
            let literal = EventSource(url: server.url(for: .numbered(count: 1)), configuration: .testing())
            let literalEvents = try await collectEvents(literal, count: 1)
            #expect(literalEvents.map(\.id) == ["1"])

            let both = EventSource.Transport.Resolution(
                host: "both.invalid", port: server.port, addresses: ["127.0.0.1", "[::1]"])
            let url = "http://both.invalid:\(server.port)/events?count=1"
            let six = EventSource(
                url: url,
                configuration: .testing {
                    $0.transport.resolve = [both]
                    $0.transport.addressFamily = .ipv6
                })
            let sixEvents = try await collectEvents(six, count: 1)
            #expect(sixEvents.map(\.id) == ["1"])
            let four = EventSource(
                url: url,
                configuration: .testing {
                    $0.transport.resolve = [both]
                    $0.transport.addressFamily = .ipv4
                    $0.reconnect = .disabled
                })
            let error = try await withTimeout("the IPv4-only attempt to fail") { () -> EventSourceError? in
                do throws(EventSourceError) {
                    for try await _ in four.events {}
                } catch {
                    return error
                }
                return nil
            }
            #expect(error?.code == .transport, "\(String(describing: error))")
        }
        withExtendedLifetime(refusing) {}
    }

    @Test("HTTP/1.1 forced and HTTP/2 with prior knowledge: the head says which, and so does the server")
    func httpVersions() async throws {
        try await TestServer.withRunning { server in
            for (version, expected) in [
                (EventSource.Transport.HTTPVersion.http1_1, "HTTP/1.1"), (.http2PriorKnowledge, "HTTP/2"),
            ] {
                let source = EventSource(
                    url: server.url(for: .numbered(count: 1)),
                    configuration: .testing { $0.transport.httpVersion = version })
                var head: ResponseHead?
                for try await update in source.updates {
                    if case .state(.open(let opened)) = update { head = opened }
                    if case .event = update { break }
                }
                source.close()
                #expect(head?.httpVersion == expected)
            }
            #expect(server.requests.map(\.httpVersion) == ["HTTP/1.1", "HTTP/2"])
        }
    }

    @Test("HTTP/3 where libcurl lacks it: the source fails at once with .unsupported, and sends nothing")
    func http3() async throws {
        try await TestServer.withRunning { server in
            let source = EventSource(
                url: server.url(for: .numbered(count: 1)),
                configuration: .testing { $0.transport.httpVersion = .http3 })
            var failure: EventSourceError?
            do throws(EventSourceError) {
                for try await _ in source.events { break }
            } catch {
                failure = error
            }
            if EventSource.Transport.isSupported(.http3) {
                #expect(failure?.code != .unsupported)
            } else {
                #expect(failure?.code == .unsupported)
                #expect(failure?.description.contains("HTTP/3") == true)
                #expect(failure?.description.contains("libcurl") == true)
                #expect(server.requests.isEmpty)
            }
        }
    }

    @Test("a proxy's credentials and URL never show in descriptions")
    func proxyDescription() {
        let proxy = EventSource.Proxy.url(
            "http://user:secret@127.0.0.1:3128", credentials: .init(user: "u", password: "hunter2"))
        #expect(proxy.description == "http://127.0.0.1:3128")
        #expect(!"\(proxy)".contains("secret") && !"\(proxy)".contains("hunter2"))
        #expect(EventSource.Proxy.none.description == "none")
        #expect(EventSource.Proxy.environment.description == "environment")
    }

    @Test(
        "HTTP/1.1 behind nginx: a reconnect after a complete response reuses the connection nginx kept alive; a source's first request opens one of its own"
    )
    func http11ConnectionReuse() async throws {
        try await TestServer.withRunning { server in
            // nginx names each client connection in a header of its own.
            let directives = ["proxy_buffering off", "add_header X-Connection $connection always"]
            try await NginxProxy.withRunning(upstreamPort: server.port, locationDirectives: directives) { port in
                func proxied(_ scenario: Scenario) -> String {
                    server.url(for: scenario).replacingOccurrences(of: ":\(server.port)/", with: ":\(port)/")
                }
                /// The events, and the connection of each response head.
                func run(_ source: EventSource, events count: Int) async throws -> ([String], [String]) {
                    try await withTimeout("the events", timeout: .seconds(20)) {
                        var (ids, connections) = ([String](), [String]())
                        for try await update in source.updates {
                            switch update {
                            case .state(.open(let head)):
                                connections.append(head.headers.value(for: "X-Connection") ?? "none")
                            case .event(let event): ids.append(event.id)
                            default: break
                            }
                            if ids.count == count { break }
                        }
                        return (ids, connections)
                    }
                }
                // Two events a response, each ended properly: nginx keeps the connection open.
                let first = EventSource(
                    url: proxied(.numbered(count: 6).droppingAfter(events: 2, with: .finish)),
                    configuration: .testing())
                let (ids, connections) = try await run(first, events: 6)
                #expect(ids == ["1", "2", "3", "4", "5", "6"])
                #expect(connections.count == 3 && Set(connections).count == 1, "\(connections)")
                // A source that ends with its complete response leaves its connection idle; a new
                // source does not look for it.
                let finished = EventSource(
                    url: proxied(.numbered(count: 2)), configuration: .testing { $0.endOfStream = .finish })
                let (finishedIDs, finishedConnections) = try await run(finished, events: .max)
                #expect(finishedIDs == ["1", "2"])
                let fresh = EventSource(url: proxied(.numbered(count: 1)), configuration: .testing())
                let (_, freshConnections) = try await run(fresh, events: 1)
                #expect(finishedConnections.count == 1 && freshConnections.count == 1)
                #expect(freshConnections != finishedConnections, "\(freshConnections)")
                fresh.close()
                first.close()
            }
        }
    }
}
