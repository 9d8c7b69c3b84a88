import Foundation
import SSETestServer

#if canImport(Glibc)
    import Glibc
#endif

/// Real TLS for tests: certificates made with the `openssl` command at test time, and a TLS
/// terminator (Python's `ssl` module) that forwards every connection to a plain `TestServer`.
///
/// The certificates, in ``path(_:)``: `ca.pem` (a test CA), `server.pem`/`server.key` (signed by
/// it, for `localhost` and `127.0.0.1`), `wronghost.pem`/`.key` (signed by it, for `wrong.example`)
/// and `selfsigned.pem`/`.key`. Needs `openssl` and `python3` (`.ci/install-deps` installs them).
/// Both run as ``ChildProcess``es.
///
/// ```swift
/// let tls = try await TLSTerminator()
/// try await tls.withListener(upstreamPort: server.port) { port in
///     // https://127.0.0.1:<port>/… reaches `server`, verified against tls.path("ca.pem")
/// }
/// ```
public final class TLSTerminator: Sendable {
    /// The folder holding the certificates and keys; removed when the value goes away.
    public let directory: String

    /// Makes the certificates.
    public init() async throws {
        directory = NSTemporaryDirectory() + "sse-tls-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try await openssl(
            ["req", "-x509"] + curve + [
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=swift-sse test CA",
            ]
        )
        try await issue("server", subjectAltName: "DNS:localhost,IP:127.0.0.1")
        try await issue("wronghost", subjectAltName: "DNS:wrong.example")
        try await openssl(
            ["req", "-x509"] + curve + [
                "-keyout", "selfsigned.key", "-out", "selfsigned.pem", "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ]
        )
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The path of a file in ``directory``, such as `ca.pem`.
    public func path(_ name: String) -> String { directory + "/" + name }

    private func issue(_ name: String, subjectAltName: String) async throws {
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try await openssl(["req"] + curve + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(name)"])
        try "subjectAltName=\(subjectAltName)\n".write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
        try await openssl([
            "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "\(name).pem", "-days", "2", "-extfile", "\(name).ext",
        ])
    }

    /// Runs openssl in ``directory``.
    private func openssl(_ arguments: [String]) async throws {
        let result = try await ChildProcess.run(
            "/usr/bin/env", ["openssl"] + arguments, directory: directory, timeout: .seconds(20)
        )
        guard result.status == 0 else {
            throw ToolFailed(
                "openssl \(arguments.joined(separator: " ")) exited with \(result.status): \(result.stderrText)"
            )
        }
    }

    /// Runs `body` with the port of a TLS listener that forwards every connection to `upstreamPort`,
    /// presenting certificate `name` (`server` by default; `wronghost`, `selfsigned`).
    public func withListener<T: Sendable>(
        certificate name: String = "server",
        upstreamPort: Int,
        _ body: (Int) async throws -> T
    ) async throws -> T {
        // The terminator exits when its standard input closes, so it cannot outlive this process.
        let terminator = try ChildProcess(
            "/usr/bin/env",
            ["python3", "-c", Self.terminatorScript, path("\(name).pem"), path("\(name).key"), "\(upstreamPort)"],
            keepingInputOpen: true
        )
        defer {
            // SIGKILL: SIGTERM may be ignored in the environment the tests inherit.
            terminator.send(SIGKILL)
            terminator.closeInput()
        }
        let line = try await terminator.firstLine(timeout: .seconds(10))
        guard let port = Int(line) else { throw ToolFailed("the TLS terminator printed \(line), not a port") }
        return try await body(port)
    }

    private static let terminatorScript = """
        import asyncio, os, ssl, sys, threading
        certificate, key, upstream = sys.argv[1], sys.argv[2], int(sys.argv[3])
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        async def pipe(reader, writer):
            try:
                while True:
                    data = await reader.read(65536)
                    if not data:
                        break
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

extension TLSTerminator {
    /// The `server` certificate and key as a ``TestServer``'s TLS identity (for `localhost` and
    /// `127.0.0.1`, signed by `ca.pem`), offering `protocols` by ALPN (`h2` and `http/1.1` by default).
    public func serverIdentity(offering protocols: [String] = ["h2", "http/1.1"]) -> TestServer.TLS {
        TestServer.TLS(
            certificateChainFile: path("server.pem"), privateKeyFile: path("server.key"),
            applicationProtocols: protocols)
    }
}

/// A command the TLS fixture needs (`openssl`, `python3`) failed; the description says how.
public struct ToolFailed: Error, CustomStringConvertible {
    /// What failed, with the command's own words.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
