import BenchSupport

/// The Markdown report: every case's throughput, ours against the peer, where the time goes,
/// and the checks.
struct Report {
    let options: Options
    let corpus: ChatCompletionCorpus
    let chunkCount: Int
    let cases: [Case]
    /// Wall seconds per case, one per round; the same index is the same round in every case.
    let wall: [Case: [Double]]
    /// Process CPU seconds per case, one per round.
    let cpu: [Case: [Double]]
    let tallies: [Case: Tally]
    /// The 1-minute load average at the start and at the end.
    let loads: (start: String, end: String)

    /// One sentence per disagreement; empty when every case found what the generator wrote.
    var mismatches: [String] {
        var found: [String] = []
        for measured in cases {
            let expected = measured.decodes ? corpus.expectedDecoded : corpus.expectedParsed
            guard let tally = tallies[measured], tally != expected else { continue }
            found.append(
                "\(measured.rawValue) found \(describe(tally, measured)), the generator wrote \(describe(expected, measured))"
            )
        }
        for ours in [Case.oursSync, .oursAsync, .oursLoopback] {
            guard let tally = tallies[ours], let peer = tallies[.peer], tally != peer else { continue }
            found.append(
                "\(ours.rawValue) decoded \(describe(tally, ours)), swift-openapi-runtime \(describe(peer, .peer))")
        }
        return found
    }

    var text: String {
        var out = "## decode-bench: typed decoding of an OpenAI chat-completion stream\n\n"
        out += corpusParagraph + "\n\n"
        out += casesTable + "\n"
        out += versusPeer + "\n"
        out += timeSplit + "\n"
        out += checks
        return out
    }

    // MARK: - Sections

    private var corpusParagraph: String {
        let bytes = corpus.bytes.count
        let escaped = corpus.payloads.count(where: { $0.utf8.contains(UInt8(ascii: "\\")) })
        let nonASCII = corpus.payloads.count(where: { $0.utf8.contains { $0 >= 0x80 } })
        let events = corpus.payloads.count
        return """
            Corpus: one completion of \(grouped(events)) chunks (a role chunk, \(grouped(options.tokenCount)) \
            token chunks, a `finish_reason: "stop"` chunk) and `data: [DONE]`, generated in memory with seed \
            \(options.seed): \(fixed(Double(bytes) / 1e6, 2)) MB (\(grouped(bytes)) bytes, \
            \(fixed(Double(bytes) / Double(events + 1), 0)) bytes per event); \
            \(grouped(corpus.expectedDecoded.bytes)) bytes of token content; \(grouped(escaped)) events with a JSON \
            escape, \(grouped(nonASCII)) with raw non-ASCII text. Fed in \(sizeLabel(options.chunkSize)) chunks \
            (\(grouped(chunkCount)) of them). One `JSONDecoder()` and one `Chunk: Decodable` for every case. \
            Median of \(options.runs) rounds after one warm-up round; every round runs every case once, in an \
            order reversed every other round. MB = 10^6 bytes of the stream, for every row (the baselines too), so the \
            rows compare directly; events/s counts the \(grouped(events)) chunks. Load average \(loads.start) at \
            the start, \(loads.end) at the end.
            """
    }

    private var casesTable: String {
        var table = MarkdownTable([
            "case", "what is timed", "events/s", "MB/s", "ns/event", "wall ms", "fastest – slowest", "CPU ms",
            "vs the peer's same work",
        ])
        let events = Double(corpus.payloads.count)
        for measured in cases {
            guard let samples = wall[measured], let cpuSamples = cpu[measured] else { continue }
            let seconds = median(samples)
            let versus = measured.peerCounterpart.flatMap { paired($0, over: measured) }.map { times($0.median) }
            let name =
                measured.decodes && measured != .decodeStrings && measured != .decodeData
                ? "**\(measured.rawValue)**" : measured.rawValue
            table.add([
                name, measured.summary, grouped(Int(events / seconds)),
                fixed(Double(corpus.bytes.count) / 1e6 / seconds, 1), fixed(seconds / events * 1e9, 0),
                fixed(seconds * 1000, 1), "\(fixed(samples.min()! * 1000, 0)) – \(fixed(samples.max()! * 1000, 0))",
                fixed(median(cpuSamples) * 1000, 1), versus ?? "–",
            ])
        }
        return table.text + "\n"
            + "*vs the peer's same work*: the median over the rounds of the peer's time over the case's in the "
            + "same round (the full decoding for ours, the parser alone for the parse-only rows); above 1x, "
            + "ours is faster.\n"
    }

