/// A failure of the contract-test service: a request it refused, or a callback it could not deliver.
///
/// The kinds are static members (``invalidRequest(_:)``, ``unsupportedURL(_:)``,
/// ``connectionFailed(_:)``, ``timedOut(_:)``, ``stopping``) over a private code, so new kinds never
/// break callers; compare with `==`, and read ``description`` for a sentence a person can act on.
public struct ContractServiceError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case invalidRequest(String)
        case unsupportedURL(String)
        case connectionFailed(String)
        case timedOut(Duration)
        case stopping
    }

    private let code: Code

    private init(_ code: Code) {
        self.code = code
    }

    /// A request to the service had an invalid body or parameter (answered with 400).
    public static func invalidRequest(_ message: String) -> ContractServiceError {
        ContractServiceError(.invalidRequest(message))
    }

    /// A URL the service was given is not one it can use.
    public static func unsupportedURL(_ url: String) -> ContractServiceError {
        ContractServiceError(.unsupportedURL(url))
    }

    /// A connection for a callback could not be made or broke before the answer was complete.
    public static func connectionFailed(_ message: String) -> ContractServiceError {
        ContractServiceError(.connectionFailed(message))
    }

    /// A callback got no complete answer within `timeout`.
    public static func timedOut(_ timeout: Duration) -> ContractServiceError {
        ContractServiceError(.timedOut(timeout))
    }

    /// The service is stopping and takes no new streams.
    public static let stopping = ContractServiceError(.stopping)

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
}
