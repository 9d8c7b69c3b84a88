import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Real forward proxies from Debian (`.ci/install-deps` installs them), each a child process of
/// the test on a free loopback port, with or without credentials, stopped when the body returns:
/// `tinyproxy` (HTTP, `CONNECT` for https) and `microsocks` (SOCKS5).
///
/// ```swift
/// try await LocalProxy.withTinyproxy(credentials: ("user", "secret")) { port in
///     // -x http://127.0.0.1:<port> -U user:secret
/// }
/// ```
public enum LocalProxy {
    /// Runs `body` with the port of a tinyproxy that wants `credentials` (Basic), if given.
    ///
    /// - Throws: ``ToolFailed`` when tinyproxy is missing or does not start.
    public static func withTinyproxy<T: Sendable>(
        credentials: (user: String, password: String)? = nil,
        _ body: (Int) async throws -> T
    ) async throws -> T {
        let binary = "/usr/bin/tinyproxy"
        try requireExecutable(binary, package: "tinyproxy")
        let directory = NSTemporaryDirectory() + "sse-tinyproxy-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await withLoopbackService("tinyproxy") { port in
            var lines = ["Port \(port)", "Listen 127.0.0.1", "Timeout 600", "LogLevel Error", "MaxClients 200"]
            if let credentials { lines.append("BasicAuth \(credentials.user) \(credentials.password)") }
            let configuration = "\(directory)/tinyproxy.conf"
            try (lines.joined(separator: "\n") + "\n").write(toFile: configuration, atomically: true, encoding: .utf8)
            // -d: in the foreground, so that it is this child and dies with it.
            return try ChildProcess(binary, ["-d", "-c", configuration])
        } body: { port in
            try await body(port)
        }
    }

    /// Runs `body` with the port of a microsocks (SOCKS5) that wants `credentials`, if given.
    ///
    /// - Throws: ``ToolFailed`` when microsocks is missing or does not start.
    public static func withMicrosocks<T: Sendable>(
        credentials: (user: String, password: String)? = nil,
        _ body: (Int) async throws -> T
    ) async throws -> T {
        let binary = "/usr/bin/microsocks"
        try requireExecutable(binary, package: "microsocks")
        return try await withLoopbackService("microsocks") { port in
            var arguments = ["-i", "127.0.0.1", "-p", "\(port)"]
            if let credentials { arguments += ["-u", credentials.user, "-P", credentials.password] }
            return try ChildProcess(binary, arguments)
        } body: { port in
            try await body(port)
        }
    }

    private static func requireExecutable(_ path: String, package: String) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ToolFailed("\(path) is missing: run .ci/install-deps (it installs Debian's \(package))")
        }
    }
}