    private var versusPeer: String {
        var lines = ["Ours against swift-openapi-runtime (its time over ours, paired round by round):", ""]
        for ours in [Case.oursAsync, .oursSync, .oursLoopback] {
            guard let onWall = paired(.peer, over: ours), let onCPU = paired(.peer, over: ours, cpu: true) else {
                continue
            }
            lines.append(
                "- \(ours.rawValue): \(times(onWall.median)) on wall time (rounds \(times(onWall.lowest)) – "
                    + "\(times(onWall.highest))), \(times(onCPU.median)) on CPU time")
        }
        if let json = wall[.decodeData].map(median), let copy = wall[.copyOnly].map(median),
            let peerParse = wall[.parsePeer].map(median)
        {
            // JSONDecoder's speed wanders from one second to the next on a shared machine, so the
            // full paths' ratio is noisy; built from the parts, the estimate is steadier.
            let events = Double(corpus.payloads.count)
            let peer = peerParse + copy + json
            var estimates: [String] = []
            for (ours, parse) in [(Case.oursAsync, Case.parseAsync), (.oursSync, .parseSync)] {
                guard let parsing = wall[parse].map(median) else { continue }
                estimates.append(
                    "\(ours.rawValue) \(fixed((parsing + copy + json) / events * 1e6, 2)) µs, "
                        + "\(times(peer / (parsing + copy + json)))")
            }
            if !estimates.isEmpty {
                lines.append(
                    "- built from the parts instead (parse only + Data copy + JSONDecoder, medians), steadier: "
                        + "the peer \(fixed(peer / events * 1e6, 2)) µs per event; "
                        + estimates.joined(separator: "; "))
            }
        }
        lines.append(
            "- *ours, async* and the peer read the same `PreSlicedChunks`, an `AsyncSequence` handing out the "
                + "pre-sliced `ArraySlice<UInt8>` chunks one per `next()` without suspending, and both run in a "
                + "`nonisolated` async function; *ours, sync* parses the same byte ranges in place, with no "
                + "`AsyncSequence`. The loopback case adds the whole client (libcurl, its I/O thread, the socket) "
                + "and a new connection per run; `blast.c` runs as another process and its CPU time is not counted."
        )
        return lines.joined(separator: "\n") + "\n"
    }

