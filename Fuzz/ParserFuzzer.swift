// libFuzzer harness for EventStreamParser, compiled together with Sources/SSEParser (see the
// Makefile's `fuzz` target), so it calls the parser directly rather than importing it.
//
// For every input it checks that the parser does not crash and that the result does not
// depend on how the stream is chunked: the whole input, one byte at a time, and cuts chosen
// from the input's first bytes must all give the same items, last event ID and error; and the
// fast UTF-8 decoder must agree with the standard library's.

private struct Outcome: Equatable {
    var items: [EventStreamItem] = []
    var lastEventID = ""
    var error: EventStreamError?
}

private func run(_ bytes: UnsafeRawBufferPointer, cuts: [Int], limit: Int) -> Outcome {
    var parser = EventStreamParser(configuration: .init(maximumEventSize: limit))
    var outcome = Outcome()
    var start = 0
    do {
        for cut in cuts + [bytes.count] where cut >= start && cut <= bytes.count {
            try parser.parse(UnsafeRawBufferPointer(rebasing: bytes[start..<cut])) { outcome.items.append($0) }
            start = cut
        }
    } catch let error as EventStreamError {
        outcome.error = error
    } catch {
        fatalError("unexpected error \(error)")
    }
    outcome.lastEventID = parser.lastEventID
    parser.finish()
    precondition(parser.lastEventID == outcome.lastEventID, "finish() changed the last event ID")
    return outcome
}

/// libFuzzer's entry point: one input per call; a failed precondition is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    // The first byte picks the event size limit (small limits exercise the error path), the
    // second seeds the chunk cuts; the rest is the stream.
    let limit = data[0] < 128 ? Int(data[0]) + 1 : 16 * 1024 * 1024
    var seed = UInt64(data[1]) &+ 0x9E37_79B9_7F4A_7C15
    let stream = UnsafeRawBufferPointer(start: data + 2, count: size - 2)

    let whole = run(stream, cuts: [], limit: limit)
    let byteByByte = run(stream, cuts: Array(0..<stream.count), limit: limit)
    precondition(whole == byteByByte, "one byte at a time differs from whole: \(byteByByte) vs \(whole)")

    var cuts: [Int] = []
    var position = 0
    while position < stream.count {
        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        position += Int(seed >> 59) + 1
        cuts.append(min(position, stream.count))
    }
    // The fast UTF-8 path must agree with the standard library's repairing decoder.
    let decoded = UTF8Decoding.string(from: UnsafeBufferPointer(start: data + 2, count: size - 2))
    precondition(
        decoded.utf8.elementsEqual(
            String(decoding: UnsafeBufferPointer(start: data + 2, count: size - 2), as: UTF8.self).utf8),
        "UTF8Decoding disagrees with String(decoding:)"
    )

    // The SIMD validator (used from 64 bytes on) must agree with the scalar one on every input.
    let input = UnsafeBufferPointer(start: data + 2, count: size - 2)
    precondition(
        UTF8Decoding.validate(input) == UTF8Decoding.validateScalar(input)
            || input.count < UTF8Decoding.simdThreshold,
        "the SIMD and scalar UTF-8 validators disagree"
    )

    let chunked = run(stream, cuts: cuts, limit: limit)
    precondition(whole == chunked, "chunks \(cuts) differ from whole: \(chunked) vs \(whole)")
    return 0
}
