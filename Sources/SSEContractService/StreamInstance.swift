import SSEClient
import SSEParser
import Synchronization

/// One client stream the harness created: an ``EventSource`` and the single task that consumes its
/// updates and posts them, one at a time and in order, as numbered callbacks.
///
/// Callbacks are posted by the consuming task itself, so callback `n + 1` is sent only after
/// callback `n` was answered (or failed): the harness sees them in order with no gaps, and a slow
/// callback endpoint slows the stream down instead of piling callbacks up.
final class StreamInstance: Sendable {
    /// The instance number, as in `/streams/N`.
    let id: Int
    /// The harness's name for the test.
    let tag: String
    /// The client.
    let source: EventSource

    private let callbackBase: HTTPURL
    private let client: HTTPClient
    private let log: @Sendable (String) -> Void
    /// The event types reported: `message` plus those added by `listen`.
    private let listenedTypes = Mutex<Set<String>>([ServerSentEvent.defaultType])
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(
        id: Int,
        parameters: StreamParameters,
        callbackBase: HTTPURL,
        client: HTTPClient,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.id = id
        self.tag = parameters.tag ?? ""
        self.source = EventSource(url: parameters.streamURL, configuration: parameters.configuration)
        self.callbackBase = callbackBase
        self.client = client
        self.log = log
    }

    /// Starts connecting and reporting.
    func start() {
        task.withLock { slot in
            guard slot == nil else { return }
            slot = Task { await self.run() }
        }
    }

    /// Also reports events of `type` from now on.
    func listen(to type: String) {
        _ = listenedTypes.withLock { $0.insert(type) }
    }

    /// Drops the connection and reconnects at once, reporting no error.
    func restart() {
        source.reconnect()
    }

    /// Closes the client, stops reporting (a callback in flight is abandoned), and returns once the
    /// consuming task has ended.
    func close() async {
        source.close()
        let task = task.withLock { $0 }
        task?.cancel()
        await task?.value
    }

    /// Returns once the stream has ended by itself (a 204, a fatal error) or was closed.
    func waitUntilFinished() async {
        let task = task.withLock { $0 }
        await task?.value
    }

    private func run() async {
        var sender = CallbackSender(
            base: callbackBase, client: client, log: { [id, log] in log("stream \(id): \($0)") })
        // The failure last reported, so that the error that ends the source is not reported twice
        // (a fatal failure is both a `disconnected` state and the error the sequence throws).
        var reportedFailure: EventSourceError?
        // Whether the current connection attempt got an event stream. An attempt that ends
        // cleanly without one and is retried failed all the same: SSEClient treats an unfollowed
        // redirect with an empty `Location` that way (it reconnects without reporting a failure),
        // and the harness expects an error for it. (A 204 also ends without a stream, but finishes.)
        var opened = false
        do {
            for try await update in source.updates {
                switch update {
                case .state(.connecting):
                    opened = false
                case .state(.open):
                    opened = true
                case .state(.waitingToReconnect(_, _, reason: .endOfStream)) where !opened:
                    await sender.send(.error("connection to \(source.url) ended without an event stream"))
                case .event(let event):
                    if listenedTypes.withLock({ $0.contains(event.type) }) {
                        await sender.send(.event(event))
                    }
                case .comment(let text):
                    await sender.send(.comment(text))
                case .state(.disconnected(.failure(let error))):
                    reportedFailure = error
                    await sender.send(.error(error.description))
                case .state, .retry:
                    break
                }
            }
            log("stream \(id): ended")
        } catch {
            if error != reportedFailure {
                await sender.send(.error(error.description))
            }
            log("stream \(id): ended with \(error)")
        }
    }
}

/// Posts callbacks to `<base>/1`, `<base>/2`, … one at a time.
struct CallbackSender {
    let base: HTTPURL
    let client: HTTPClient
    let log: @Sendable (String) -> Void
    /// The number of the next callback.
    private(set) var next = 1

    init(base: HTTPURL, client: HTTPClient, log: @escaping @Sendable (String) -> Void) {
        self.base = base
        self.client = client
        self.log = log
    }

    /// Posts `message` as the next callback and waits for the answer. A callback that fails is
    /// logged and not retried; its number is used up all the same.
    mutating func send(_ message: CallbackMessage) async {
        let number = next
        next += 1
        let url = base.appendingPathComponent(String(number))
        let request = HTTPRequestMessage(
            method: "POST", target: url.target, headers: ["Content-Type": "application/json"], body: message.json)
        do {
            let response = try await client.send(request, to: url)
            if !(200..<300).contains(response.status) {
                log("callback \(number) to \(url) was answered \(response.status)")
            }
        } catch is CancellationError {
            return
        } catch {
            log("callback \(number) to \(url) failed: \(error)")
        }
    }
}
