internal import CCurl
internal import CCurlShims

/// What one connection attempt asks of libcurl.
struct TransferRequest: Sendable {
    var url: String
    var method: String
    var headers: [HTTPHeader]
    var body: [UInt8]?
    var connectTimeout: Duration
    var tls: EventSource.TLS
    var acceptsCompression: Bool
    var maximumRedirects: Int
    var userAgent: String
    var idleTimeout: Duration?
    /// Whether to keep the request head as sent (a libcurl debug callback).
    var recordsSentRequest = false
    /// The HTTP version, proxy, socket and name overrides.
    var transport = EventSource.Transport()
    /// Which connection the transfer may take, from how the source's previous attempt ended.
    var connectionReuse = ConnectionReuse.sharedOnly
}

/// Which connection a transfer may take, from how its source's previous attempt ended.
enum ConnectionReuse: Sendable, Hashable {
    /// An HTTP/2 connection it can share, or a new one. A transfer that can only speak HTTP/1.1
    /// does not look for an idle connection: looking walks every connection to the host, in use
    /// or not, and opening 10,000 streams to one server spent more than half of the I/O thread
    /// in that walk (quadratic in the number of streams).
    case sharedOnly
    /// Also an idle HTTP/1.1 connection: the previous response was complete, which may have left
    /// its connection open.
    case idleToo
    /// A new connection, also over HTTP/2: the previous attempt heard nothing within its timeout,
    /// and the connection it shared may be the silent one: half dead, or carrying more streams
    /// than the server end keeps up with. Multiplexed back onto it, a source under CPU
    /// starvation timed out on one connection 13 times in a row, while a new one answered.
    case newOnly

    /// The reuse the next attempt may make after a transfer that ended so.
    init(after completion: TransferCompletion) {
        switch completion {
        case .finished: self = .idleToo
        case .idleTimedOut, .headTimedOut: self = .newOnly
        case .failed, .aborted: self = .sharedOnly
        }
    }
}

/// How a transfer ended, as seen from libcurl: plain values, interpreted by the source.
enum TransferCompletion: Sendable, Hashable {
    /// The body ended cleanly.
    case finished
    /// libcurl reported an error.
    case failed(TransferFailure)
    /// The transfer was aborted: by a callback's decision or by `abort`.
    case aborted
    /// No byte arrived within the idle timeout.
    case idleTimedOut
    /// The response head did not arrive within the connect timeout.
    case headTimedOut
}

/// A libcurl error, sorted by what it means for the stream, with libcurl's message.
struct TransferFailure: Error, Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        /// The connection could not be made or broke.
        case transport
        /// The server's certificate is not trusted.
        case tlsVerification
        /// The server's certificate does not name the host.
        case tlsHostNameMismatch
        /// Too many redirects, or one to a scheme other than HTTP(S).
        case redirect
        /// libcurl cannot use the request (a malformed URL, an unsupported scheme).
        case invalidRequest
        /// The proxy refused the `CONNECT` tunnel with this status (407: it wants credentials).
        case proxyRefused(status: Int)
    }

    var kind: Kind
    var message: String
}

/// Receives a transfer's events, always on the I/O thread.
protocol CurlTransferDelegate: AnyObject, Sendable {
    /// The final response head (after redirects): whether to stream the body, collect the
    /// start of it (an error's explanation), or stop.
    func transfer(_ transfer: CurlTransfer, didReceiveHead head: ResponseHead) -> HeadDisposition
    /// Body bytes. Return `.pause` to leave them unconsumed (libcurl delivers them again after
    /// ``CurlDriver/resume(_:)``), `.abort` to stop the transfer, `.reset` to stop it with a TCP
    /// reset.
    func transfer(_ transfer: CurlTransfer, didReceiveBody bytes: UnsafeRawBufferPointer) -> BodyDisposition
    /// The transfer ended; the easy handle has been released.
    func transfer(_ transfer: CurlTransfer, didComplete completion: TransferCompletion)
}

