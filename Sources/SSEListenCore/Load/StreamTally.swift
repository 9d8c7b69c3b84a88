/// One stream's sequence accounting across its reconnects, from the event ids when they are
/// integers, following the server's own numbering: a gap is lost events, a number again (or
/// lower) is a repeat. Pure.
///
/// An event without an `id:` field carries the last id (WHATWG's `lastEventId`), so within a
/// connection the same id again is not a repeat; at the start of a connection it is (a replay
/// that repeats the event at the cursor).
struct StreamTally: Sendable, Hashable {
    /// Events received.
    private(set) var events = 0
    /// Events the numbering says never arrived.
    private(set) var lost = 0
    /// Events that arrived again.
    private(set) var duplicated = 0
    /// The first id that is not an integer, when one came: the counts above are then unknown.
    private(set) var nonNumericID: String?

    private var last: Int?
    private var atConnectionStart = true

    /// A new connection opened: its first event is compared with the last one of the one before.
    mutating func connectionOpened() {
        atConnectionStart = true
    }

    /// An event with `id` arrived.
    mutating func received(id: String) {
        events += 1
        defer { atConnectionStart = false }
        guard nonNumericID == nil else { return }
        guard let number = Int(id) else {
            // No id yet (an empty one) says nothing; any other id that is not a number ends the counting.
            if !id.isEmpty { nonNumericID = id }
            return
        }
        guard let previous = last else {
            last = number
            return
        }
        if number > previous {
            lost += number - previous - 1
            last = number
        } else if number < previous || atConnectionStart {
            duplicated += 1
        }
    }

    /// Whether lost and duplicated are known (every id so far an integer).
    var isNumeric: Bool { nonNumericID == nil }
}
