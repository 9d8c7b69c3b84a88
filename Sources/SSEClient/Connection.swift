import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// How one connection attempt turned out, for the connection loop.
enum ConnectionOutcome: Sendable {
    /// It ended in a way the reconnect policy decides about.
    case ended(ReconnectStateMachine.Ending)
    /// The server said the stream is over (204, or a hook's `.finish`), answering `status`.
    case finished(status: Int)
    /// A failure that no reconnect will fix.
    case fatal(EventSourceError)
    /// The source was closed.
    case closed
}

/// One connection attempt of an ``EventSource``: the delegate of its libcurl transfer. It hands
/// the body's bytes to the source's storage, where the consumer parses them.
///
/// `@unchecked Sendable`: `openedAt` is only touched on the I/O thread (by the transfer's
/// callbacks, which libcurl runs one at a time); everything shared with other threads is in
/// `shared`, behind a lock.
final class Connection: CurlTransferDelegate, @unchecked Sendable {
    private struct Shared {
        var transfer: CurlTransfer?
        var isAdded = false
        var outcome: ConnectionOutcome?
        var continuation: CheckedContinuation<Void, Never>?
        var openDuration: Duration = .zero
    }

    private let shared = Mutex(Shared())
    private let source: EventSource
    private var openedAt: UInt64?

    init(source: EventSource) {
        self.source = source
    }

    /// Makes the request and waits until the transfer is over; returns how it ended and how long
    /// the stream was open.
    func run(_ request: TransferRequest) async -> (ConnectionOutcome, openDuration: Duration) {
        let transfer: CurlTransfer
        do {
            transfer = try CurlTransfer(request: request, delegate: self)
        } catch {
            return (.fatal(error), .zero)
        }
        await withCheckedContinuation { continuation in
            let start = shared.withLock { shared in
                if shared.outcome != nil { return false }
                shared.transfer = transfer
                shared.isAdded = true
                shared.continuation = continuation
                return true
            }
            if start {
                source.driver.add(transfer)
            } else {
                continuation.resume()
            }
        }
        return shared.withLock { shared in (shared.outcome ?? .closed, shared.openDuration) }
    }

    /// Stops the connection for `reason` (`.closed` or `.restart`) from any thread.
    func abort(because reason: DisconnectReason) {
        let transfer: CurlTransfer? = shared.withLock { shared in
            if shared.outcome == nil {
                shared.outcome = reason == .restart ? .ended(.restart) : .closed
            }
            return shared.isAdded ? shared.transfer : nil
        }
        if let transfer { source.driver.abort(transfer) }
    }

    /// Stops the connection for a failure no reconnect fixes (an event too large), from any thread.
    func fail(_ error: EventSourceError) {
        let transfer: CurlTransfer? = shared.withLock { shared in
            if shared.outcome == nil { shared.outcome = .fatal(error) }
            return shared.isAdded ? shared.transfer : nil
        }
        if let transfer { source.driver.abort(transfer) }
    }

    /// Resumes reading after the consumer caught up.
    func resume() {
        if let transfer = shared.withLock({ $0.transfer }) {
            source.driver.resume(transfer)
        }
    }

    private func record(_ outcome: ConnectionOutcome) {
        shared.withLock { shared in
            if shared.outcome == nil { shared.outcome = outcome }
        }
    }

    // MARK: CurlTransferDelegate (I/O thread)

    func transferDidReceiveHead(_ head: ResponseHead) -> Bool {
        let disposition =
            source.hooks.classifyResponse?(head)
            ?? ResponseClassifier.classify(head, requestURL: source.url, now: Self.unixTime())
        switch disposition {
        case .open:
            openedAt = CurlDriver.now()
            source.storage.updateMetrics { $0.openedConnections += 1 }
            source.logger.debug("open", metadata: ["url": "\(source.url)", "status": "\(head.status)"])
            source.storage.emit(.open(head))
            return true
        case .finish:
            record(.finished(status: head.status))
        case .retry(let after):
            let error = EventSourceError(.unexpectedStatus(head.status), url: source.url)
            record(.ended(.failure(error, retryAfter: after)))
        case .fail(let error):
            record(.fatal(error))
        }
        return false
    }

    func transferDidReceiveBody(_ bytes: UnsafeRawBufferPointer) -> BodyDisposition {
        source.storage.receive(bytes, from: self) ? .consumed : .pause
    }

    func transferDidComplete(_ completion: TransferCompletion) {
        let openDuration: Duration =
            openedAt.map { .nanoseconds(Int64(CurlDriver.now() &- $0)) } ?? .zero
        let continuation: CheckedContinuation<Void, Never>? = shared.withLock { shared in
            if shared.outcome == nil {
                switch completion {
                case .finished:
                    shared.outcome = .ended(.endOfStream)
                case .failed(let error):
                    shared.outcome = error.isTransient ? .ended(.failure(error, retryAfter: nil)) : .fatal(error)
                case .idleTimedOut:
                    let timeout = source.configuration.idleTimeout ?? .zero
                    let error = EventSourceError(.idleTimeout(timeout), url: source.url)
                    shared.outcome = .ended(.failure(error, retryAfter: nil))
                case .aborted:
                    shared.outcome = .closed
                }
            }
            shared.openDuration = openDuration
            shared.transfer = nil
            defer { shared.continuation = nil }
            return shared.continuation
        }
        continuation?.resume()
    }

    /// Unix time in seconds, for `Retry-After` dates.
    private static func unixTime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
