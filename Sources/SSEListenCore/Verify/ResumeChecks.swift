import SSEParser

/// What `verify` saw of one resume: a connection it dropped mid-stream, and the connections that
/// followed with `Last-Event-ID`. Built by ``VerifyProbe``; judged against the uninterrupted
/// stream by ``ResumeChecks``.
struct ResumeRecording: Sendable {
    /// Where the first connection was dropped.
    struct Cut: Sendable, Hashable {
        /// Body bytes taken before the drop.
        var bodyBytes: Int
        /// Bytes of the unfinished block taken before the drop (0: between blocks).
        var intoBlock: Int
    }

    /// `true` for a TCP reset, `false` for a FIN.
    var reset: Bool
    /// The events of each connection, in order; the first is the dropped one.
    var connections: [[ServerSentEvent]] = []
    /// The `Last-Event-ID` each attempt sent; `nil` where it sent none.
    var sentLastEventIDs: [String?] = []
    /// Where the drop came; `nil` when it never did (too few events with ids).
    var cut: Cut?
    /// What ended the attempts after the drop, when no stream opened again.
    var failure: String?
    /// How long it ran.
    var observed: Duration = .zero
}

/// The resume checks: `resume.fin` and `resume.rst` against the uninterrupted stream, and
/// `resume.unknown-id`. Pure functions of the recordings.
enum ResumeChecks {
    /// The events after the resume needed for a verdict, when the stream is fast enough.
    static let eventsAfterResume = 10

    /// Judges a drop and its resume. `witness` is the uninterrupted stream's events; `hasIDs`
    /// whether that stream carried any.
    static func judge(_ recording: ResumeRecording, witness: [ServerSentEvent], hasIDs: Bool) -> VerifyCheck {
        let id = recording.reset ? "resume.rst" : "resume.fin"
        let drop = recording.reset ? "a TCP reset" : "a FIN"
        guard hasIDs else {
            return VerifyCheck(id, .skip, "the events carry no ids: there is nothing to resume from")
        }
        guard let cut = recording.cut else {
            return VerifyCheck(
                id, .skip,
                "fewer than 2 events with ids arrived in \(recording.observed.secondsDescription), so the connection "
                    + "was not dropped; a longer --duration gives it time")
        }
        let place =
            cut.intoBlock > 0
            ? "\(cut.intoBlock) byte\(cut.intoBlock == 1 ? "" : "s") into a block (body byte \(cut.bodyBytes))"
            : "between blocks (body byte \(cut.bodyBytes))"
        guard recording.connections.count >= 2, recording.sentLastEventIDs.count >= 2 else {
            let reason = recording.failure.map { ": \($0)" } ?? ""
            return VerifyCheck(
                id, .fail, "dropped the connection with \(drop) \(place); no stream opened again\(reason)",
                hint: "a request with Last-Event-ID must be answered like any other, with the events after it")
        }
        guard let lastID = recording.sentLastEventIDs[1], !lastID.isEmpty else {
            return VerifyCheck(id, .skip, "the reconnect after the drop sent no Last-Event-ID")
        }
        // An event without an id field carries the last one (WHATWG's lastEventId): compare
        // only the events that named their own.
        let witness = identified(witness)
        let before = identified(recording.connections[0])
        let after = recording.connections.dropFirst().flatMap(identified)
        let quotedID = StreamChecks.quoted(lastID)
        guard !after.isEmpty else {
            return VerifyCheck(
                id, .skip,
                "dropped with \(drop) \(place) and resumed with Last-Event-ID: \(lastID), but no event arrived after it"
            )
        }
        guard let cursor = witness.lastIndex(where: { $0.id == lastID }) else {
            return VerifyCheck(
                id, .skip,
                "resumed with Last-Event-ID: \(lastID), which the uninterrupted stream did not carry, so what "
                    + "follows cannot be compared (are ids different on every connection?)")
        }
        // The same events, ids and data, on both connections before the drop: otherwise the
        // content differs per client, and what follows cannot be compared either.
        if let differing = before.first(where: { event in witness.contains { $0.id == event.id && $0 != event } }) {
            return VerifyCheck(
                id, .skip,
                "event \(StreamChecks.quoted(differing.id)) had other data on the uninterrupted stream: the content "
                    + "differs per connection, so no replay can be compared")
        }
        let expected = Array(witness[(cursor + 1)...])
        let seenBefore = Set(before.map(\.id))
        // Repeated: an event delivered before the drop, or twice after it.
        var seenAfter = Set<String>()
        var repeated: [String] = []
        for event in after {
            if seenBefore.contains(event.id) || !seenAfter.insert(event.id).inserted { repeated.append(event.id) }
        }
        // Lost: what the uninterrupted stream had after the cursor, up to the last event that
        // arrived after the resume, that never arrived.
        let positions = after.compactMap { event in expected.firstIndex { $0.id == event.id } }
        let covered = positions.max().map { $0 + 1 } ?? 0
        let lost = expected[..<covered].map(\.id).filter { !seenAfter.contains($0) }
        let inOrder = zip(positions, positions.dropFirst()).allSatisfy { $0 < $1 }
        let changed = after.filter { event in expected.contains { $0.id == event.id && $0 != event } }.map(\.id)

        let story = "dropped the connection with \(drop) \(place); resumed with Last-Event-ID: \(lastID)"
        let hint =
            "replay exactly the events after the one named by Last-Event-ID, in order: not that one again, none "
            + "skipped"
        if let first = after.first, first.id == lastID {
            return VerifyCheck(
                id, .fail, story + "; the first event after it was \(quotedID) again (repeated)", hint: hint)
        }
        if let first = after.first, let start = before.first, first.id == start.id, first.id != lastID {
            return VerifyCheck(
                id, .fail,
                story + "; the server started again from the beginning (\(StreamChecks.quoted(first.id))): it ignored "
                    + "Last-Event-ID, and \(repeated.count) event\(repeated.count == 1 ? "" : "s") arrived again",
                hint: hint)
        }
        if !repeated.isEmpty {
            return VerifyCheck(
                id, .fail,
                story + "; \(repeated.count) event\(repeated.count == 1 ? "" : "s") arrived again (\(list(repeated)))",
                hint: hint)
        }
        if !lost.isEmpty {
            return VerifyCheck(
                id, .fail,
                story + "; \(lost.count) event\(lost.count == 1 ? " was" : "s were") lost (\(list(lost))), which the "
                    + "uninterrupted stream carried",
                hint: hint)
        }
        if !inOrder {
            return VerifyCheck(id, .fail, story + "; the events after it came out of order", hint: hint)
        }
        if covered == 0 {
            return VerifyCheck(
                id, .skip,
                story + "; none of the \(after.count) events after it was on the uninterrupted stream, so the "
                    + "replay cannot be compared")
        }
        let compared = "\(covered) event\(covered == 1 ? "" : "s") compared with the uninterrupted stream"
        if !changed.isEmpty {
            return VerifyCheck(
                id, .warn,
                story + "; \(compared), none lost or repeated, but \(list(changed)) differed in data or type",
                hint: "a replayed event should be the event that was sent")
        }
        return VerifyCheck(id, .pass, story + "; \(compared): none lost, none repeated, in order")
    }

