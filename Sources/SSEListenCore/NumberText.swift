extension String {
    /// `value` with exactly `digits` decimals, rounded: "12.3" for one, "0.54" for two.
    init(fixed value: Double, digits: Int) {
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int64((value * Double(scale)).rounded())
        guard digits > 0 else {
            self = "\(scaled)"
            return
        }
        let fraction = String(abs(scaled % scale))
        let sign = scaled < 0 && scaled / scale == 0 ? "-" : ""
        self = "\(sign)\(scaled / scale).\(String(repeating: "0", count: digits - fraction.count))\(fraction)"
    }

    /// Up to three decimals, as JSON: "12.345", "3".
    init(format3 value: Double) {
        let thousandths = Int64((value * 1000).rounded())
        let whole = thousandths / 1000
        let fraction = abs(thousandths % 1000)
        if fraction == 0 {
            self = "\(whole)"
        } else {
            var digits = String(fraction)
            while digits.count < 3 { digits = "0" + digits }
            while digits.hasSuffix("0") { digits.removeLast() }
            self = "\(whole).\(digits)"
        }
    }
}
