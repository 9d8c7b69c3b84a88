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
    /// - Throws: ``ListenError/Code/stateFile`` when it exists but cannot be read or does not
    ///   hold an event ID, saying so: a corrupt state file must not silently restart the stream
    ///   from the beginning.
    public func read() throws(ListenError) -> String? {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path, limit: Self.maximumSize)
        } catch {
            if access(path, F_OK) != 0 && errno == ENOENT { return nil }
            throw ListenError(.stateFile, "cannot read state file '\(path)': \(error.message)")
        }
        switch Self.parse(bytes) {
        case .success(let id):
            return id
        case .failure(let problem):
            throw ListenError(
                .stateFile,
                "state file '\(path)' does not hold an event ID (\(problem.reason)); "
                    + "fix it, or remove it to start from the beginning"
            )
        }
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

    /// Checks, before anything is received, that the state file's directory exists and is
    /// writable, so a typo fails at once rather than after the first event.
    public func checkWritable() throws(ListenError) {
        let directory = FileIO.directory(of: path)
        guard access(directory, W_OK) == 0 else {
            throw ListenError(
                .stateFile, "cannot write state file '\(path)': directory '\(directory)': \(FileIO.errorText())")
        }
    }

    /// Saves `id` atomically: writes `PATH.tmp-PID` with mode 0600, then renames it to `PATH`.
    public func write(_ id: String) throws(ListenError) {
        let temporary = "\(path).tmp-\(getpid())"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ListenError(.stateFile, "cannot write state file '\(path)': \(FileIO.errorText())")
        }
        // The umask can only clear bits, but a file system may have ignored the mode.
        fchmod(fd, 0o600)
        do {
            try FileIO.writeAll(fd: fd, Array(id.utf8) + [0x0A])
        } catch {
            close(fd)
            unlink(temporary)
            throw ListenError(.stateFile, "cannot write state file '\(path)': \(error.message)")
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let message = FileIO.errorText()
            unlink(temporary)
            throw ListenError(.stateFile, "cannot replace state file '\(path)': \(message)")
        }
    }
}