    /// How a server answered a `Last-Event-ID` it never issued.
    enum UnknownIDAnswer: Sendable, Hashable {
        /// A response head: its status and media type.
        case answered(status: Int, mediaType: String?)
        /// No head within the time allowed.
        case noAnswer(after: Duration)
        /// The request failed: what happened.
        case failed(String)
    }

    static func unknownID(_ answer: UnknownIDAnswer?, sent id: String) -> VerifyCheck {
        let check = "resume.unknown-id"
        let asked = "Last-Event-ID: \(id)"
        let hint =
            "answer an id you do not know (older than your replay buffer, or from before a restart) with 200 and the "
            + "stream, from the oldest event kept or from now, so the client carries on"
        switch answer {
        case nil:
            return VerifyCheck(check, .skip, "not asked: the first request got no stream")
        case .answered(let status, let type)?:
            let shown = "\(status)\(type.map { ", \($0)" } ?? "")"
            if (200..<300).contains(status) {
                if status == 200, type != "text/event-stream" {
                    return VerifyCheck(check, .fail, "\(asked) was answered \(shown), not an event stream", hint: hint)
                }
                return VerifyCheck(check, .pass, "\(asked) was answered \(shown)")
            }
            if status >= 500 {
                return VerifyCheck(check, .fail, "\(asked) was answered \(shown): a server error", hint: hint)
            }
            return VerifyCheck(
                check, .warn, "\(asked) was answered \(shown): a client that resumes after a restart gives up here",
                hint: hint)
        case .noAnswer(let after)?:
            return VerifyCheck(check, .fail, "\(asked) got no answer in \(after.secondsDescription)", hint: hint)
        case .failed(let reason)?:
            return VerifyCheck(check, .fail, "\(asked) failed: \(reason)", hint: hint)
        }
    }

    /// The events whose id differs from the one before them on the same connection.
    static func identified(_ events: [ServerSentEvent]) -> [ServerSentEvent] {
        var previous = ""
        return events.filter { event in
            defer { previous = event.id }
            return !event.id.isEmpty && event.id != previous
        }
    }

    private static func list(_ ids: [String]) -> String {
        let shown = ids.prefix(5).map { StreamChecks.quoted($0) }.joined(separator: ", ")
        return ids.count > 5 ? shown + ", …" : shown
    }
}
