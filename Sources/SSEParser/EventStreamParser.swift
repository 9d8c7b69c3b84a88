#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An incremental decoder for `text/event-stream`, exactly as the WHATWG HTML standard's
/// "event stream interpretation" specifies it.
///
/// Feed it the bytes of a response body in chunks of any size, split anywhere (mid-line,
/// between a CR and its LF, inside a UTF-8 sequence); it reports every complete item in
/// order: ``EventStreamItem/event(_:)``, ``EventStreamItem/comment(_:)`` and
/// ``EventStreamItem/retry(_:)``. The result does not depend on where the chunks are split.
///
/// ```swift
/// var parser = EventStreamParser()
/// for chunk in chunks {
///     try parser.parse(chunk) { item in
///         if case .event(let event) = item { print(event.data) }
///     }
/// }
/// parser.finish()  // end of this connection: an unterminated event is discarded
/// ```
///
/// The rules it follows, from the standard:
/// - The stream is UTF-8; invalid sequences become U+FFFD. One U+FEFF byte order mark is
///   skipped at the start of a stream, and only there.
/// - Lines end with CRLF, LF or CR. A line starting with `:` is a comment. Otherwise the text
///   before the first `:` is the field name and the rest, minus one leading space, its value;
///   a line without `:` is a field name with an empty value. Names are case-sensitive and
///   unknown names are ignored.
/// - `data` appends its value and an LF to the data buffer; `event` sets the event type;
///   `id` sets the last event ID unless the value contains U+0000 (an empty value resets it);
///   `retry` sets the reconnection time when the value is ASCII digits only.
/// - A blank line dispatches: the last event ID takes effect, then, if the data buffer is not
///   empty, an event is dispatched with the buffer minus its final LF and the event type
///   (`message` when unset). Both buffers are cleared either way.
/// - At the end of a stream anything not yet dispatched is discarded, including an `id` seen
///   in an unterminated block. The last event ID that took effect is kept for the next
///   connection.
///
/// Memory is bounded by ``Configuration/maximumEventSize``: an event that grows past it,
/// including a single line that never ends, throws ``EventStreamError/eventTooLarge(limit:)``.
/// After an error the parser refuses input (throwing the same error) until ``finish()``.
public struct EventStreamParser: Sendable {
    /// The parser's limits.
    public let configuration: Configuration

    /// The last event ID in effect: set by an `id` field once its block ends with a blank line.
    ///
    /// This is what a client sends as `Last-Event-ID` when it reconnects. It can change without
    /// an event being dispatched (a block with an `id` but no `data`), so read it here rather
    /// than only from dispatched events.
    public private(set) var lastEventID: String

    /// Bytes of a line that began in an earlier chunk and has not ended yet.
    private var partialLine: [UInt8] = []
    /// The data buffer, as UTF-8: each `data` value followed by LF, from `dataStart` on.
    private var dataBuffer: [UInt8] = []
    /// Where the data begins in `dataBuffer`: a long line adopted as the buffer keeps its
    /// `data:` prefix in front rather than being copied.
    private var dataStart = 0
    /// The event type buffer, as UTF-8.
    private var eventTypeBuffer: [UInt8] = []
    /// The value of an `id` field seen in the current block, not yet in effect.
    private var eventIDBuffer: [UInt8] = []
    /// Whether the current block had an `id` field (`eventIDBuffer` holds its value).
    private var hasPendingEventID = false
    /// The previous chunk ended with CR, so an LF at the start of the next one is part of that line ending.
    private var skipsLineFeed = false
    /// How many bytes of a byte order mark have been matched at the start of the stream; `nil`
    /// once the start of the stream has been decided.
    private var byteOrderMarkBytesMatched: Int? = 0
    /// Whether a line of the current chunk could take the event past the limit; when not, the
    /// per-line checks are skipped (everything a chunk adds is bounded by its length).
    private var sizeChecksNeeded = true
    /// Set when the event size limit was exceeded; cleared by ``finish()``.
    private var failure: EventStreamError? = nil

    /// The UTF-8 of the last event type dispatched and its string, so a stream that repeats
    /// the same type does not decode it again for every event.
    private var cachedType: (bytes: [UInt8], string: String) = ([], ServerSentEvent.defaultType)

