/// A Markdown table, its columns padded so that it also reads well as plain text.
public struct MarkdownTable {
    private let header: [String]
    private var rows: [[String]] = []

    /// A table with these column headings.
    public init(_ header: [String]) {
        self.header = header
    }

    /// Adds a row; missing cells are left empty.
    public mutating func add(_ row: [String]) {
        rows.append(row)
    }

    /// The table as Markdown text, ending with a newline.
    public var text: String {
        let all = [header] + rows
        var widths = [Int](repeating: 3, count: header.count)
        for row in all {
            for (column, cell) in row.enumerated() where column < widths.count {
                widths[column] = max(widths[column], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            let padded = (0..<header.count).map { column -> String in
                let cell = column < cells.count ? cells[column] : ""
                return cell + String(repeating: " ", count: widths[column] - cell.count)
            }
            return "| " + padded.joined(separator: " | ") + " |\n"
        }
        return line(header) + line(widths.map { String(repeating: "-", count: $0) }) + rows.map(line).joined()
    }
}

/// `value` with `digits` digits after the point.
public func fixed(_ value: Double, _ digits: Int = 1) -> String {
    guard value.isFinite else { return "–" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (abs(value) * scale).rounded() / scale
    let whole = Int(rounded)
    var text = "\(value < 0 && rounded != 0 ? "-" : "")\(grouped(whole))"
    if digits > 0 {
        let fraction = Int(((rounded - Double(whole)) * scale).rounded())
        let digitsText = String(fraction)
        text += "." + String(repeating: "0", count: digits - digitsText.count) + digitsText
    }
    return text
}

/// A whole number with thousands separated by commas: `1,234,567`.
public func grouped(_ value: Int) -> String {
    let digits = String(abs(value))
    var result = ""
    for (index, character) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { result += "," }
        result.append(character)
    }
    return value < 0 ? "-" + result : result
}

/// `PASS` or `FAIL`.
public func verdict(_ passed: Bool) -> String {
    passed ? "PASS" : "FAIL"
}
