import Dispatch
import Foundation
import SSEParser
import SSETestServer

/// `sse-test-server`: runs the test server for people and demos until SIGINT or SIGTERM.
let usage = """
    USAGE: sse-test-server [--host HOST] [--port PORT] [--tick MS] [--heartbeat MS]
                           [--auth-token TOKEN] [--cors-origin ORIGIN] [--history N]
                           [--publish MS] [--unix-socket PATH] [--tls-cert FILE --tls-key FILE]
                           [--quiet] [--version]

    OPTIONS:
      --host HOST           Address to listen on (default: 127.0.0.1).
      --port PORT           Port to listen on; 0 picks a free one (default: 8080).
      --tick MS             Milliseconds between events of the numbered stream (default: 1000).
      --heartbeat MS        Milliseconds between ':' heartbeat comments (default: none).
      --auth-token TOKEN    Require 'Authorization: Bearer TOKEN' on every request.
      --cors-origin ORIGIN  Send 'Access-Control-Allow-Origin: ORIGIN' and answer preflights.
      --history N           Messages the broadcast hub keeps for replay (default: 100).
      --publish MS          Publish a message to the hub every MS, its data its id (default: none).
      --unix-socket PATH    Listen on this Unix domain socket instead of TCP (--host and --port
                            are then ignored); clients use http://localhost/ through it.
      --tls-cert FILE       Speak TLS with this PEM certificate chain (with --tls-key); ALPN
                            offers h2 and http/1.1. HTTP/2 is served either way: with TLS to a
                            client that agrees on h2, in plain text with prior knowledge (h2c).
      --tls-key FILE        The PEM private key of --tls-cert.
      --quiet               Do not log requests on stderr.
      --version             Print the version (the swift-sse release) and exit.
      -h, --help            Show this help.

    On startup it prints one line to stdout: 'listening on http://HOST:PORT' (with a Unix
    socket: 'listening on http://localhost via PATH').
    Endpoints and query parameters: see TestServer/README.md, or GET / on the server.

    """

func standardError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

func fail(_ message: String) -> Never {
    standardError("error: \(message)\n\n\(usage)")
    exit(1)
}

struct Options {
    var host = "127.0.0.1"
    var port = 8080
    var configuration: TestServer.Configuration = {
        var configuration = TestServer.Configuration.demo
        // Logged, not kept: a server under hours of load must not grow.
        configuration.keepsRequests = false
        return configuration
    }()
    var quiet = false
    var unixSocket: String?
    var tlsCertificate: String?
    var tlsKey: String?

    init(arguments: [String]) {
        var arguments = arguments[...]
        func value(for option: String) -> String {
            guard let value = arguments.popFirst() else { fail("\(option) needs a value") }
            return value
        }
        func number(for option: String, minimum: Int) -> Int {
            let text = value(for: option)
            guard let number = Int(text), number >= minimum else {
                fail("\(option) needs a whole number of at least \(minimum), got '\(text)'")
            }
            return number
        }
        while let argument = arguments.popFirst() {
            switch argument {
            case "--host": host = value(for: argument)
            case "--port": port = number(for: argument, minimum: 0)
            case "--tick": configuration.tickInterval = .milliseconds(number(for: argument, minimum: 0))
            case "--heartbeat": configuration.heartbeatInterval = .milliseconds(number(for: argument, minimum: 1))
            case "--auth-token": configuration.authToken = value(for: argument)
            case "--cors-origin": configuration.corsOrigin = value(for: argument)
            case "--history": configuration.historyCapacity = number(for: argument, minimum: 1)
            case "--publish": configuration.publishInterval = .milliseconds(number(for: argument, minimum: 1))
            case "--unix-socket": unixSocket = value(for: argument)
            case "--tls-cert": tlsCertificate = value(for: argument)
            case "--tls-key": tlsKey = value(for: argument)
            case "--quiet": quiet = true
            case "-h", "--help":
                print(usage, terminator: "")
                exit(0)
            case "--version":
                print(SwiftSSEVersion.current)
                exit(0)
            default: fail("unknown argument '\(argument)'")
            }
        }
        guard port <= 65_535 else { fail("--port must be at most 65535") }
        switch (tlsCertificate, tlsKey) {
        case (let certificate?, let key?):
            configuration.tls = TestServer.TLS(certificateChainFile: certificate, privateKeyFile: key)
        case (nil, nil): break
        case (nil, _): fail("--tls-key needs --tls-cert")
        case (_, nil): fail("--tls-cert needs --tls-key")
        }
    }
}

let options = Options(arguments: Array(CommandLine.arguments.dropFirst()))
let quiet = options.quiet
let server: TestServer
do {
    let log: @Sendable (RecordedRequest) -> Void = { request in
        if !quiet { standardError("\(request)") }
    }
    if let path = options.unixSocket {
        server = try await TestServer.start(unixSocketPath: path, configuration: options.configuration, onRequest: log)
    } else {
        server = try await TestServer.start(
            host: options.host, port: options.port, configuration: options.configuration, onRequest: log)
    }
} catch {
    let place = options.unixSocket ?? "\(options.host):\(options.port)"
    standardError("error: cannot listen on \(place): \(error)")
    exit(1)
}
// One unbuffered write, so a parent process reading stdout sees the port at once.
let via = server.unixSocketPath.map { " via \($0)" } ?? ""
FileHandle.standardOutput.write(Data("listening on \(server.baseURL)\(via)\n".utf8))

// Stop cleanly on SIGINT and SIGTERM: close connections, then exit.
let (signals, signalContinuation) = AsyncStream<Int32>.makeStream()
let signalSources = [SIGINT, SIGTERM].map { signalNumber in
    signal(signalNumber, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: signalNumber)
    // Sendable: the handler runs on a Dispatch queue, not on the main actor of this top-level code.
    source.setEventHandler { @Sendable in signalContinuation.yield(signalNumber) }
    source.resume()
    return source
}
for await _ in signals {
    break
}
standardError("shutting down")
try await server.shutdown()
if let path = server.unixSocketPath { unlink(path) }
