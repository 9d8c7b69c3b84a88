#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Small POSIX file helpers with messages a person can act on.
enum FileIO {
    /// The text of `errno`, such as "No such file or directory".
    static func errorText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    /// Reads all of `fd` until end of file; more than `limit` bytes is an error.
    static func readAll(fd: Int32, limit: Int = .max) throws(FileIOError) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                guard result.count + count <= limit else { throw FileIOError(message: "larger than \(limit) bytes") }
                result.append(contentsOf: buffer[0..<count])
            } else if count == 0 {
                return result
            } else if errno != EINTR {
                throw FileIOError(message: errorText())
            }
        }
    }

    /// Reads the whole file at `path`, refusing directories and files over `limit` bytes.
    static func readFile(_ path: String, limit: Int = 256 * 1024 * 1024) throws(FileIOError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError(message: errorText()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileIOError(message: errorText()) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw FileIOError(message: errorText(EISDIR)) }
        if (info.st_mode & S_IFMT) == S_IFREG && Int(info.st_size) > limit {
            throw FileIOError(message: "larger than \(limit) bytes")
        }
        return try readAll(fd: fd)
    }

    /// Writes all of `bytes` to `fd`, retrying short writes and `EINTR`.
    static func writeAll(fd: Int32, _ bytes: [UInt8]) throws(FileIOError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written >= 0 {
                offset += written
            } else if errno != EINTR {
                throw FileIOError(message: errorText(), code: errno)
            }
        }
    }

    /// What the symbolic link at `path` points to, as written in the link; `nil` (with `errno`
    /// set) when it cannot be read.
    static func symbolicLinkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The directory part of `path` (`.` for a bare file name).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }
}

/// A failed file operation, with the system's message.
struct FileIOError: Error, Sendable {
    /// Such as "No such file or directory".
    var message: String
    /// The `errno` value, when there was one.
    var code: Int32 = 0
}
