/// Output waiting for ``OutputWriter``'s queue, as an ordered list of segments: bytes for standard
/// output, bytes for standard error, and "save this event ID to the state file here".
///
/// Neighbours merge: bytes for the same stream become one segment (one `write(2)`). A batch saves
/// at most one ID, the latest asked for, after all of its output: the state file records an
/// event's ID only once that event's output is written, so a process killed at any moment loses
/// nothing, and prints again at most the events of the batch it was writing (one event at
/// ordinary rates, when every event is written as it comes; more in a flood, where one save per
/// event would cost a file rename per event).
struct PendingOutput: Sendable {
    /// One step of the output.
    enum Segment: Sendable, Hashable {
        /// Consecutive bytes for one stream; never empty.
        case bytes(OutputWriter.Stream, [UInt8])
        /// Save this event ID to the state file.
        case save(String)
    }

    /// Every segment before the open run of bytes.
    private var closed: [Segment] = []
    /// The stream of the run of bytes still being appended to, if any.
    private var openStream: OutputWriter.Stream?
    /// The bytes of that run, kept out of `closed` so that appending never copies them.
    private var openBytes: [UInt8] = []
    /// The ID to save once everything in this batch is written.
    private var pendingSave: String?

    /// The number of bytes in all segments.
    private(set) var byteCount = 0

    /// Whether there is nothing to write and nothing to save.
    var isEmpty: Bool { closed.isEmpty && openBytes.isEmpty && pendingSave == nil }

    /// Lets `body` append bytes for `stream` directly to the last segment when it holds bytes for
    /// `stream`, or else to a new one. `body` must only append.
    mutating func append<E: Error>(to stream: OutputWriter.Stream, _ body: (inout [UInt8]) throws(E) -> Void) throws(E)
    {
        if openStream != stream {
            closeBytes()
            openStream = stream
        }
        let countBefore = openBytes.count
        defer {
            byteCount += openBytes.count - countBefore
            if openBytes.isEmpty { reopenLastBytes() }
        }
        try body(&openBytes)
    }

    /// Appends `bytes` for `stream`.
    mutating func append(_ bytes: some Sequence<UInt8>, to stream: OutputWriter.Stream) {
        append(to: stream) { $0.append(contentsOf: bytes) }
    }

    /// Asks for `id` to be saved after the bytes so far: it is saved after the whole batch,
    /// replacing any ID asked for before in the same batch.
    mutating func save(_ id: String) {
        pendingSave = id
    }

    /// Returns the segments in order, the save (if any) last, and leaves this empty.
    mutating func take() -> [Segment] {
        closeBytes()
        defer { self = PendingOutput() }
        if let pendingSave { closed.append(.save(pendingSave)) }
        return closed
    }

    /// After an append of nothing: appends go on to the last segment again if it holds bytes, so
    /// that two segments in a row are never for the same stream.
    private mutating func reopenLastBytes() {
        openStream = nil
        guard case .bytes(let stream, let bytes)? = closed.last else { return }
        closed.removeLast()
        openStream = stream
        openBytes = bytes
    }

    private mutating func closeBytes() {
        if let openStream, !openBytes.isEmpty {
            closed.append(.bytes(openStream, openBytes))
            openBytes = []
        }
        openStream = nil
    }
}
