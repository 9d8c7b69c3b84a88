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
        // A port picked free can be taken before nginx binds it: try again with another.
        var lastProblem = ""
        for _ in 0..<3 {
            let port = try freeLoopbackPort()
            let configuration = "\(directory)/nginx.conf"
            try Self.configuration(
                directory: directory, port: port, upstreamPort: upstreamPort, locationDirectives: locationDirectives
            ).write(toFile: configuration, atomically: true, encoding: .utf8)
            let nginx = try ChildProcess(binary, ["-c", configuration, "-p", directory])
            defer {
                nginx.send(SIGKILL)
            }
            if try await acceptsConnections(port: port, while: nginx) {
                return try await body(port)
            }
            let log = (try? String(contentsOfFile: "\(directory)/error.log", encoding: .utf8)) ?? ""
            lastProblem = String((log + String(decoding: nginx.stderr, as: UTF8.self)).suffix(600))
        }
        throw ToolFailed("nginx did not start: \(lastProblem)")
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

/// Whether a connection to loopback `port` succeeds within 10 seconds, while `process` runs.
func acceptsConnections(port: Int, while process: ChildProcess) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline, process.isRunning {
        if connects(port: port) { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return false
}

private func connects(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = loopback(port: port)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

/// A loopback port nothing listens on now (bound to port 0, read, released).
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ToolFailed("socket failed: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = loopback(port: 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw ToolFailed("bind failed: \(String(cString: strerror(errno)))") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw ToolFailed("getsockname failed: \(String(cString: strerror(errno)))") }
    return Int(UInt16(bigEndian: address.sin_port))
}

private func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
}