    /// The parts of each full path: parsing (its parse-only case) and the copy into `Data`, both
    /// small and steady, and the rest of the path, which is `JSONDecoder` and what comes with it
    /// (the `Chunk`s' lifetimes); each as the median over the rounds of its share of the path in
    /// the same round. `JSONDecoder` alone, measured apart, is shown for comparison: its speed
    /// wanders too much on a shared machine to be subtracted from a path measured seconds away.
    private var timeSplit: String {
        let paths: [(full: Case, parse: Case)] = [
            (.oursSync, .parseSync), (.oursAsync, .parseAsync), (.peer, .parsePeer), (.oursLoopback, .parseLoopback),
        ].filter { wall[$0.full] != nil && wall[$0.parse] != nil }
        guard let copy = wall[.copyOnly], !paths.isEmpty else { return "" }
        var table = MarkdownTable(["part: median ms (median share of the path)"] + paths.map { $0.full.rawValue })
        func cell(_ part: [Double], _ whole: Case) -> String {
            let shares = zip(part, wall[whole]!).map { $0 / $1 }
            return "\(fixed(median(part) * 1000, 1)) (\(fixed(median(shares) * 100, 0)) %)"
        }
        func decoding(_ path: (full: Case, parse: Case)) -> [Double] {
            (0..<copy.count).map { round in wall[path.full]![round] - wall[path.parse]![round] - copy[round] }
        }
        table.add(["parsing, events built (*parse only* rows)"] + paths.map { cell(wall[$0.parse]!, $0.full) })
        table.add(["`Data(event.data.utf8)` (*Data copy only*)"] + paths.map { cell(copy, $0.full) })
        table.add(["`JSONDecoder` and the rest (the path less the two)"] + paths.map { cell(decoding($0), $0.full) })
        table.add(["the whole path"] + paths.map { cell(wall[$0.full]!, $0.full) })
        if let json = wall[.decodeData] {
            table.add(["for comparison: *JSONDecoder only*, measured apart"] + paths.map { cell(json, $0.full) })
        }

        var out = "Where the time goes: each full path split into its parts, share by share in the same round.\n\n"
        out += table.text + "\n"
        out +=
            "Parsing and the copy are small and steady (see their fastest – slowest spreads), so the rest of "
            + "each path is its JSON decoding. *JSONDecoder only* decodes the same `Data` on its own; it wanders "
            + "by as much as the full paths do from one round to the next (on our shared 2-core machines its "
            + "speed per call was seen to move between about 9 and 17 µs within seconds, while an integer loop's "
            + "did not), so "
            + "its share of a path measured seconds away can come out above 100 %.\n\n"
        if let both = wall[.decodeStrings], let json = wall[.decodeData] {
            out +=
                "*Data copy + JSONDecoder* took \(fixed(median(both) * 1000, 1)) ms against "
                + "\(fixed((median(copy) + median(json)) * 1000, 1)) ms for its two parts measured apart.\n"
        }
        func share(_ part: (Int) -> Double, of whole: Case) -> String? {
            guard let samples = wall[whole] else { return nil }
            return fixed(median(samples.indices.map { part($0) / samples[$0] }) * 100, 0) + " %"
        }
        if let oursParse = wall[.parseAsync], let peerParse = wall[.parsePeer], wall[.oursAsync] != nil,
            let oursJSON = share({ wall[.oursAsync]![$0] - oursParse[$0] - copy[$0] }, of: .oursAsync),
            let peerJSON = share({ wall[.peer]![$0] - peerParse[$0] - copy[$0] }, of: .peer),
            let oursParsing = share({ oursParse[$0] }, of: .oursAsync),
            let peerParsing = share({ peerParse[$0] }, of: .peer),
            let oursCopy = share({ copy[$0] }, of: .oursAsync), let peerCopy = share({ copy[$0] }, of: .peer)
        {
            out += "\nIn short: JSON decoding is \(oursJSON) of *ours, async* and \(peerJSON) of "
            out += "swift-openapi-runtime's time; parsing is \(oursParsing) of ours and \(peerParsing) of the "
            out += "peer's, the `Data` copy \(oursCopy) and \(peerCopy).\n"
        }
        return out
    }

    private var checks: String {
        var lines = ["Checks:", ""]
        lines.append(
            "- the generator wrote \(describe(corpus.expectedDecoded, .decodeData)) "
                + "(\(describe(corpus.expectedParsed, .parseSync)))")
        let problems = mismatches
        if problems.isEmpty {
            lines.append(
                "- every decoding case decoded exactly that, ours and swift-openapi-runtime alike, and every other "
                    + "case counted exactly those events and data bytes: PASS")
        } else {
            lines.append("")
            lines.append("### MISMATCH")
            lines.append("")
            lines.append(contentsOf: problems.map { "- \($0)" })
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: - Figures and formatting

    /// `numerator`'s time over `denominator`'s in each round: the median, the lowest and the
    /// highest; `nil` when either was not measured.
    private func paired(
        _ numerator: Case,
        over denominator: Case,
        cpu usesCPU: Bool = false
    ) -> (median: Double, lowest: Double, highest: Double)? {
        let samples = usesCPU ? cpu : wall
        guard let top = samples[numerator], let bottom = samples[denominator] else { return nil }
        let ratios = zip(top, bottom).map { $0 / $1 }
        return (median(ratios), ratios.min()!, ratios.max()!)
    }

    private func describe(_ tally: Tally, _ measured: Case) -> String {
        measured.decodes
            ? "\(grouped(tally.events)) chunks with \(grouped(tally.bytes)) content bytes"
            : "\(grouped(tally.events)) events with \(grouped(tally.bytes)) data bytes"
    }

    private func sizeLabel(_ bytes: Int) -> String {
        bytes % 1024 == 0 ? "\(bytes / 1024) KiB" : "\(grouped(bytes))-byte"
    }

    private func times(_ factor: Double) -> String {
        fixed(factor, factor >= 10 ? 1 : 2) + "x"
    }
}
