/// An error of `sse-listen` itself (not of the stream): something the person running it can fix.
///
/// All of them exit with status 1. The ``description`` is one line that names what to fix.
public struct ListenError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kinds of error.
    public enum Code: Sendable, Hashable {
        /// A bad option value or URL.
        case usage
        /// A file named by an option (`-d @file`, `--cacert`) could not be read.
        case unreadableFile
        /// The state file could not be read, does not hold an event ID, or could not be written.
        case stateFile
    }

    /// What kind of error this is.
    public let code: Code

    /// The one-line message.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A bad option value or URL.
    public static func usage(_ message: String) -> ListenError {
        ListenError(.usage, message)
    }

    /// The one-line message.
    public var description: String { message }
}
