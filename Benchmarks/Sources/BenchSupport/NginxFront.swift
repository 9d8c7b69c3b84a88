#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Debian's nginx on a free loopback port, speaking TLS with ALPN (`h2` and `http/1.1`), so that
/// one server answers clients over HTTP/1.1 and HTTP/2 alike. It proxies to a local upstream,
/// unbuffered (an event stream passes through as it is written), or serves a folder.
///
/// The certificate is made with the `openssl` command for `127.0.0.1`, self-signed; clients
/// trust ``certificatePath``. Stopped by ``stop()``.
public final class NginxFront: Sendable {
    /// What nginx does with a request.
    public enum Content: Sendable {
        /// Proxies every request to `http://127.0.0.1:PORT` over HTTP/1.1, unbuffered.
        case proxy(upstreamPort: Int)
        /// Serves the files of a folder.
        case files(root: String)
    }

    /// The TLS port, on 127.0.0.1.
    public let port: Int
    /// The server's certificate (self-signed): the CA file a client must trust.
    public let certificatePath: String
    private let directory: String
    private let master: ChildProcess

    /// Starts nginx; returns once it accepts connections.
    public init(_ content: Content) throws {
        directory = try temporaryDirectory("nginx")
        certificatePath = directory + "/cert.pem"
        let made = try runProgram([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", directory + "/key.pem", "-out", certificatePath, "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ])
        guard made.termination.status == 0 else {
            throw BenchmarkError("openssl could not make a certificate: \(made.standardError)")
        }
        port = try freePort()
        let location =
            switch content {
            case .proxy(let upstream):
                """
                location / {
                    proxy_pass http://127.0.0.1:\(upstream);
                    proxy_http_version 1.1;
                    proxy_buffering off;
                    proxy_read_timeout 1h;
                }
                """
            case .files(let root):
                "location / { root \(root); }"
            }
        // One worker, as many connections as a benchmark opens (each proxied stream takes two).
        let configuration = """
            daemon off;
            master_process on;
            worker_processes 1;
            worker_rlimit_nofile 70000;
            pid \(directory)/nginx.pid;
            error_log \(directory)/error.log warn;
            events { worker_connections 65000; }
            http {
                access_log off;
                sendfile on;
                client_body_temp_path \(directory);
                proxy_temp_path \(directory);
                fastcgi_temp_path \(directory);
                uwsgi_temp_path \(directory);
                scgi_temp_path \(directory);
                server {
                    listen 127.0.0.1:\(port) ssl http2;
                    ssl_certificate \(certificatePath);
                    ssl_certificate_key \(directory)/key.pem;
                    http2_max_concurrent_streams 1000;
                    keepalive_timeout 1h;
                    \(location)
                }
            }
            """
        try writeFile(directory + "/nginx.conf", configuration)
        master = try ChildProcess(
            ["nginx", "-c", directory + "/nginx.conf", "-p", directory], standardOutput: .discard,
            standardError: .inherit)
        let deadline = Clock.seconds() + 10
        while !Self.accepts(port: port) {
            guard Clock.seconds() < deadline else {
                master.terminate()
                throw BenchmarkError("nginx did not listen on \(port): \(readSmallFile(directory + "/error.log"))")
            }
            usleep(20_000)
        }
    }

    /// `https://127.0.0.1:PORT` followed by `pathAndQuery`.
    public func url(_ pathAndQuery: String = "/") -> String {
        "https://127.0.0.1:\(port)\(pathAndQuery)"
    }

    /// Stops nginx (SIGTERM to the master, which stops its worker) and removes its folder.
    public func stop() {
        master.terminate()
        _ = try? runProgram(["rm", "-rf", directory])
    }

    private static func accepts(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
