/// An error of `sse-listen` itself (not of the stream): something the person running it can fix.
///
/// All of them exit with status 1. The ``description`` is one line that names what to fix. The
/// kinds are static members (``usage(_:)``, ``unreadableFile(_:)``, ``stateFile(_:)``) over a
/// private code, so new kinds never break callers.
public struct ListenError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case usage
        case unreadableFile
        case stateFile
    }

    private let code: Code

    /// The one-line message.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A bad option value or URL.
    public static func usage(_ message: String) -> ListenError {
        ListenError(.usage, message)
    }

    /// A file named by an option (`-d @file`, `--cacert`) could not be read or is not what the
    /// option needs.
    public static func unreadableFile(_ message: String) -> ListenError {
        ListenError(.unreadableFile, message)
    }

    /// The state file is not a regular file, could not be read, does not hold an event ID, or
    /// could not be written.
    public static func stateFile(_ message: String) -> ListenError {
        ListenError(.stateFile, message)
    }

    /// The one-line message.
    public var description: String { message }
}