    /// Creates a parser at the start of a stream.
    ///
    /// - Parameters:
    ///   - configuration: Limits; ``Configuration/default`` unless given.
    ///   - lastEventID: The last event ID already in effect, for example one restored from an
    ///     earlier session. Empty by default.
    public init(configuration: Configuration = .default, lastEventID: String = "") {
        self.configuration = configuration
        self.lastEventID = lastEventID
        // Capacity for a typical line so the first few lines do not grow the buffers one by one.
        partialLine.reserveCapacity(256)
        dataBuffer.reserveCapacity(256)
    }

    /// Parses the next chunk of the stream, calling `onItem` for every item it completes, in order.
    ///
    /// - Parameters:
    ///   - bytes: The next bytes of the stream; any length, including zero.
    ///   - onItem: Called synchronously for each complete item. An error it throws stops
    ///     parsing and is rethrown; the rest of the chunk is then not parsed.
    /// - Throws: ``EventStreamError/eventTooLarge(limit:)`` when an event grows past the limit,
    ///   or what `onItem` throws.
    public mutating func parse(
        _ bytes: UnsafeRawBufferPointer,
        onItem: (EventStreamItem) throws -> Void
    ) throws {
        if let failure { throw failure }
        guard var start = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count

        if let matched = byteOrderMarkBytesMatched {
            let consumed = consumeByteOrderMark(start, count: remaining, alreadyMatched: matched)
            start += consumed
            remaining -= consumed
            if remaining == 0 { return }
        }
        if skipsLineFeed {
            skipsLineFeed = false
            if start.load(as: UInt8.self) == .lineFeed {
                start += 1
                remaining -= 1
                if remaining == 0 { return }
            }
        }

        if remaining == 1 {
            // A server writing a byte at a time: a byte that is not a line ending only extends
            // the current line, so skip the line machinery.
            let byte = start.load(as: UInt8.self)
            if byte != .lineFeed && byte != .carriageReturn {
                let eventSize = dataBuffer.count - dataStart + eventTypeBuffer.count + eventIDBuffer.count
                if eventSize + partialLine.count < configuration.maximumEventSize {
                    partialLine.append(byte)
                    return
                }
            }
        }
        do {
            try parseLines(start, count: remaining, onItem: onItem)
        } catch let error as EventStreamError {
            failure = error
            throw error
        }
    }

    /// Parses the next chunk of the stream and returns the items it completes, in order.
    ///
    /// - Parameter bytes: The next bytes of the stream: an array, a slice, a `String.UTF8View`
    ///   or any other sequence of bytes. Contiguous storage is read in place.
    /// - Throws: ``EventStreamError/eventTooLarge(limit:)`` when an event grows past the limit.
    public mutating func parse(_ bytes: some Sequence<UInt8>) throws -> [EventStreamItem] {
        var items: [EventStreamItem] = []
        try parse(bytes) { items.append($0) }
        return items
    }

    /// Parses the next chunk of the stream, calling `onItem` for every item it completes, in order.
    ///
    /// - Parameters:
    ///   - bytes: The next bytes of the stream. Contiguous storage is read in place; other
    ///     sequences are copied first.
    ///   - onItem: Called synchronously for each complete item.
    /// - Throws: ``EventStreamError/eventTooLarge(limit:)`` when an event grows past the limit,
    ///   or what `onItem` throws.
    public mutating func parse(
        _ bytes: some Sequence<UInt8>,
        onItem: (EventStreamItem) throws -> Void
    ) throws {
        let parsedInPlace: Void? = try bytes.withContiguousStorageIfAvailable { buffer in
            try parse(UnsafeRawBufferPointer(buffer), onItem: onItem)
        }
        if parsedInPlace == nil {
            let copy = Array(bytes)
            try copy.withUnsafeBytes { try parse($0, onItem: onItem) }
        }
    }

    /// Ends the current stream (the connection closed): discards any unterminated line and
    /// undispatched event, and prepares for a new stream.
    ///
    /// The standard says an event not ended by a blank line is never dispatched, and an `id`
    /// in such a block never takes effect. ``lastEventID`` keeps the last value that did, so
    /// the same parser can read the next connection's stream, starting with an optional byte
    /// order mark again. Clears a previous error.
    public mutating func finish() {
        Self.clear(&partialLine)
        Self.clear(&dataBuffer)
        dataStart = 0
        Self.clear(&eventTypeBuffer)
        Self.clear(&eventIDBuffer)
        hasPendingEventID = false
        skipsLineFeed = false
        byteOrderMarkBytesMatched = 0
        failure = nil
    }

