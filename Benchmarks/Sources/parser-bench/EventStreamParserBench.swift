import SSEParser

/// Our parser, fed the corpus in fixed-size chunks straight from memory.
enum EventStreamParserBench {
    /// Parses `bytes` in `chunkSize`-byte chunks and counts the dispatched events.
    ///
    /// Each event is built (its `ServerSentEvent`, strings included) and handed to the callback,
    /// as a client would receive it; only the counting is the benchmark's own.
    static func countEvents(in bytes: UnsafeRawBufferPointer, chunkSize: Int) throws -> Int {
        var parser = EventStreamParser()
        var count = 0
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunkSize, bytes.count)
            try parser.parse(UnsafeRawBufferPointer(rebasing: bytes[offset..<end])) { item in
                if case .event = item { count += 1 }
            }
            offset = end
        }
        parser.finish()
        return count
    }
}
