/// The median; the mean of the middle two for an even count, as in `shared/bench/limit.c`.
public func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "median of no values")
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// Order statistics of a sample, such as latencies.
public struct Distribution: Sendable {
    /// The values, ascending.
    public let sorted: [Double]

    /// Sorts `values`.
    public init(_ values: [Double]) {
        sorted = values.sorted()
    }

    /// How many values there are.
    public var count: Int { sorted.count }

    /// The smallest value, or NaN for none.
    public var minimum: Double { sorted.first ?? .nan }

    /// The largest value, or NaN for none.
    public var maximum: Double { sorted.last ?? .nan }

    /// The median, or NaN for none.
    public var median: Double { percentile(50) }

    /// The nearest-rank percentile `p` (0 to 100): the smallest value with at least p % of the
    /// values at or below it. NaN for an empty sample.
    public func percentile(_ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }

    /// The arithmetic mean, or NaN for none.
    public var mean: Double {
        sorted.isEmpty ? .nan : sorted.reduce(0, +) / Double(sorted.count)
    }
}
