/// Parsing of the three HTTP date formats (RFC 9110, section 5.6.7), without Foundation.
enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Unix seconds of `Sun, 06 Nov 1994 08:49:37 GMT`, `Sunday, 06-Nov-94 08:49:37 GMT` or
    /// `Sun Nov  6 08:49:37 1994`; `nil` when `text` is none of them.
    static func parse(_ text: String) -> Int64? {
        parseFields(text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init))
    }

    private static func parseFields(_ parts: [String]) -> Int64? {
        var day: Int?
        var month: Int?
        var year: Int?
        var time: (Int, Int, Int)?
        switch parts.count {
        case 6 where parts[5].uppercased() == "GMT":
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            day = Int(parts[1])
            month = monthNumber(parts[2])
            year = Int(parts[3])
            time = clock(parts[4])
        case 4 where parts[3].uppercased() == "GMT":
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            let date = parts[1].split(separator: "-").map(String.init)
            guard date.count == 3 else { return nil }
            day = Int(date[0])
            month = monthNumber(date[1])
            if let shortYear = Int(date[2]) {
                year = date[2].count == 2 ? (shortYear < 70 ? 2000 + shortYear : 1900 + shortYear) : shortYear
            }
            time = clock(parts[2])
        case 5:
            // asctime: Sun Nov  6 08:49:37 1994
            month = monthNumber(parts[1])
            day = Int(parts[2])
            time = clock(parts[3])
            year = Int(parts[4])
        default:
            return nil
        }
        // The year is bounded so the arithmetic below cannot overflow on a hostile value.
        guard let day, let month, let year, let (hour, minute, second) = time, (1...9999).contains(year),
            (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        return daysFromCivil(year: year, month: month, day: day) * 86_400
            + Int64(hour * 3600 + minute * 60 + second)
    }

    private static func monthNumber(_ name: String) -> Int? {
        months.firstIndex(of: name.lowercased()).map { $0 + 1 }
    }

    private static func clock(_ text: String) -> (Int, Int, Int)? {
        let fields = text.split(separator: ":").compactMap { Int($0) }
        guard fields.count == 3 else { return nil }
        return (fields[0], fields[1], fields[2])
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
