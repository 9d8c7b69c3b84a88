import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns SIGINT and SIGTERM into calls on a dispatch queue, so that the program can stop in an
/// orderly way (flush, save the state, exit 130 or 143) instead of dying mid-write. The default
/// action of each signal is ignored while it is watched; nothing runs in a signal handler.
///
/// `@unchecked Sendable`: `sources` is set once in `init` and only read afterwards; the dispatch
/// sources themselves are thread-safe.
final class SignalWatcher: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    /// Starts watching `signals`, calling `handler` with the signal number on a private queue
    /// each time one arrives.
    init(_ signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "sse-listen.signals")
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { handler(number) }
            source.resume()
            return source
        }
    }

    /// Stops watching; the signals stay ignored.
    func cancel() {
        for source in sources { source.cancel() }
    }
}
