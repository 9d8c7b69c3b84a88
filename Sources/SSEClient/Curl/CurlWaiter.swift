internal import CCurl
internal import CCurlShims

#if os(Linux)
    import Glibc
#endif

/// How the I/O thread waits for its sockets and lets libcurl work.
///
/// On Linux it uses libcurl's socket interface over epoll, so a wake-up costs what is ready, not
/// what is open: `curl_multi_poll` rebuilds and polls the whole descriptor set every time, which
/// was most of the CPU time with a thousand mostly idle streams. Elsewhere it uses
/// `curl_multi_poll` and `curl_multi_perform`.
///
/// `@unchecked Sendable`: ``wake()`` may be called from any thread and only touches what never
/// changes after `init`; everything else runs on the I/O thread.
final class CurlWaiter: @unchecked Sendable {
    let multi: UnsafeMutableRawPointer

    #if os(Linux)
        private let epollDescriptor: Int32
        private let wakeDescriptor: Int32
        /// When libcurl's timer is due, on the monotonic clock; `nil` when it has none.
        fileprivate var timerDeadline: UInt64?
        /// What `epoll_wait` reports, filled in place. Buffers, not arrays in `var`s: every access
        /// to a class's `var` is checked for exclusivity at run time, which took 3 % of the I/O
        /// thread's time with a thousand streams.
        private let readyDescriptors = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 256)
        private let readyFlags = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 256)
    #endif

    /// Creates the multi handle and what it needs to wait; `nil` when the system refuses.
    init?() {
        guard let multi = curl_multi_init() else { return nil }
        self.multi = multi
        #if os(Linux)
            epollDescriptor = sse_epoll_create()
            wakeDescriptor = sse_eventfd_create()
            guard epollDescriptor >= 0, wakeDescriptor >= 0,
                sse_epoll_watch(epollDescriptor, wakeDescriptor, CURL_POLL_IN) == 0
            else {
                if epollDescriptor >= 0 { _ = Glibc.close(epollDescriptor) }
                if wakeDescriptor >= 0 { _ = Glibc.close(wakeDescriptor) }
                curl_multi_cleanup(multi)
                return nil
            }
            // The callbacks get this object back; it outlives the multi handle (see `close`).
            let context = Unmanaged.passUnretained(self).toOpaque()
            _ = sse_curl_multi_setopt_socket_callback(multi, curlSocketCallback)
            _ = sse_curl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, context)
            _ = sse_curl_multi_setopt_timer_callback(multi, curlTimerCallback)
            _ = sse_curl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, context)
            // HTTP/2 multiplexing (libcurl's default since 7.62, set here to say so): sources to one
            // origin share a connection. One source paused for a slow consumer stalls none of the
            // others and resumes with nothing lost on this libcurl; HTTP2MultiplexingTests prove it,
            // as the case has a history of libcurl bugs (curl issues 10988, 16280, 16955).
            _ = sse_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        #endif
    }

    #if os(Linux)
        deinit {
            readyDescriptors.deallocate()
            readyFlags.deallocate()
        }
    #endif

    /// Frees the multi handle (which may still report sockets to forget), then the descriptors.
    /// On the I/O thread, once no other thread can reach this object.
    func close() {
        curl_multi_cleanup(multi)
        #if os(Linux)
            _ = Glibc.close(epollDescriptor)
            _ = Glibc.close(wakeDescriptor)
        #endif
    }

    /// Ends a ``wait(milliseconds:)`` in progress, or makes the next one return at once. Any thread.
    func wake() {
        #if os(Linux)
            sse_eventfd_signal(wakeDescriptor)
        #else
            _ = curl_multi_wakeup(multi)
        #endif
    }

    /// Lets libcurl do the work that is due now: new and resumed transfers, expired timers.
    func perform() {
        var running: Int32 = 0
        #if os(Linux)
            if let deadline = timerDeadline, deadline <= CurlDriver.now() {
                // Cleared first: libcurl sets the next deadline from inside the call.
                timerDeadline = nil
                _ = curl_multi_socket_action(multi, sse_curl_socket_timeout, 0, &running)
            }
        #else
            _ = curl_multi_perform(multi, &running)
        #endif
    }

    /// Waits up to `milliseconds` (less when libcurl's own timer is due sooner) for socket
    /// activity or ``wake()``, and lets libcurl read and write what is ready.
    func wait(milliseconds: Int32) {
        #if os(Linux)
            var timeout = milliseconds
            if let deadline = timerDeadline {
                let now = CurlDriver.now()
                let due = deadline > now ? Int32(clamping: (deadline - now + 999_999) / 1_000_000) : 0
                timeout = min(timeout, due)
            }
            // Both buffers are allocated with 256 elements, so their base addresses exist.
            let count = sse_epoll_wait(
                epollDescriptor, readyDescriptors.baseAddress!, readyFlags.baseAddress!, Int32(readyDescriptors.count),
                timeout)
            var running: Int32 = 0
            for index in 0..<Int(count) {
                let descriptor = readyDescriptors[index]
                if descriptor == wakeDescriptor {
                    sse_eventfd_drain(wakeDescriptor)
                } else {
                    _ = curl_multi_socket_action(multi, descriptor, readyFlags[index], &running)
                }
            }
        #else
            _ = curl_multi_poll(multi, nil, 0, milliseconds, nil)
        #endif
    }

    #if os(Linux)
        fileprivate func watch(_ socket: curl_socket_t, what: Int32) {
            _ = sse_epoll_watch(epollDescriptor, socket, what)
        }
    #endif
}

#if os(Linux)
    private let curlSocketCallback: curl_socket_callback = { _, socket, what, context, _ in
        guard let context else { return 0 }
        Unmanaged<CurlWaiter>.fromOpaque(context).takeUnretainedValue().watch(socket, what: what)
        return 0
    }

    private let curlTimerCallback: curl_multi_timer_callback = { _, milliseconds, context in
        guard let context else { return 0 }
        let waiter = Unmanaged<CurlWaiter>.fromOpaque(context).takeUnretainedValue()
        waiter.timerDeadline = milliseconds < 0 ? nil : CurlDriver.now() + UInt64(milliseconds) * 1_000_000
        return 0
    }
#endif
