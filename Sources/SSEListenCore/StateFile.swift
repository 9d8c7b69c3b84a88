#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `--state-file`: the last event ID, so that a restarted `sse-listen` resumes where the last
/// one stopped.
///
/// The file holds the ID followed by a line feed and nothing else (`echo 42 > state` makes a valid
/// one; an empty file means "no ID yet"). It never holds the URL, headers or credentials. Each
/// ``write(_:)`` writes a temporary file beside it with mode 0600 and renames it over the old one,
/// so a reader, or a run killed mid-write, sees either the old ID or the new one, never a mix.
///
/// Only a regular file is ever read or replaced. A symbolic link is followed (its target is
/// updated, and the link stays); a directory, a device (`/dev/null`), a FIFO or a socket is
/// refused with a ``ListenError``, before anything is opened.
public struct StateFile: Sendable, Hashable {
    /// The largest state file read; anything bigger is not one of ours.
    public static let maximumSize = 64 * 1024

    /// Where the state is kept.
    public let path: String

    /// Creates a state file at `path` (nothing is touched yet).
    public init(path: String) {
        self.path = path
    }

    /// The saved ID, or `nil` when the file does not exist.
    ///
    /// Follows a symbolic link to the regular file it names; never opens anything else (a FIFO
    /// would block, a device is not ours).
    ///
    /// - Throws: ``ListenError`` when it exists but is not a regular file, cannot be read or does
    ///   not hold an event ID, saying so: a corrupt state file must not silently restart the
    ///   stream from the beginning.
    public func read() throws(ListenError) -> String? {
        let target = try resolvedTarget()
        // O_NONBLOCK: should the target have turned into a FIFO since it was checked, opening it
        // must not wait for a writer; the fstat below then refuses it.
        let fd = open(target, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .stateFile("cannot read state file '\(path)': \(FileIO.errorText())")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw .stateFile("cannot read state file '\(path)': \(FileIO.errorText())")
        }
        if let kind = Self.nonRegularKind(info.st_mode) {
            throw notRegular(target: target, kind: kind)
        }
        if Int(info.st_size) > Self.maximumSize {
            throw .stateFile("cannot read state file '\(path)': larger than \(Self.maximumSize) bytes")
        }
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(fd: fd, limit: Self.maximumSize)
        } catch {
            throw .stateFile("cannot read state file '\(path)': \(error.message)")
        }
        switch Self.parse(bytes) {
        case .success(let id):
            return id
        case .failure(let problem):
            throw .stateFile(
                "state file '\(path)' does not hold an event ID (\(problem.reason)); "
                    + "fix it, or remove it to start from the beginning"
            )
        }
    }

    /// The file the ID is kept in: ``path`` itself, or, when ``path`` is a symbolic link (or a
    /// chain of them), the file it finally names, which need not exist yet.
    ///
    /// - Throws: ``ListenError`` when that file exists and is not a regular file (a directory, a
    ///   device such as `/dev/null`, a FIFO, a socket), or the links loop: renaming a temporary
    ///   file over any of those would destroy it (a device node) or fail late.
    public func resolvedTarget() throws(ListenError) -> String {
        var current = path
        for _ in 0..<Self.maximumLinks {
            var info = stat()
            guard lstat(current, &info) == 0 else {
                if errno == ENOENT { return current }
                throw .stateFile("cannot use state file '\(path)': \(FileIO.errorText())")
            }
            if (info.st_mode & S_IFMT) == S_IFLNK {
                guard let link = FileIO.symbolicLinkTarget(current) else {
                    throw .stateFile("cannot use state file '\(path)': \(FileIO.errorText())")
                }
                current = link.hasPrefix("/") ? link : FileIO.directory(of: current) + "/" + link
                continue
            }
            if let kind = Self.nonRegularKind(info.st_mode) {
                throw notRegular(target: current, kind: kind)
            }
            return current
        }
        throw .stateFile("cannot use state file '\(path)': \(FileIO.errorText(ELOOP))")
    }

    /// How many symbolic links are followed, as `MAXSYMLINKS` on Linux.
    private static let maximumLinks = 40

    /// What a file of this mode is, for a message, when it is not a regular file.
    static func nonRegularKind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: nil
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
    }

    private func notRegular(target: String, kind: String) -> ListenError {
        let what = target == path ? "is \(kind)" : "is a symbolic link to '\(target)', which is \(kind)"
        return .stateFile(
            "state file '\(path)' \(what), not a regular file; name a file (created if missing) instead")
    }

    /// Why a state file's contents are not an event ID.
    public struct Corruption: Error, Sendable, Hashable {
        /// Such as "it has 3 lines".
        public var reason: String
    }

    /// The event ID in a state file's contents: the text up to one optional trailing line feed
    /// (CRLF accepted too). Empty contents mean an empty ID.
    public static func parse(_ bytes: [UInt8]) -> Result<String, Corruption> {
        var content = bytes[...]
        if content.last == 0x0A {
            content.removeLast()
            if content.last == 0x0D { content.removeLast() }
        }
        if content.contains(0) {
            return .failure(Corruption(reason: "it contains NUL bytes"))
        }
        if content.contains(0x0A) || content.contains(0x0D) {
            let lines = content.split(omittingEmptySubsequences: false) { $0 == 0x0A || $0 == 0x0D }.count
            return .failure(Corruption(reason: "it has \(lines) lines, not one"))
        }
        guard let id = String(validating: content, as: UTF8.self) else {
            return .failure(Corruption(reason: "it is not UTF-8 text"))
        }
        return .success(id)
    }

    /// Checks, before anything is received, that the state file is (or can be created as) a
    /// regular file in a writable directory, so a typo fails at once rather than after the first
    /// event.
    public func checkWritable() throws(ListenError) {
        let target = try resolvedTarget()
        let directory = FileIO.directory(of: target)
        guard access(directory, W_OK) == 0 else {
            throw .stateFile("cannot write state file '\(path)': directory '\(directory)': \(FileIO.errorText())")
        }
    }

    /// Saves `id` atomically: writes `TARGET.tmp-PID` with mode 0600 beside the file the ID is
    /// kept in (``resolvedTarget()``: a symbolic link stays a link, and its target is updated),
    /// then renames it over that file.
    ///
    /// - Throws: ``ListenError`` when the target is not a regular file or cannot be written.
    public func write(_ id: String) throws(ListenError) {
        // Resolved on every write: renaming over what is not a regular file must never happen,
        // even if the path was replaced while running.
        let target = try resolvedTarget()
        let temporary = "\(target).tmp-\(getpid())"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw .stateFile("cannot write state file '\(path)': \(FileIO.errorText())")
        }
        // The umask can only clear bits, but a file system may have ignored the mode.
        fchmod(fd, 0o600)
        do {
            try FileIO.writeAll(fd: fd, Array(id.utf8) + [0x0A])
        } catch {
            close(fd)
            unlink(temporary)
            throw .stateFile("cannot write state file '\(path)': \(error.message)")
        }
        close(fd)
        guard rename(temporary, target) == 0 else {
            let message = FileIO.errorText()
            unlink(temporary)
            throw .stateFile("cannot replace state file '\(path)': \(message)")
        }
    }
}