/// What a delegate wants of a response's body.
enum HeadDisposition {
    /// Hand it over as it comes.
    case stream
    /// Keep up to `limit` bytes of it (``CurlTransfer/collectedBody``), for at most `timeout`,
    /// then end the transfer.
    case collect(limit: Int, timeout: Duration)
    /// Stop now.
    case stop
}

/// What a delegate did with body bytes.
enum BodyDisposition {
    case consumed
    case pause
    case abort
    /// Abort, and have the connection closed with a TCP reset instead of a FIN.
    case reset
}

/// One libcurl easy handle, its options and its callbacks.
///
/// Unsafe pointers and `Unmanaged` appear only in `Curl/`: here (the handle, its callbacks and
/// their context), in ``CurlWaiter`` (the multi handle's socket callbacks) and in ``CurlDriver``
/// (the I/O thread's start). Nothing of libcurl leaves `Curl/` but plain values.
///
/// Created and configured on the caller's thread, then handed to ``CurlDriver``, after which only
/// the I/O thread touches it: that single-thread ownership is why it is `@unchecked Sendable`.
final class CurlTransfer: @unchecked Sendable {
    private(set) var handle: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// The `CURLOPT_RESOLVE` and `CURLOPT_CONNECT_TO` lists, which must outlive the transfer.
    private var resolveList: UnsafeMutablePointer<curl_slist>?
    private var connectToList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    let delegate: any CurlTransferDelegate
    let requestURL: String
    let idleTimeoutNanoseconds: UInt64?
    /// How long the response head may take from the start of the transfer.
    let headTimeoutNanoseconds: UInt64
    private let followsRedirects: Bool

    // I/O thread state.
    private var headParser = ResponseHeadParser()
    private(set) var headDelivered = false
    /// When the driver started the transfer, on the I/O thread's monotonic clock.
    var startedAt: UInt64 = 0
    /// A callback decided to stop the transfer; libcurl then reports a write error, which is ours.
    private(set) var abortedByCallback = false
    /// When a byte last arrived (or the transfer started), on the I/O thread's monotonic clock.
    var lastActivity: UInt64 = 0
    /// Paused because the consumer is behind; the idle timer does not run meanwhile.
    var isPaused = false
    /// The start of a body kept instead of streamed (``HeadDisposition/collect(limit:timeout:)``).
    private(set) var collectedBody: [UInt8]?
    private var collectLimit = 0
    /// When collecting must end, on the I/O thread's monotonic clock.
    private(set) var collectDeadline: UInt64?
    private let recordsSentRequest: Bool
    /// The last request head libcurl sent (with redirects, the one the final answer is to).
    private var sentRequest: String?

    /// Creates and configures the easy handle.
    init(request: TransferRequest, delegate: any CurlTransferDelegate) throws(TransferFailure) {
        CurlGlobal.initializeOnce()
        self.delegate = delegate
        self.requestURL = request.url
        self.idleTimeoutNanoseconds = request.idleTimeout.map {
            UInt64(max(1, Duration.milliseconds(of: $0))) * 1_000_000
        }
        self.headTimeoutNanoseconds = UInt64(max(1, Duration.milliseconds(of: request.connectTimeout))) * 1_000_000
        self.followsRedirects = request.maximumRedirects > 0
        self.recordsSentRequest = request.recordsSentRequest
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        guard let handle = curl_easy_init() else {
            errorBuffer.deallocate()
            throw TransferFailure(kind: .invalidRequest, message: "libcurl could not create a handle")
        }
        self.handle = handle
        do {
            try configure(handle, request)
        } catch {
            release()
            throw error
        }
    }

    deinit {
        release()
        errorBuffer.deallocate()
    }

    /// Releases the easy handle and header list; the transfer must no longer be in a multi handle.
    func release() {
        if let handle {
            curl_easy_cleanup(handle)
            self.handle = nil
        }
        for list in [headerList, resolveList, connectToList] {
            if let list { curl_slist_free_all(list) }
        }
        (headerList, resolveList, connectToList) = (nil, nil, nil)
    }

    /// libcurl's message for a failed transfer: the error buffer when it says more than the code.
    func errorMessage(for code: CURLcode) -> String {
        let detail = String(cString: errorBuffer)
        return detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    }