    // MARK: - Lines

    /// Buffers grown past this by one large event are released after it, so a long-lived
    /// stream does not hold on to its largest event's memory.
    private static let retainedCapacity = 256 * 1024

    @inline(__always)
    private static func clear(_ buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: buffer.capacity <= retainedCapacity)
    }

    private mutating func parseLines(
        _ start: UnsafeRawPointer,
        count: Int,
        onItem: (EventStreamItem) throws -> Void
    ) throws {
        let bound =
            dataBuffer.count - dataStart + eventTypeBuffer.count + eventIDBuffer.count + partialLine.count + count
        sizeChecksNeeded = bound > configuration.maximumEventSize
        var lineStart = 0
        // Positions of the next LF and CR at or after `lineStart`, found with memchr and reused
        // until passed, so a stream that only uses one kind of line ending is still scanned once.
        var nextLineFeed = -1
        var nextCarriageReturn = -1
        // A single `data` value still in this chunk, not yet copied into `dataBuffer`: most events
        // are one line dispatched by the blank line right after it, and are decoded in place.
        var deferredData: UnsafeBufferPointer<UInt8>? = nil
        defer {
            if let deferredData { appendData(deferredData) }
        }

        while lineStart < count {
            if nextLineFeed < lineStart {
                // A blank line often follows: check the first byte before calling memchr.
                nextLineFeed =
                    start.load(fromByteOffset: lineStart, as: UInt8.self) == .lineFeed
                    ? lineStart : Self.find(.lineFeed, in: start, from: lineStart, to: count)
            }
            if nextCarriageReturn < lineStart {
                nextCarriageReturn = Self.find(.carriageReturn, in: start, from: lineStart, to: count)
            }
            let lineEnd = min(nextLineFeed, nextCarriageReturn)
            if lineEnd == count {
                try appendToPartialLine(start + lineStart, count: count - lineStart, deferredData: deferredData)
                return
            }

            if partialLine.isEmpty {
                let line = UnsafeBufferPointer(
                    start: (start + lineStart).assumingMemoryBound(to: UInt8.self),
                    count: lineEnd - lineStart
                )
                try processLine(line, deferredData: &deferredData, onItem: onItem)
            } else {
                try appendToPartialLine(start + lineStart, count: lineEnd - lineStart, deferredData: deferredData)
                try processPartialLine(deferredData: &deferredData, onItem: onItem)
            }

            lineStart = lineEnd + 1
            if lineEnd == nextCarriageReturn {
                if lineStart == count {
                    skipsLineFeed = true
                } else if start.load(fromByteOffset: lineStart, as: UInt8.self) == .lineFeed {
                    lineStart += 1
                }
            }
        }
    }

    /// Processes the completed line held in `partialLine`, then empties it.
    private mutating func processPartialLine(
        deferredData: inout UnsafeBufferPointer<UInt8>?,
        onItem: (EventStreamItem) throws -> Void
    ) throws {
        var line: [UInt8] = []
        swap(&line, &partialLine)
        defer {
            Self.clear(&line)
            swap(&line, &partialLine)
        }
        let field = line.withUnsafeBufferPointer { Self.field(of: $0) }
        if case .data(let value) = field, dataBuffer.count == dataStart, deferredData == nil {
            // A long data line (it spanned chunks): adopt its storage as the data buffer rather
            // than copying it; the emptied data buffer becomes the next partial line's storage.
            swap(&line, &dataBuffer)
            dataStart = value.lowerBound
            dataBuffer.append(.lineFeed)
            return
        }
        try line.withUnsafeBufferPointer { try processLine($0, deferredData: &deferredData, onItem: onItem) }
    }

    /// The offset of the first `byte` in `start[from..<to]`, or `to` when there is none.
    @inline(__always)
    private static func find(_ byte: UInt8, in start: UnsafeRawPointer, from: Int, to: Int) -> Int {
        // Tiny chunks (a server writing a byte at a time) cost less with a loop than a call.
        if to &- from < 16 {
            var index = from
            while index < to {
                if start.load(fromByteOffset: index, as: UInt8.self) == byte { return index }
                index &+= 1
            }
            return to
        }
        guard let found = memchr(start + from, Int32(byte), to - from) else { return to }
        return UnsafeRawPointer(found) - start
    }

    private mutating func appendToPartialLine(
        _ bytes: UnsafeRawPointer,
        count: Int,
        deferredData: UnsafeBufferPointer<UInt8>?
    ) throws {
        guard count > 0 else { return }
        try checkSize(adding: partialLine.count + count, deferredData: deferredData)
        if count == 1 {
            partialLine.append(bytes.load(as: UInt8.self))
        } else {
            partialLine.append(contentsOf: UnsafeRawBufferPointer(start: bytes, count: count))
        }
    }

    /// Throws when the event in progress plus `extra` bytes would exceed the limit.
    @inline(__always)
    private func checkSize(adding extra: Int, deferredData: UnsafeBufferPointer<UInt8>?) throws {
        var size = dataBuffer.count - dataStart + eventTypeBuffer.count + eventIDBuffer.count + extra
        if let deferredData { size += deferredData.count + 1 }
        if size > configuration.maximumEventSize {
            throw EventStreamError.eventTooLarge(limit: configuration.maximumEventSize)
        }
    }

    /// Consumes the start of a stream's byte order mark; returns how many bytes were consumed.
    private mutating func consumeByteOrderMark(
        _ start: UnsafeRawPointer,
        count: Int,
        alreadyMatched: Int
    ) -> Int {
        let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
        var matched = alreadyMatched
        var consumed = 0
        while matched < mark.count && consumed < count {
            guard start.load(fromByteOffset: consumed, as: UInt8.self) == mark[matched] else {
                // Not a byte order mark after all: the bytes held back are ordinary stream bytes.
                byteOrderMarkBytesMatched = nil
                partialLine.append(contentsOf: mark[0..<matched])
                return consumed
            }
            matched += 1
            consumed += 1
        }
        byteOrderMarkBytesMatched = matched == mark.count ? nil : matched
        return consumed
    }

    // MARK: - Fields

    /// What a line says, with value ranges as offsets into the line.
    private enum Field {
        case blank
        case comment(Range<Int>)
        case data(Range<Int>)
        case event(Range<Int>)
        case id(Range<Int>)
        case retry(Range<Int>)
        case ignored
    }

    @inline(__always)
    private static func field(of line: UnsafeBufferPointer<UInt8>) -> Field {
        let count = line.count
        guard count > 0, let bytes = line.baseAddress else { return .blank }
        if bytes[0] == .colon { return .comment(1..<count) }

        // Most lines are `data:`; recognise it with one load before looking for the colon.
        if count >= 5 && bytes[4] == .colon
            && UInt32(littleEndian: UnsafeRawPointer(bytes).loadUnaligned(as: UInt32.self)) == 0x6174_6164
        {
            let valueStart = count > 5 && bytes[5] == .space ? 6 : 5
            return .data(valueStart..<count)
        }
        // Field names are short: a plain loop finds the colon faster than a memchr call.
        var nameCount = 0
        while nameCount < count && bytes[nameCount] != .colon {
            nameCount &+= 1
        }
        var valueStart = nameCount + 1
        if valueStart < count && bytes[valueStart] == .space {
            valueStart += 1
        }
        let value = min(valueStart, count)..<count

        switch nameCount {
        case 4 where bytes[0] == 0x64 && bytes[1] == 0x61 && bytes[2] == 0x74 && bytes[3] == 0x61:
            return .data(value)
        case 5 where bytes[0] == 0x65 && bytes[1] == 0x76 && bytes[2] == 0x65 && bytes[3] == 0x6E && bytes[4] == 0x74:
            return .event(value)
        case 2 where bytes[0] == 0x69 && bytes[1] == 0x64:
            return .id(value)
        case 5 where bytes[0] == 0x72 && bytes[1] == 0x65 && bytes[2] == 0x74 && bytes[3] == 0x72 && bytes[4] == 0x79:
            return .retry(value)
        default:
            return .ignored  // Unknown fields are ignored.
        }
    }

    private mutating func processLine(
        _ line: UnsafeBufferPointer<UInt8>,
        deferredData: inout UnsafeBufferPointer<UInt8>?,
        onItem: (EventStreamItem) throws -> Void
    ) throws {
        // The whole line counts, as it does while it is still arriving (see appendToPartialLine),
        // so the same stream fails at the same line however it is chunked.
        if sizeChecksNeeded {
            try checkSize(adding: line.count, deferredData: deferredData)
        }
        switch Self.field(of: line) {
        case .blank:
            try dispatch(deferredData: &deferredData, onItem: onItem)
        case .comment(let text):
            try onItem(.comment(Self.decode(UnsafeBufferPointer(rebasing: line[text]))))
        case .data(let value):
            let value = UnsafeBufferPointer(rebasing: line[value])
            if dataBuffer.count == dataStart && deferredData == nil {
                deferredData = value
            } else {
                if let deferred = deferredData {
                    appendData(deferred)
                    deferredData = nil
                }
                appendData(value)
            }
        case .event(let value):
            eventTypeBuffer.removeAll(keepingCapacity: true)
            eventTypeBuffer.append(contentsOf: UnsafeBufferPointer(rebasing: line[value]))
        case .id(let value):
            let value = UnsafeBufferPointer(rebasing: line[value])
            if value.isEmpty || memchr(value.baseAddress!, 0, value.count) == nil {
                eventIDBuffer.removeAll(keepingCapacity: true)
                eventIDBuffer.append(contentsOf: value)
                hasPendingEventID = true
            }
        case .retry(let value):
            if let milliseconds = Self.parseDigits(UnsafeBufferPointer(rebasing: line[value])) {
                try onItem(.retry(.milliseconds(milliseconds)))
            }
        case .ignored:
            break
        }
    }

    @inline(__always)
    private mutating func appendData(_ value: UnsafeBufferPointer<UInt8>) {
        dataBuffer.append(contentsOf: value)
        dataBuffer.append(.lineFeed)
    }

    private mutating func dispatch(
        deferredData: inout UnsafeBufferPointer<UInt8>?,
        onItem: (EventStreamItem) throws -> Void
    ) throws {
        if hasPendingEventID {
            hasPendingEventID = false
            let changed = eventIDBuffer.withUnsafeBufferPointer { id in
                var lastEventID = lastEventID
                return lastEventID.withUTF8 { current in
                    current.count != id.count
                        || (id.count > 0 && memcmp(current.baseAddress!, id.baseAddress!, id.count) != 0)
                }
            }
            if changed {
                lastEventID = eventIDBuffer.withUnsafeBufferPointer(Self.decode)
            }
            eventIDBuffer.removeAll(keepingCapacity: true)
        }

        let data: String
        if let deferred = deferredData {
            data = Self.decode(deferred)
            deferredData = nil
        } else if dataBuffer.count > dataStart {
            data = dataBuffer.withUnsafeBufferPointer {
                Self.decode(UnsafeBufferPointer(rebasing: $0[dataStart..<($0.count - 1)]))
            }
            Self.clear(&dataBuffer)
            dataStart = 0
        } else {
            eventTypeBuffer.removeAll(keepingCapacity: true)
            return
        }

        let type: String
        if eventTypeBuffer.isEmpty {
            type = ServerSentEvent.defaultType
        } else {
            if eventTypeBuffer != cachedType.bytes {
                cachedType = (eventTypeBuffer, eventTypeBuffer.withUnsafeBufferPointer(Self.decode))
            }
            type = cachedType.string
            eventTypeBuffer.removeAll(keepingCapacity: true)
        }
        try onItem(.event(ServerSentEvent(validatedID: lastEventID, type: type, data: data)))
    }

    /// Decodes UTF-8, replacing invalid sequences with U+FFFD as the standard's decoder does.
    @inline(__always)
    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        UTF8Decoding.string(from: bytes)
    }

    /// The value of a non-empty run of ASCII digits, saturating at `Int64.max`; `nil` otherwise.
    private static func parseDigits(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard !bytes.isEmpty else { return nil }
        var value: Int64 = 0
        for byte in bytes {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(byte - 0x30))
            value = overflow1 || overflow2 ? Int64.max : sum
        }
        return value
    }
}

extension UInt8 {
    fileprivate static let lineFeed: UInt8 = 0x0A
    fileprivate static let carriageReturn: UInt8 = 0x0D
    fileprivate static let colon: UInt8 = 0x3A
    fileprivate static let space: UInt8 = 0x20
}
