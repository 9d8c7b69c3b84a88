/// A failure of the contract-test service: a request it refused, or a callback it could not deliver.
///
/// Inspect ``code`` to tell failures apart, and ``description`` for a sentence a person can act on.
public struct ContractServiceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kinds of failure.
    public enum Code: Sendable, Hashable {
        /// A request to the service had an invalid body or parameter (answered with 400).
        case invalidRequest(String)
        /// A URL the service was given is not one it can use.
        case unsupportedURL(String)
        /// A connection for a callback could not be made or broke before the answer was complete.
        case connectionFailed(String)
        /// A callback got no complete answer in time.
        case timedOut(Duration)
        /// The service is stopping and takes no new streams.
        case stopping
    }

    /// What went wrong.
    public let code: Code

    /// Creates an error.
    public init(_ code: Code) {
        self.code = code
    }

    /// A sentence saying what went wrong.
    public var description: String {
        switch code {
        case .invalidRequest(let message):
            "invalid request: \(message)"
        case .unsupportedURL(let url):
            "'\(url)' is not an http:// URL with a host; the service's client supports only plain HTTP"
        case .connectionFailed(let message):
            "connection failed: \(message)"
        case .timedOut(let timeout):
            "no complete answer within \(timeout)"
        case .stopping:
            "the service is stopping and takes no new streams"
        }
    }

    static func invalidRequest(_ message: String) -> ContractServiceError {
        ContractServiceError(.invalidRequest(message))
    }
}
