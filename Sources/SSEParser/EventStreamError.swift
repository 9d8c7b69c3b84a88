/// An error that ends parsing of an event stream.
///
/// Errors are values of one type so new kinds can be added without breaking callers; compare
/// with the static members, for example `error == .eventTooLarge(limit: 1024)`.
public struct EventStreamError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case eventTooLarge(limit: Int)
    }

    private let code: Code

    private init(_ code: Code) {
        self.code = code
    }

    /// An event (its data, type and ID together with any unterminated line) grew past the
    /// parser's ``EventStreamParser/Configuration/maximumEventSize``.
    ///
    /// - Parameter limit: The configured maximum, in bytes.
    public static func eventTooLarge(limit: Int) -> Self {
        Self(.eventTooLarge(limit: limit))
    }

    /// A sentence saying what went wrong and what can be done about it.
    public var description: String {
        switch code {
        case .eventTooLarge(let limit):
            "an event in the stream is larger than the maximum event size of \(limit) bytes; "
                + "the stream is malformed or the limit is too low (raise maximumEventSize)"
        }
    }
}
