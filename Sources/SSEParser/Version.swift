/// The version of swift-sse, in one place: the `User-Agent` of `EventSource`, `sse-listen
/// --version` and `sse-test-server --version` all read it. Bump it with the CHANGELOG.
package enum SwiftSSEVersion {
    /// The release this source tree is, such as `0.2.0` (semantic versioning).
    package static let current = "0.2.0"
}
