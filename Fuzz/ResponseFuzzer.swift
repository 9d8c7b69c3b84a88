// libFuzzer harness for the client's handling of response heads, compiled together with the
// pure files of Sources/SSEClient (see the Makefile's `fuzz-response` target): header lines as
// libcurl delivers them, Content-Type matching, status classification and Retry-After parsing
// (seconds and the three HTTP date formats). Checks that nothing crashes and that the results
// keep their invariants.

/// libFuzzer's entry point: one input per call; a failed precondition is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResponse(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let status = 100 + Int(UInt16(data[0]) << 8 | UInt16(data[1])) % 500
    let input = UnsafeRawBufferPointer(start: data + 2, count: size - 2)

    // Header lines, split at LF as libcurl splits them.
    var parser = ResponseHeadParser()
    var lineStart = 0
    for index in 0..<input.count where input[index] == 0x0A || index == input.count - 1 {
        let line = UnsafeRawBufferPointer(rebasing: input[lineStart...index])
        _ = parser.read(line)
        lineStart = index + 1
    }
    let headers = parser.takeHeaders()
    precondition(headers.count <= ResponseHeadParser.maximumFields)
    for header in headers {
        precondition(!header.name.isEmpty, "a field without a name was kept")
    }

    let now = 1_795_694_400.0
    let head = ResponseHead(status: status, headers: headers, url: "http://fuzz/")
    let disposition = ResponseClassifier.classify(head, requestURL: "http://fuzz/", now: now)
    switch disposition {
    case .open:
        precondition((200...299).contains(status) && status != 204)
        precondition(ResponseClassifier.isEventStream(contentType: headers.value(for: "Content-Type")))
    case .finish:
        precondition(status == 204)
    case .retry(let after):
        precondition([408, 429].contains(status) || (500...599).contains(status))
        if let after { precondition(after >= .zero) }
    case .fail(let error):
        precondition(!error.description.isEmpty)
    }

    // Every value as a Retry-After, and as an HTTP date.
    let text = String(decoding: input, as: UTF8.self)
    if let delay = ResponseClassifier.parseRetryAfter(text, now: now) {
        precondition(delay >= .zero, "negative Retry-After from \(text.debugDescription)")
    }
    _ = HTTPDate.parse(text)
    for header in headers {
        _ = ResponseClassifier.parseRetryAfter(header.value, now: now)
        _ = ResponseClassifier.isEventStream(contentType: header.value)
    }
    return 0
}
