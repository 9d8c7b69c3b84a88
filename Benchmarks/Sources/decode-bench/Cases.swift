import BenchSupport
import Foundation
import SSEClient
import SSEParser

/// What every case reads, prepared before anything is timed.
struct Inputs: Sendable {
    /// The whole stream.
    let bytes: [UInt8]
    /// The chunk boundaries in `bytes`, `chunkSize` bytes each (the last may be shorter).
    let chunkRanges: [Range<Int>]
    /// The same chunks as `ArraySlice`s of `bytes`, for the asynchronous cases.
    let chunks: PreSlicedChunks
    /// Each event's data before `[DONE]`, as the generator wrote it.
    let payloads: [String]
    /// The same, already copied into `Data`.
    let payloadData: [Data]
    /// The one decoder every case uses.
    let decoder: JSONDecoder
    /// `blast.c` serving the stream on loopback, when measured.
    let loopbackURL: String?

    init(corpus: ChatCompletionCorpus, chunkSize: Int, loopbackURL: String?) {
        let bytes = corpus.bytes
        let ranges = stride(from: 0, to: bytes.count, by: chunkSize).map { $0..<min($0 + chunkSize, bytes.count) }
        self.bytes = bytes
        chunkRanges = ranges
        chunks = PreSlicedChunks(chunks: ranges.map { bytes[$0] })
        payloads = corpus.payloads
        payloadData = corpus.payloads.map { Data($0.utf8) }
        decoder = JSONDecoder()
        self.loopbackURL = loopbackURL
    }
}

/// One measured case. The decoding cases tally each `Chunk`'s content bytes; the parse-only
/// and copy-only ones tally the events and their data bytes instead.
enum Case: String, CaseIterable, Sendable {
    case oursSync = "ours, sync"
    case oursAsync = "ours, async"
    case peer = "swift-openapi-runtime"
    case oursLoopback = "ours, EventSource on loopback"
    case parseSync = "parse only: ours, sync"
    case parseAsync = "parse only: ours, async"
    case parsePeer = "parse only: swift-openapi-runtime"
    case parseLoopback = "parse only: EventSource on loopback"
    case copyOnly = "Data copy only"
    case decodeStrings = "Data copy + JSONDecoder"
    case decodeData = "JSONDecoder only"

    /// The case's name on the command line (`--cases`).
    var argument: String {
        switch self {
        case .oursSync: "ours-sync"
        case .oursAsync: "ours-async"
        case .peer: "peer"
        case .oursLoopback: "loopback"
        case .parseSync: "parse-sync"
        case .parseAsync: "parse-async"
        case .parsePeer: "parse-peer"
        case .parseLoopback: "parse-loopback"
        case .copyOnly: "copy"
        case .decodeStrings: "copy-json"
        case .decodeData: "json"
        }
    }

    /// The order the cases run in a round (reversed every other round): each of ours next to the
    /// peer or to the JSONDecoder baseline, the cases the report divides by each other.
    static let measurementOrder: [Case] = [
        .oursAsync, .peer, .oursSync, .decodeData, .oursLoopback, .decodeStrings, .copyOnly, .parseAsync,
        .parsePeer, .parseSync, .parseLoopback,
    ]

    /// Whether the case decodes every chunk into a `Chunk` (else it counts data bytes).
    var decodes: Bool {
        switch self {
        case .oursSync, .oursAsync, .peer, .oursLoopback, .decodeStrings, .decodeData: true
        case .parseSync, .parseAsync, .parsePeer, .parseLoopback, .copyOnly: false
        }
    }

    /// The peer's case doing the same work, for the ratio column: its full decoding for ours,
    /// its parser alone for our parse-only cases; `nil` for the baselines.
    var peerCounterpart: Case? {
        switch self {
        case .oursSync, .oursAsync, .oursLoopback, .peer: .peer
        case .parseSync, .parseAsync, .parseLoopback, .parsePeer: .parsePeer
        case .copyOnly, .decodeStrings, .decodeData: nil
        }
    }

    /// Whether the case needs the loopback server.
    var usesLoopback: Bool { self == .oursLoopback || self == .parseLoopback }

    /// What is timed, for the report.
    var summary: String {
        switch self {
        case .oursSync:
            "`EventStreamParser.parse(_:onItem:)` on each chunk in place, `event.decodeData(as:using:)` per event"
        case .oursAsync:
            "`chunks.serverSentEvents()`, `event.decodeData(as:using:)` per event"
        case .peer:
            "`chunks.asDecodedServerSentEventsWithJSONData(of:decoder:while:)`"
        case .oursLoopback:
            "`EventSource(url:).events.decoded(as:using:)`, `terminator: .data(\"[DONE]\")`, from `blast.c`"
        case .parseSync: "as *ours, sync*, counting `event.data.utf8` instead of decoding"
        case .parseAsync: "as *ours, async*, counting `event.data.utf8` instead of decoding"
        case .parsePeer: "`chunks.asDecodedServerSentEvents(while:)`, counting `event.data?.utf8`"
        case .parseLoopback: "`EventSource(url:).events`, counting `event.data.utf8`"
        case .copyOnly: "`Data(payload.utf8)` for each pre-split data string"
        case .decodeStrings: "`decoder.decode(Chunk.self, from: Data(payload.utf8))` on each pre-split data string"
        case .decodeData: "`decoder.decode(Chunk.self, from: data)` on each pre-made `Data`"
        }
    }

