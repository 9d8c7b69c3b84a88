import SSEClient

/// What `verify` saw of one uninterrupted stream: the answer, and every read of the body with
/// the time it arrived. Built by ``VerifyProbe``; judged by ``StreamChecks``.
struct StreamRecording: Sendable {
    /// One read of the body, as libcurl delivered it (decompressed when asked for).
    struct Read: Sendable, Hashable {
        /// When it arrived, from the response head.
        var at: Duration
        /// The bytes.
        var bytes: [UInt8]
    }

    /// The answer to the first request; `nil` when none came (refused, a time-out).
    var head: ResponseHead?
    /// What ended the first request when no stream opened.
    var failure: EventSourceError?
    /// Whether the request asked for compression (`--compressed`, or an `Accept-Encoding` header).
    var askedForCompression = false
    /// The reads of the body, in order.
    var reads: [Read] = []
    /// How long the stream was watched, from the head to the end of the run or of the stream.
    var observed: Duration = .zero
    /// Whether the server ended the stream before the run ended.
    var endedByServer = false
    /// Whether reads were dropped after the recording limit.
    var truncated = false

    /// The blocks of the body (what a blank line ends), scanned as a client parses them.
    var blocks: [StreamBlock] { StreamBlock.scan(reads) }
}

/// One block of an event stream, up to the blank line that dispatches it, as the WHATWG parser
/// sees it, with what `verify` needs that a parser does not report: ids on blocks without data,
/// raw `retry:` values, where in the body it ended.
struct StreamBlock: Sendable, Hashable {
    /// The last `id:` value, if the block had one (an empty one resets the cursor).
    var id: String?
    /// Whether it had a `data:` field, so that it is dispatched as an event.
    var isEvent: Bool
    /// The event type, `message` when none was given.
    var type: String
    /// The data, lines joined with line feeds.
    var data: String
    /// Comment lines in it.
    var comments: Int
    /// Every `retry:` value, as sent.
    var retryValues: [String]
    /// The index of the read that completed it.
    var read: Int
    /// When that read arrived.
    var at: Duration
    /// The body offset just past its blank line.
    var endOffset: Int

    /// Scans `reads` into blocks; a block the stream did not finish is left out, as a client
    /// drops it. Lines end with CRLF, LF or CR; a leading byte order mark is skipped.
    static func scan(_ reads: [StreamRecording.Read]) -> [StreamBlock] {
        var scanner = Scanner()
        for (index, read) in reads.enumerated() {
            scanner.feed(read.bytes, read: index, at: read.at)
        }
        return scanner.blocks
    }

    /// The scan, fed as bytes come.
    struct Scanner: Sendable {
        /// The finished blocks.
        private(set) var blocks: [StreamBlock] = []
        /// The bytes fed.
        private(set) var offset = 0
        /// Events dispatched while the cursor (the last id) was not empty.
        private(set) var eventsWithID = 0
        private var cursor = ""
        private var line: [UInt8] = []
        private var afterCR = false
        private var checkingBOM = true
        private var bom: [UInt8] = []
        private var current = Pending()

        /// The bytes of the unfinished block fed so far.
        var bytesIntoBlock: Int { offset - (blocks.last?.endOffset ?? 0) }

        static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

        struct Pending {
            var id: String?
            var dataLines: [String] = []
            var hasData = false
            var type = ""
            var comments = 0
            var retryValues: [String] = []
            var isEmpty = true
        }

        mutating func feed(_ bytes: [UInt8], read: Int, at: Duration) {
            for byte in bytes {
                offset += 1
                if checkingBOM {
                    if byte == Self.byteOrderMark[bom.count] {
                        bom.append(byte)
                        if bom.count == Self.byteOrderMark.count { (checkingBOM, bom) = (false, []) }
                        continue
                    }
                    checkingBOM = false
                    for earlier in bom { process(earlier, read: read, at: at) }
                    bom = []
                }
                process(byte, read: read, at: at)
            }
        }

        private mutating func process(_ byte: UInt8, read: Int, at: Duration) {
            if afterCR {
                afterCR = false
                if byte == 0x0A { return }
            }
            switch byte {
            case 0x0A:
                endLine(read: read, at: at)
            case 0x0D:
                afterCR = true
                endLine(read: read, at: at)
            default:
                line.append(byte)
            }
        }

        private mutating func endLine(read: Int, at: Duration) {
            defer { line.removeAll(keepingCapacity: true) }
            if line.isEmpty {
                if let id = current.id { cursor = id }
                if current.hasData && !cursor.isEmpty { eventsWithID += 1 }
                if !current.isEmpty {
                    blocks.append(
                        StreamBlock(
                            id: current.id, isEvent: current.hasData,
                            type: current.type.isEmpty ? "message" : current.type,
                            data: current.dataLines.joined(separator: "\n"), comments: current.comments,
                            retryValues: current.retryValues, read: read, at: at, endOffset: offset))
                }
                current = Pending()
                return
            }
            current.isEmpty = false
            if line.first == UInt8(ascii: ":") {
                current.comments += 1
                return
            }
            let colon = line.firstIndex(of: UInt8(ascii: ":"))
            let name = String(decoding: line[..<(colon ?? line.endIndex)], as: UTF8.self)
            var value = colon.map { line[line.index(after: $0)...] } ?? []
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
            let text = String(decoding: value, as: UTF8.self)
            switch name {
            case "data":
                current.dataLines.append(text)
                current.hasData = true
            case "id" where !text.contains("\0"):
                current.id = text
            case "event":
                current.type = text
            case "retry":
                current.retryValues.append(text)
            default:
                break
            }
        }
    }
}
