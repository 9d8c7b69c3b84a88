import Dispatch
import SSEContractService

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `sse-contract-service`: the test service of the SSE contract-test suite, until `DELETE /`,
/// SIGINT or SIGTERM.
let usage = """
    USAGE: sse-contract-service [--host HOST] [--port PORT] [--quiet]

    OPTIONS:
      --host HOST   Address to listen on (default: 127.0.0.1; 0.0.0.0 for a harness in a container).
      --port PORT   Port to listen on; 0 picks a free one (default: 8000).
      --quiet       Do not log requests and streams on stderr.
      -h, --help    Show this help.

    On startup it prints one line to stdout: 'listening on http://HOST:PORT'. The protocol is
    described in Sources/SSEContractService/SSEContractService.docc/SSEContractService.md.

    """

/// Writes `text` and a newline to file descriptor `descriptor` in one unbuffered write, so that
/// lines from different threads do not interleave and a parent process sees them at once.
func writeLine(_ text: String, to descriptor: Int32) {
    var line = text + "\n"
    line.withUTF8 { _ = write(descriptor, $0.baseAddress, $0.count) }
}

func standardError(_ text: String) {
    writeLine(text, to: 2)
}

func fail(_ message: String) -> Never {
    standardError("error: \(message)\n\n\(usage)")
    exit(1)
}

var host = "127.0.0.1"
var port = 8000
var quiet = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--host":
        guard let value = arguments.popFirst(), !value.isEmpty else { fail("--host needs a value") }
        host = value
    case "--port":
        guard let value = arguments.popFirst() else { fail("--port needs a value") }
        guard let number = Int(value), (0...65_535).contains(number) else {
            fail("--port needs a number from 0 to 65535, got '\(value)'")
        }
        port = number
    case "--quiet":
        quiet = true
    case "-h", "--help":
        print(usage, terminator: "")
        exit(0)
    default:
        fail("unknown argument '\(argument)'")
    }
}

let logToStandardError = !quiet
let service: ContractService
do {
    service = try await ContractService.start(host: host, port: port) { line in
        if logToStandardError { standardError(line) }
    }
} catch {
    standardError("error: cannot listen on \(host):\(port): \(error)")
    exit(1)
}
writeLine("listening on \(service.baseURL)", to: 1)

// SIGINT and SIGTERM stop the service as DELETE / does.
let signalSources = [SIGINT, SIGTERM].map { signalNumber in
    signal(signalNumber, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: signalNumber)
    source.setEventHandler { @Sendable in
        Task { await service.shutdown() }
    }
    source.resume()
    return source
}
await service.waitUntilStopped()
exit(0)
