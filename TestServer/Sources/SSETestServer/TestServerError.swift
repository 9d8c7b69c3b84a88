/// An error of the test server: a bad scenario, or a wait that ran out of time.
///
/// Compare with the static members (`error.code == TestServerError.Code.timedOut`); the
/// ``description`` says what went wrong in a sentence.
public struct TestServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of error this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Hashable {
            case invalidScenario
            case timedOut
            case shutDown
            case invalidTLS
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A query parameter of a scenario has a value the server cannot use.
        public static let invalidScenario = Code(.invalidScenario)
        /// A wait for requests, connections or subscribers did not see them in time.
        public static let timedOut = Code(.timedOut)
        /// The server has been shut down.
        public static let shutDown = Code(.shutDown)
        /// ``TestServer/Configuration/tls`` names a certificate or key that cannot be used.
        public static let invalidTLS = Code(.invalidTLS)

        /// The name of the code, such as `timedOut`.
        public var description: String { base.rawValue }
    }

    /// What kind of error this is.
    public let code: Code

    /// A sentence that says what went wrong.
    public let description: String

    static func invalidScenario(_ message: String) -> TestServerError {
        TestServerError(code: .invalidScenario, description: "invalid scenario: \(message)")
    }

    static func timedOut(_ what: String, after timeout: Duration) -> TestServerError {
        TestServerError(code: .timedOut, description: "timed out after \(timeout) waiting for \(what)")
    }

    static func invalidTLS(_ message: String) -> TestServerError {
        TestServerError(code: .invalidTLS, description: "cannot use the TLS certificate or key: \(message)")
    }

    static let shutDown = TestServerError(code: .shutDown, description: "the test server has been shut down")
}
