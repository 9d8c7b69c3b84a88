/// A minimal command-line reader: `--name value`, `--name=value` and flags, in any order.
public struct Arguments {
    private var remaining: ArraySlice<String>
    private var pendingValue: String?

    /// Reads `arguments`, the program name excluded.
    public init(_ arguments: [String]) {
        remaining = arguments[...]
    }

    /// The next option's name (`--runs` from `--runs=3` too), or `nil` at the end.
    public mutating func next() -> String? {
        pendingValue = nil
        guard let argument = remaining.popFirst() else { return nil }
        if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
            pendingValue = String(argument[argument.index(after: equals)...])
            return String(argument[..<equals])
        }
        return argument
    }

    /// The value of the option just read.
    public mutating func value(of name: String) throws -> String {
        if let pendingValue {
            self.pendingValue = nil
            return pendingValue
        }
        guard let next = remaining.popFirst() else { throw BenchmarkError("\(name) needs a value") }
        return next
    }

    /// The value of the option just read, as a whole number in `range`.
    public mutating func integer(of name: String, in range: ClosedRange<Int>) throws -> Int {
        let text = try value(of: name)
        guard let number = Int(text), range.contains(number) else {
            throw BenchmarkError(
                "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return number
    }

    /// The value of the option just read, as a positive number.
    public mutating func number(of name: String) throws -> Double {
        let text = try value(of: name)
        guard let number = Double(text), number > 0, number.isFinite else {
            throw BenchmarkError("\(name) must be a positive number, not '\(text)'")
        }
        return number
    }
}
