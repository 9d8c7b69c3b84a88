import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Notices that the reader of a pipe on standard output went away (`| head`, `| jq … halt`)
/// while nothing is being written, so that a quiet stream does not keep a finished pipeline
/// waiting until the next event fails to be written.
///
/// A thread of its own (neither the cooperative pool nor a dispatch worker, which it would hold
/// for the whole run) waits in `poll(2)` for
/// `POLLERR` or `POLLHUP` on the descriptor, which a pipe's writing end reports once no reader is
/// left, whatever events are asked for. Only pipes (and FIFOs) are watched: a terminal or a file
/// has no reader to lose. ``cancel()`` wakes the thread through a pipe of its own.
final class HangUpWatcher: Sendable {
    private let wakeWriter = Mutex<Int32?>(nil)

    /// Starts watching `fd` (standard output unless given), calling `onHangUp` once, on another
    /// thread, when its reader is gone; `nil` when `fd` is not a pipe.
    static func start(
        fd: Int32 = STDOUT_FILENO,
        onHangUp: @escaping @Sendable () -> Void
    ) -> HangUpWatcher? {
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFIFO else { return nil }
        var wake: [Int32] = [-1, -1]
        guard pipe(&wake) == 0 else { return nil }
        for end in wake { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let watcher = HangUpWatcher(wakeWriter: wake[1])
        let wakeReader = wake[0]
        let started = startThread {
            defer { close(wakeReader) }
            var fds = [
                pollfd(fd: fd, events: 0, revents: 0),
                pollfd(fd: wakeReader, events: Int16(POLLIN), revents: 0),
            ]
            while true {
                let count = poll(&fds, nfds_t(fds.count), -1)
                if count < 0 {
                    if errno == EINTR { continue }
                    return
                }
                // Cancelled: the wake pipe's writer was closed.
                if fds[1].revents != 0 { return }
                if fds[0].revents & Int16(POLLERR | POLLHUP) != 0 {
                    onHangUp()
                    return
                }
                // POLLNVAL (the descriptor was closed): nothing left to watch.
                if fds[0].revents != 0 { return }
            }
        }
        guard started else {
            watcher.cancel()
            close(wakeReader)
            return nil
        }
        return watcher
    }

    /// Runs `body` on a new detached thread; returns whether the thread started.
    private static func startThread(_ body: @escaping @Sendable () -> Void) -> Bool {
        final class Box: Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        #if canImport(Darwin)
            var thread: pthread_t?
        #else
            var thread = pthread_t()
        #endif
        let result = pthread_create(
            &thread,
            nil,
            { context in
                Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
                return nil
            },
            context
        )
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(context).release()
            return false
        }
        #if canImport(Darwin)
            if let thread { pthread_detach(thread) }
        #else
            pthread_detach(thread)
        #endif
        return true
    }

    private init(wakeWriter: Int32) {
        self.wakeWriter.withLock { $0 = wakeWriter }
    }

    /// Stops watching. Safe to call more than once.
    func cancel() {
        let fd = wakeWriter.withLock { fd in
            defer { fd = nil }
            return fd
        }
        if let fd { close(fd) }
    }

    deinit {
        cancel()
    }
}
