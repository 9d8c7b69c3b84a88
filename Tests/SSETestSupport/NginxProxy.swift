import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real nginx (Debian's package; `.ci/install-deps` installs it) as a reverse proxy in front of
/// a plain `TestServer`, on a free loopback port, with a configuration of its own in a temporary
/// folder: one process (`master_process off`), stopped when the body returns.
///
/// Its `location /` proxies to `127.0.0.1:<upstreamPort>` with nginx's defaults (HTTP/1.0 to the
/// upstream, `proxy_buffering on`) plus `locationDirectives`.
///
/// ```swift
/// try await NginxProxy.withRunning(upstreamPort: server.port) { port in
///     // http://127.0.0.1:<port>/events reaches `server` through nginx
/// }
/// ```
public enum NginxProxy {
    /// Where Debian installs nginx.
    public static let binary = "/usr/sbin/nginx"

    /// Runs `body` with the port of an nginx that proxies to `upstreamPort`.
    ///
    /// - Throws: ``ToolFailed`` when nginx is missing or does not start (its error log quoted).
    public static func withRunning<T: Sendable>(
        upstreamPort: Int,
        locationDirectives: [String] = [],
        _ body: (Int) async throws -> T
    ) async throws -> T {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ToolFailed("\(binary) is missing: run .ci/install-deps (it installs Debian's nginx)")
        }
        let directory = NSTemporaryDirectory() + "sse-nginx-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await withLoopbackService("nginx") { port in
            let configuration = "\(directory)/nginx.conf"
            try Self.configuration(
                directory: directory, port: port, upstreamPort: upstreamPort, locationDirectives: locationDirectives
            ).write(toFile: configuration, atomically: true, encoding: .utf8)
            return try ChildProcess(binary, ["-c", configuration, "-p", directory])
        } problem: { nginx in
            // nginx says why in its error log.
            let log = (try? String(contentsOfFile: "\(directory)/error.log", encoding: .utf8)) ?? ""
            return log + String(decoding: nginx.stderr, as: UTF8.self)
        } body: { port in
            try await body(port)
        }
    }

    private static func configuration(
        directory: String, port: Int, upstreamPort: Int, locationDirectives: [String]
    ) -> String {
        let extra = locationDirectives.map { "            \($0);\n" }.joined()
        return """
            daemon off;
            master_process off;
            error_log \(directory)/error.log;
            pid \(directory)/nginx.pid;
            events {}
            http {
                access_log off;
                client_body_temp_path \(directory)/body;
                proxy_temp_path \(directory)/proxy;
                fastcgi_temp_path \(directory)/fastcgi;
                uwsgi_temp_path \(directory)/uwsgi;
                scgi_temp_path \(directory)/scgi;
                server {
                    listen 127.0.0.1:\(port);
                    location / {
                        proxy_pass http://127.0.0.1:\(upstreamPort);
            \(extra)        }
                }
            }

            """
    }
}
