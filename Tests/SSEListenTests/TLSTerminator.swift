import Foundation
import Testing

/// Certificates made with `openssl` at test time and a TLS terminator (Python's `ssl` module)
/// that forwards to a TestServer: real TLS for `-k` and `--cacert`.
final class TLSTerminator: Sendable {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"]
        try run(
            ["openssl", "req", "-x509"] + key + [
                "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=sse-listen test CA",
            ])
        try run(["openssl", "req"] + key + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(
            toFile: directory.file("server.ext"), atomically: true, encoding: .utf8)
        try run([
            "openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
        ])
    }

    func path(_ name: String) -> String { directory.file(name) }

    private func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw HarnessError("\(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
    }

    /// Runs `body` with the port of a TLS listener (certificate `server.pem`, signed by `ca.pem`)
    /// that forwards every connection to `upstreamPort`.
    func withListener<T: Sendable>(upstreamPort: Int, _ body: (Int) async throws -> T) async throws -> T {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, path("server.pem"), path("server.key"), "\(upstreamPort)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            // SIGKILL, not terminate(): a child spawned from a concurrency thread inherits its
            // signal mask, in which SIGTERM is blocked, so SIGTERM would wait forever.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let handle = output.fileHandleForReading
        // The script prints its port at once; a blocking read on a thread of its own.
        let port: Int? = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var text = ""
                while !text.contains("\n") {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    text += String(decoding: data, as: UTF8.self)
                }
                continuation.resume(returning: Int(text.trimmingCharacters(in: .whitespacesAndNewlines)))
            }
        }
        guard let port else { throw HarnessError("the TLS terminator did not start") }
        return try await body(port)
    }

    private static let script = """
        import asyncio, ssl, sys
        certificate, key, upstream = sys.argv[1], sys.argv[2], int(sys.argv[3])
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        async def pipe(reader, writer):
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except Exception:
                pass
            finally:
                try:
                    writer.close()
                except Exception:
                    pass
        async def handle(client_reader, client_writer):
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", upstream)
            except Exception:
                client_writer.close()
                return
            await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
            print(server.sockets[0].getsockname()[1], flush=True)
            async with server:
                await server.serve_forever()
        asyncio.run(main())
        """
}