    /// The status of the proxy's answer to `CONNECT`, or 0 when there was none.
    var connectStatus: Int {
        guard let handle else { return 0 }
        var status = 0
        _ = sse_curl_easy_getinfo_long(handle, CURLINFO_HTTP_CONNECTCODE, &status)
        return status
    }

    /// Whether the connection (TCP, to the server or its proxy) has been made, or the request
    /// is on its way over one made before. I/O thread.
    ///
    /// The connect time alone is not enough: libcurl 7.88 leaves it at 0 for a transfer it puts on
    /// an HTTP/2 connection already open, whose request it sends all the same.
    var hasConnected: Bool {
        guard let handle else { return false }
        var connect = curl_off_t(0)
        var pretransfer = curl_off_t(0)
        _ = sse_curl_easy_getinfo_off_t(handle, CURLINFO_CONNECT_TIME_T, &connect)
        _ = sse_curl_easy_getinfo_off_t(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransfer)
        return connect > 0 || pretransfer > 0
    }

    /// How many redirects were followed.
    var redirectCount: Int {
        guard let handle else { return 0 }
        var count = 0
        _ = sse_curl_easy_getinfo_long(handle, CURLINFO_REDIRECT_COUNT, &count)
        return count
    }

    private func configure(_ handle: UnsafeMutableRawPointer, _ request: TransferRequest) throws(TransferFailure) {
        func check(_ code: CURLcode, _ what: String) throws(TransferFailure) {
            guard code == CURLE_OK else {
                let message = String(cString: curl_easy_strerror(code))
                throw TransferFailure(kind: .invalidRequest, message: "\(what): \(message)")
            }
        }
        let context = Unmanaged.passUnretained(self).toOpaque()
        try check(sse_curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), "error buffer")
        try check(sse_curl_easy_setopt_string(handle, CURLOPT_URL, IDNA.asciiURL(request.url)), "URL")
        try check(sse_curl_easy_allow_http_only(handle), "protocols")
        try check(sse_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "no signals")
        try check(sse_curl_easy_setopt_long(handle, CURLOPT_FOLLOWLOCATION, followsRedirects ? 1 : 0), "redirects")
        try check(sse_curl_easy_setopt_long(handle, CURLOPT_MAXREDIRS, max(0, request.maximumRedirects)), "redirects")
        // The connect timeout is the driver's (it bounds connecting and the head together), not
        // libcurl's: libcurl keeps a connect-timeout timer for each transfer until it is due,
        // connected or not, and a thousand of them in its timer tree cost 4 µs per event
        // (curl_floor.c: 12.5 against 8.4 ms per 1,000). Only beyond libcurl's own default of
        // 300 s, which would cut a longer one short, is it passed on.
        let connectMilliseconds = Duration.milliseconds(of: request.connectTimeout)
        if connectMilliseconds > 300_000 {
            try check(sse_curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(connectMilliseconds)), "timeout")
        }
        try check(sse_curl_easy_setopt_string(handle, CURLOPT_USERAGENT, request.userAgent), "user agent")
        // Deliver bytes as they arrive: SSE is latency-sensitive and has no use for Nagle.
        try check(sse_curl_easy_setopt_long(handle, CURLOPT_TCP_NODELAY, 1), "TCP_NODELAY")
        try check(sse_curl_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1), "keepalive")
        // Fewer, larger reads when the stream is fast (the default is 16 KiB); a slow stream
        // only touches the start of the buffer.
        try check(sse_curl_easy_setopt_long(handle, CURLOPT_BUFFERSIZE, 64 * 1024), "buffer size")
        if request.acceptsCompression {
            // The empty string asks for every encoding this libcurl was built to decode.
            try check(sse_curl_easy_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""), "compression")
        }

        try configureTransport(
            handle, request.transport, isHTTPS: request.url.lowercased().hasPrefix("https:"),
            connectionReuse: request.connectionReuse, check: check)

        if !request.tls.verifiesPeer {
            try check(sse_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0), "TLS")
            try check(sse_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0), "TLS")
        }
        if let caFile = request.tls.caFile {
            try check(sse_curl_easy_setopt_string(handle, CURLOPT_CAINFO, caFile), "CA file")
        }
        if let certificate = request.tls.clientCertificateFile {
            try check(sse_curl_easy_setopt_string(handle, CURLOPT_SSLCERT, certificate), "client certificate")
        }
        if let key = request.tls.clientKeyFile {
            try check(sse_curl_easy_setopt_string(handle, CURLOPT_SSLKEY, key), "client key")
        }

        let method = request.method.uppercased()
        if let body = request.body {
            try check(sse_curl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "body")
            let code = body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS copies the bytes, so the array need not outlive this call.
                sse_curl_easy_setopt_pointer(
                    handle,
                    CURLOPT_COPYPOSTFIELDS,
                    UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(errorBuffer))
                )
            }
            try check(code, "body")
            if method != "POST" {
                try check(sse_curl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method), "method")
            }
        } else if method == "HEAD" {
            try check(sse_curl_easy_setopt_long(handle, CURLOPT_NOBODY, 1), "method")
        } else if method != "GET" {
            try check(sse_curl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method), "method")
        }

        for header in request.headers {
            // "Name:" with nothing after it would make libcurl remove the header instead; "Name;"
            // sends it empty.
            let line = header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)"
            guard let list = curl_slist_append(headerList, line) else {
                throw TransferFailure(kind: .invalidRequest, message: "out of memory for headers")
            }
            headerList = list
        }
        if let headerList {
            try check(sse_curl_easy_setopt_pointer(handle, CURLOPT_HTTPHEADER, headerList), "headers")
        }

        try check(sse_curl_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, curlHeaderCallback), "callback")
        try check(sse_curl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context), "callback")
        try check(sse_curl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteCallback), "callback")
        try check(sse_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context), "callback")
        try check(sse_curl_easy_setopt_pointer(handle, CURLOPT_PRIVATE, context), "callback")
        if recordsSentRequest {
            try check(sse_curl_easy_setopt_pointer(handle, CURLOPT_DEBUGDATA, context), "callback")
            try check(sse_curl_easy_setopt_debug_callback(handle, curlDebugCallback), "callback")
        }
    }

    private func configureTransport(
        _ handle: UnsafeMutableRawPointer,
        _ transport: EventSource.Transport,
        isHTTPS: Bool,
        connectionReuse: ConnectionReuse,
        check: (CURLcode, String) throws(TransferFailure) -> Void
    ) throws(TransferFailure) {
        let version: Int? =
            switch transport.httpVersion {
            case .automatic: nil
            case .http1_1: Int(CURL_HTTP_VERSION_1_1)
            case .http2: Int(CURL_HTTP_VERSION_2_0)
            case .http2PriorKnowledge: Int(CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE)
            case .http3: Int(CURL_HTTP_VERSION_3)
            }
        if let version {
            try check(sse_curl_easy_setopt_long(handle, CURLOPT_HTTP_VERSION, version), "HTTP version")
        }
        if transport.httpVersion == .http2PriorKnowledge, CurlFeatures.breaksPriorKnowledgeReuse {
            // Each transfer on a connection of its own, which no other transfer reuses: the only
            // way to keep h2c working on this libcurl (see breaksPriorKnowledgeReuse).
            try check(sse_curl_easy_setopt_long(handle, CURLOPT_FRESH_CONNECT, 1), "h2c connection")
            try check(sse_curl_easy_setopt_long(handle, CURLOPT_FORBID_REUSE, 1), "h2c connection")
        } else if connectionReuse == .newOnly {
            // After a silent attempt: not the connection that may have been silent (see newOnly).
            try check(sse_curl_easy_setopt_long(handle, CURLOPT_FRESH_CONNECT, 1), "new connection")
        } else if transport.httpVersion == .automatic ? isHTTPS : transport.httpVersion != .http1_1 {
            // Where HTTP/2 may be spoken, sources started together wait for the connection that
            // may carry them all, rather than each opening its own before the first has learnt
            // that the server multiplexes.
            try check(sse_curl_easy_setopt_long(handle, CURLOPT_PIPEWAIT, 1), "multiplexing")
        } else if connectionReuse == .sharedOnly {
            // HTTP/1.1 only: a connection that carries a stream is never free for another, so
            // there is nothing to find (see sharedOnly).
            try check(sse_curl_easy_setopt_long(handle, CURLOPT_FRESH_CONNECT, 1), "HTTP/1.1 connection")
        }
        switch transport.addressFamily {
        case .any: break
        case .ipv4: try check(sse_curl_easy_setopt_long(handle, CURLOPT_IPRESOLVE, Int(CURL_IPRESOLVE_V4)), "IPv4")
        case .ipv6: try check(sse_curl_easy_setopt_long(handle, CURLOPT_IPRESOLVE, Int(CURL_IPRESOLVE_V6)), "IPv6")
        }
        let proxy = transport.proxy
        switch proxy.kind {
        case .environment:
            break
        case .none:
            // An empty proxy turns off the one the environment names.
            try check(sse_curl_easy_setopt_string(handle, CURLOPT_PROXY, ""), "proxy")
        case .url(let url):
            try check(sse_curl_easy_setopt_string(handle, CURLOPT_PROXY, url), "proxy")
        }
        if proxy.kind != .none {
            // For the proxy alone: libcurl sends them in the CONNECT or the SOCKS handshake.
            if let credentials = proxy.credentials {
                try check(sse_curl_easy_setopt_string(handle, CURLOPT_PROXYUSERNAME, credentials.user), "proxy user")
                try check(
                    sse_curl_easy_setopt_string(handle, CURLOPT_PROXYPASSWORD, credentials.password), "proxy user")
            }
            if !proxy.bypass.isEmpty {
                let list = proxy.bypass.joined(separator: ",")
                try check(sse_curl_easy_setopt_string(handle, CURLOPT_NOPROXY, list), "no-proxy list")
            }
            // The TLS to an https:// proxy, verified on its own terms.
            if let caFile = proxy.caFile {
                try check(sse_curl_easy_setopt_string(handle, CURLOPT_PROXY_CAINFO, caFile), "proxy CA file")
            }
            if !proxy.verifiesPeer {
                try check(sse_curl_easy_setopt_long(handle, CURLOPT_PROXY_SSL_VERIFYPEER, 0), "proxy TLS")
                try check(sse_curl_easy_setopt_long(handle, CURLOPT_PROXY_SSL_VERIFYHOST, 0), "proxy TLS")
            }
        }
        // The proxy's answer to CONNECT is not the server's head.
        try check(sse_curl_easy_setopt_long(handle, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1), "proxy")
        if let path = transport.unixSocketPath {
            try check(sse_curl_easy_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, path), "Unix socket")
        }
        if !transport.resolve.isEmpty {
            resolveList = try Self.list(
                transport.resolve.map { "\($0.host):\($0.port):\($0.addresses.joined(separator: ","))" })
            try check(sse_curl_easy_setopt_pointer(handle, CURLOPT_RESOLVE, resolveList), "resolve")
        }
        if !transport.connectTo.isEmpty {
            connectToList = try Self.list(
                transport.connectTo.map { entry in
                    func port(_ port: Int?) -> String { port.map(String.init) ?? "" }
                    return "\(entry.host):\(port(entry.port)):\(entry.toHost):\(port(entry.toPort))"
                })
            try check(sse_curl_easy_setopt_pointer(handle, CURLOPT_CONNECT_TO, connectToList), "connect-to")
        }
    }

    private static func list(_ lines: [String]) throws(TransferFailure) -> UnsafeMutablePointer<curl_slist> {
        var list: UnsafeMutablePointer<curl_slist>?
        for line in lines {
            guard let appended = curl_slist_append(list, line) else {
                if let list { curl_slist_free_all(list) }
                throw TransferFailure(kind: .invalidRequest, message: "out of memory for a libcurl list")
            }
            list = appended
        }
        return list!
    }

    // MARK: Callbacks (I/O thread)

    fileprivate func didReceiveHeaderLine(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Header lines do not reset the idle timer: the whole head must come within one idle
        // timeout of the start, so a server trickling header fields cannot hold the connection.
        guard headParser.read(bytes) == .end else { return true }

        // The blank line ending a response head.
        guard let handle else { return false }
        var status = 0
        _ = sse_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        if (100..<200).contains(status) { return true }
        if followsRedirects && [301, 302, 303, 307, 308].contains(status),
            let location = headParser.headers.value(for: "Location"), !location.isEmpty
        {
            // libcurl follows it; the head that matters comes next. Without a target (no or an
            // empty `Location`) libcurl stops here, so this is the final answer.
            return true
        }
        return deliverHead(status: status)
    }

    private func deliverHead(status: Int) -> Bool {
        headDelivered = true
        lastActivity = CurlDriver.now()
        var effectiveURL: UnsafeMutablePointer<CChar>?
        var version = 0
        if let handle {
            _ = sse_curl_easy_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &effectiveURL)
            _ = sse_curl_easy_getinfo_long(handle, CURLINFO_HTTP_VERSION, &version)
        }
        let head = ResponseHead(
            status: status,
            headers: headParser.takeHeaders(),
            url: effectiveURL.map { String(cString: $0) } ?? requestURL,
            httpVersion: Self.versionName(version),
            sentRequest: sentRequest.map(SentRequestHead.init(text:))
        )
        switch delegate.transfer(self, didReceiveHead: head) {
        case .stream:
            return true
        case .collect(let limit, let timeout):
            collectedBody = []
            collectLimit = max(0, limit)
            collectDeadline = lastActivity &+ UInt64(Duration.milliseconds(of: timeout)) * 1_000_000
            return true
        case .stop:
            abortedByCallback = true
            return false
        }
    }

    /// CURLINFO_HTTP_VERSION's values as the status line spells them.
    private static func versionName(_ version: Int) -> String {
        switch version {
        case CURL_HTTP_VERSION_1_0: "HTTP/1.0"
        case CURL_HTTP_VERSION_1_1: "HTTP/1.1"
        case CURL_HTTP_VERSION_2_0: "HTTP/2"
        case CURL_HTTP_VERSION_3: "HTTP/3"
        default: ""
        }
    }

    fileprivate func didSendHead(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        // libcurl reports a head in one piece per request; a redirect's new request replaces it.
        sentRequest = text
    }

    fileprivate func didReceiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        if !headDelivered {
            guard let handle else { return 0 }
            var status = 0
            _ = sse_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            guard deliverHead(status: status) else { return 0 }
        }
        if collectedBody != nil {
            collectedBody!.append(contentsOf: bytes.prefix(collectLimit - collectedBody!.count))
            if collectedBody!.count < collectLimit { return bytes.count }
            // Enough of it: the transfer ends as its delegate decided at the head.
            abortedByCallback = true
            return 0
        }
        switch delegate.transfer(self, didReceiveBody: bytes) {
        case .consumed:
            lastActivity = CurlDriver.now()
            return bytes.count
        case .pause:
            isPaused = true
            return Int(bitPattern: UInt(sse_curl_writefunc_pause))
        case .abort:
            abortedByCallback = true
            return 0
        case .reset:
            if let handle { _ = sse_curl_easy_reset_on_close(handle) }
            abortedByCallback = true
            return 0
        }
    }
}

/// The transfer behind an easy handle, from its CURLOPT_PRIVATE pointer.
func curlTransfer(of handle: UnsafeMutableRawPointer) -> CurlTransfer? {
    var pointer: UnsafeMutablePointer<CChar>?
    guard sse_curl_easy_getinfo_string(handle, CURLINFO_PRIVATE, &pointer) == CURLE_OK, let pointer else { return nil }
    return Unmanaged<CurlTransfer>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
}

private let curlHeaderCallback: sse_curl_data_callback = { data, size, count, context in
    guard let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    return transfer.didReceiveHeaderLine(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private let curlDebugCallback: sse_curl_debug_callback = { _, type, data, size, context in
    guard let context, type == Int32(CURLINFO_HEADER_OUT.rawValue) else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    transfer.didSendHead(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

private let curlWriteCallback: sse_curl_data_callback = { data, size, count, context in
    guard let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.didReceiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
}
