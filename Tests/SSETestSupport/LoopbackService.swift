import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starts a server program on a free loopback port (trying another when the port was taken
/// meanwhile, up to three times), waits until it accepts connections, runs `body` with the port,
/// and kills the server.
///
/// - Parameters:
///   - name: The program's name, for the error.
///   - start: Starts the server on a port.
///   - problem: What to quote when it did not start; its output by default.
///   - body: The work to do while it runs.
/// - Throws: ``ToolFailed`` when it did not start.
func withLoopbackService<T: Sendable>(
    _ name: String,
    start: (Int) throws -> ChildProcess,
    problem: (ChildProcess) -> String = { String(decoding: $0.stderr + $0.stdout, as: UTF8.self) },
    body: (Int) async throws -> T
) async throws -> T {
    var lastProblem = ""
    for _ in 0..<3 {
        let port = try freeLoopbackPort()
        let server = try start(port)
        defer { server.send(SIGKILL) }
        if try await acceptsConnections(port: port, while: server) {
            return try await body(port)
        }
        lastProblem = String(problem(server).suffix(600))
    }
    throw ToolFailed("\(name) did not start: \(lastProblem)")
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
    try RefusingLoopbackPort().port
}

private func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
}

/// An IPv4 loopback port that refuses every connection for as long as this value lives: a socket
/// bound to it that never listens. Unlike a port that was free a moment ago, no server started
/// meanwhile by a test running in parallel can take it.
public final class RefusingLoopbackPort: Sendable {
    /// The port number.
    public let port: Int
    private let descriptor: Int32

    /// Binds a socket to a free IPv4 loopback port.
    ///
    /// - Throws: ``ToolFailed`` when the socket cannot be made or bound.
    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ToolFailed("socket failed: \(String(cString: strerror(errno)))") }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard named else {
            let problem = String(cString: strerror(errno))
            close(fd)
            throw ToolFailed("binding a loopback port failed: \(problem)")
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}