    /// Runs the case once.
    ///
    /// `nonisolated` and `async`, so every case, synchronous or not, runs on the global executor
    /// and the asynchronous iterators' `next()` calls do not hop between executors.
    func run(_ inputs: Inputs) async throws -> Tally {
        switch self {
        case .oursSync:
            try Self.parse(inputs) { event, tally in
                tally.add(try event.decodeData(as: Chunk.self, using: inputs.decoder))
            }
        case .parseSync:
            try Self.parse(inputs) { event, tally in tally.count(event.data) }
        case .oursAsync:
            try await Self.parseAsync(inputs) { event, tally in
                tally.add(try event.decodeData(as: Chunk.self, using: inputs.decoder))
            }
        case .parseAsync:
            try await Self.parseAsync(inputs) { event, tally in tally.count(event.data) }
        case .peer: try await Self.peer(inputs)
        case .parsePeer: try await Self.peerParse(inputs)
        case .oursLoopback, .parseLoopback: try await Self.loopback(inputs, decoding: self == .oursLoopback)
        case .copyOnly:
            inputs.payloads.reduce(into: Tally()) { tally, payload in
                tally.events += 1
                tally.bytes += Data(payload.utf8).count
            }
        case .decodeStrings:
            try inputs.payloads.reduce(into: Tally()) { tally, payload in
                tally.add(try inputs.decoder.decode(Chunk.self, from: Data(payload.utf8)))
            }
        case .decodeData:
            try inputs.payloadData.reduce(into: Tally()) { tally, data in
                tally.add(try inputs.decoder.decode(Chunk.self, from: data))
            }
        }
    }

    /// Our parser fed each chunk in place, `onEvent` called for every event before `[DONE]`.
    static func parse(
        _ inputs: Inputs,
        onEvent: (ServerSentEvent, inout Tally) throws -> Void
    ) throws -> Tally {
        var parser = EventStreamParser()
        var tally = Tally()
        var isDone = false
        try inputs.bytes.withUnsafeBytes { bytes in
            for range in inputs.chunkRanges where !isDone {
                try parser.parse(UnsafeRawBufferPointer(rebasing: bytes[range])) { item in
                    guard case .event(let event) = item, !isDone else { return }
                    if event.data == ChatCompletionCorpus.terminator {
                        isDone = true
                    } else {
                        try onEvent(event, &tally)
                    }
                }
            }
        }
        parser.finish()
        return tally
    }

    /// Our asynchronous sequence over the chunk sequence the peer reads, up to `[DONE]`.
    private static func parseAsync(
        _ inputs: Inputs,
        onEvent: (ServerSentEvent, inout Tally) throws -> Void
    ) async throws -> Tally {
        var tally = Tally()
        for try await event in inputs.chunks.serverSentEvents() {
            if event.data == ChatCompletionCorpus.terminator { break }
            try onEvent(event, &tally)
        }
        return tally
    }

    /// The whole client: a new `EventSource` per run, its stream served by `blast.c`, ended by
    /// its terminator (and not reconnected, so a failure shows instead of being retried).
    private static func loopback(_ inputs: Inputs, decoding: Bool) async throws -> Tally {
        guard let url = inputs.loopbackURL else { throw BenchmarkError("no loopback server") }
        var configuration = EventSource.Configuration(reconnect: .disabled, endOfStream: .finish)
        configuration.terminator = .data(ChatCompletionCorpus.terminator)
        let source = EventSource(url: url, configuration: configuration)
        var tally = Tally()
        if decoding {
            for try await chunk in source.events.decoded(as: Chunk.self, using: inputs.decoder) {
                tally.add(chunk)
            }
        } else {
            for try await event in source.events {
                tally.count(event.data)
            }
        }
        return tally
    }
}

/// The stream as chunks sliced before timing starts, handed out one per `next()` without
/// suspending: the least a byte source can cost (an `AsyncStream` would add its own locking and
/// buffering). Both asynchronous parsers read this same sequence.
struct PreSlicedChunks: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>
    typealias Failure = Never

    let chunks: [ArraySlice<UInt8>]

    func makeAsyncIterator() -> Iterator {
        Iterator(chunks: chunks)
    }

    struct Iterator: AsyncIteratorProtocol {
        let chunks: [ArraySlice<UInt8>]
        var index = 0

        mutating func next() async -> ArraySlice<UInt8>? {
            guard index < chunks.count else { return nil }
            defer { index += 1 }
            return chunks[index]
        }
    }
}
