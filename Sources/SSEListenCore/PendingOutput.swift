/// Output waiting for ``OutputWriter``'s queue, as an ordered list of segments: bytes for standard
/// output, bytes for standard error, and "save this event ID to the state file here".
///
/// Neighbours merge: bytes for the same stream become one segment (one `write(2)`), and of two
/// saves only the later ID is kept. A save never moves past bytes: the state file must record an
/// event's ID only after that event's output is written, so that a process killed at any moment
/// loses nothing and prints at most one event again. With a state file every printed event is
/// therefore its own segment; without one, a burst of events becomes one segment.
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

    /// The number of bytes in all segments.
    private(set) var byteCount = 0

    /// Whether there is nothing to write and nothing to save.
    var isEmpty: Bool { closed.isEmpty && openBytes.isEmpty }

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

    /// Asks for `id` to be saved after the bytes so far; replaces the ID of a save right before it.
    mutating func save(_ id: String) {
        closeBytes()
        if case .save = closed.last {
            closed[closed.count - 1] = .save(id)
        } else {
            closed.append(.save(id))
        }
    }

    /// Returns the segments in order and leaves this empty.
    mutating func take() -> [Segment] {
        closeBytes()
        defer { self = PendingOutput() }
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
