/// One HTTP header field.
public struct HTTPHeader: Sendable, Hashable, CustomStringConvertible {
    /// The field name, as sent or received (compare case-insensitively).
    public var name: String
    /// The field value.
    public var value: String

    /// Creates a header field.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// `Name: value`.
    public var description: String { "\(name): \(value)" }
}

extension Array where Element == HTTPHeader {
    /// The value of the first field named `name`, compared case-insensitively.
    public func value(for name: String) -> String? {
        first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
