/// The fields ticker.c writes in every event's data: `t=SEND c=CONN k=K acc=ACCEPT drop=DROP pad=…`.
struct TickerEvent {
    /// When the server wrote the event (CLOCK_MONOTONIC ns).
    var sent: UInt64
    /// When it accepted the connection.
    var accepted: UInt64
    /// When it dropped the previous connection of this client, in the first event of a
    /// connection; else 0.
    var previousDrop: UInt64

    /// Reads the fields; `nil` if `data` is not a ticker event.
    init?(_ data: String) {
        var values: [UInt64] = []
        for word in data.utf8.split(separator: UInt8(ascii: " ")).prefix(5) {
            guard let equals = word.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            var value: UInt64 = 0
            for byte in word[word.index(after: equals)...] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
            }
            values.append(value)
        }
        guard values.count == 5 else { return nil }
        sent = values[0]
        accepted = values[3]
        previousDrop = values[4]
    }
}
