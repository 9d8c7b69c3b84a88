import OpenAPIRuntime

/// apple/swift-openapi-runtime's SSE decoder, `asDecodedServerSentEvents()`, fed the corpus as an
/// `AsyncSequence` of `ArraySlice<UInt8>` chunks.
enum OpenAPIRuntimeBench {
    /// What the decoder produced.
    struct Count: Sendable, Equatable {
        /// Everything the decoder emitted. It emits an event for every blank line, so a block with
        /// no `data` (a heartbeat comment and its blank line) counts here too.
        var emitted = 0
        /// The emitted events that carry data: what the WHATWG standard dispatches.
        var withData = 0
    }

    /// How a measurement ended.
    enum Outcome: Sendable {
        /// Measured `timing.runs` times after a warm-up.
        case measured(Timing, Count)
        /// The warm-up did not finish within the budget.
        case abandoned(afterSeconds: Double, Count)
    }

    /// Decodes the chunks once to warm up, then `runs` times under the clocks.
    ///
    /// The warm-up is abandoned once it has taken `budget` seconds; when it finishes but is slow,
    /// the measured runs are cut so that they also take about `budget` seconds, and at least one.
    ///
    /// This function is `nonisolated` and `async`, so it runs on the global executor and the
    /// decoder's own `nonisolated` `next()` calls do not hop between executors.
    static func measure(chunks: [ArraySlice<UInt8>], runs: Int, budget: Double) async throws -> Outcome {
        let source = PreSlicedChunks(chunks: chunks)
        let warmUpStart = Clock.wall()
        let (warmUp, finished) = try await decode(source, deadline: warmUpStart + budget)
        let warmUpSeconds = Clock.wall() - warmUpStart
        guard finished else { return .abandoned(afterSeconds: warmUpSeconds, warmUp) }
        let affordableRuns = max(1, min(runs, Int(budget / max(warmUpSeconds, 1e-9))))
        var wall: [Double] = []
        var cpu: [Double] = []
        for _ in 0..<affordableRuns {
            let wallStart = Clock.wall()
            let cpuStart = Clock.cpu()
            let (count, _) = try await decode(source, deadline: nil)
            cpu.append(Clock.cpu() - cpuStart)
            wall.append(Clock.wall() - wallStart)
            guard count == warmUp else {
                throw BenchmarkError("swift-openapi-runtime gave \(warmUp) and then \(count) on the same input")
            }
        }
        return .measured(Timing(wall: wall, cpu: cpu), warmUp)
    }

    /// Decodes the whole sequence, or stops at `deadline` (checked after each event; only the
    /// warm-up sets one, so the measured runs do not read the clock).
    private static func decode(
        _ source: PreSlicedChunks,
        deadline: Double?
    ) async throws -> (Count, finished: Bool) {
        var count = Count()
        for try await event in source.asDecodedServerSentEvents() {
            count.emitted += 1
            if event.data != nil { count.withData += 1 }
            if let deadline, Clock.wall() > deadline { return (count, false) }
        }
        return (count, true)
    }
}

/// The corpus as chunks sliced before timing starts, handed out one per `next()` without
/// suspending: the least a byte source can cost, unlike `AsyncStream`, whose buffering and
/// locking would be measured along with the decoder.
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
