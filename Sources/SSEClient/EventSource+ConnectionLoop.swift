import Logging
import SSEParser

extension EventSource {
    /// Connects, waits for each connection to end, and reconnects as ``ReconnectStateMachine``
    /// decides, until the source finishes, fails or is closed. The one place effects of the
    /// reconnect decisions are carried out.
    func runConnectionLoop() async {
        var machine = ReconnectStateMachine(
            policy: configuration.reconnect,
            mayRepeatRequest: configuration.mayRepeatRequest,
            endOfStream: configuration.endOfStream,
            url: url
        )
        var attempt = 0
        let clock = ContinuousClock()
        let start = clock.now

        while !storage.isClosed {
            let lastEventID = storage.lastEventID
            storage.updateMetrics { $0.connections += 1 }
            storage.emit(.connecting(attempt: attempt, lastEventID: lastEventID))
            logger.debug(
                "connecting",
                metadata: ["url": "\(url)", "attempt": "\(attempt)", "last-event-id": "\(lastEventID)"]
            )

            var request = Request(
                url: url,
                method: configuration.method,
                headers: requestHeaders(lastEventID: lastEventID),
                body: configuration.body,
                attempt: attempt
            )
            if let prepare = hooks.prepareRequest {
                do {
                    request = try await prepare(request)
                } catch {
                    fail(EventSourceError(.invalidRequest("the request hook failed: \(error)"), url: url))
                    return
                }
            }

            let connection = Connection(source: self)
            guard storage.setConnection(connection) else { break }
            var (outcome, openDuration) = await connection.run(transferRequest(for: request))
            _ = storage.setConnection(nil)
            // The consumer may not have parsed all of it yet: what the next request needs
            // (the last event ID, the server's `retry:`) is in the bytes.
            let settled = storage.settleConnection()
            if let serverRetry = settled.serverRetry { machine.serverRequestedRetry(serverRetry) }
            if let failure = settled.failure { outcome = .fatal(failure) }
            let summary = ReconnectStateMachine.Summary(
                deliveredEvent: settled.deliveredEvent, openDuration: openDuration)

            let ending: ReconnectStateMachine.Ending
            switch outcome {
            case .closed:
                storage.finish(nil)
                return
            case .finished(let status):
                logger.debug("finished by the server", metadata: ["url": "\(url)", "status": "\(status)"])
                storage.emit(.disconnected(.finishedByServer(status: status)))
                storage.finish(nil)
                return
            case .fatal(let error):
                storage.emit(.disconnected(.failure(error)))
                fail(error)
                return
            case .ended(let how):
                ending = how
            }

            let reason: DisconnectReason
            switch ending {
            case .endOfStream: reason = .endOfStream
            case .restart: reason = .restart
            case .failure(let error, _):
                reason = .failure(error)
                storage.updateMetrics { $0.lastError = error }
            }
            storage.emit(.disconnected(reason))

            let decision = machine.decide(
                after: ending,
                summary: summary,
                now: clock.now - start,
                random: hooks.random()
            )
            switch decision {
            case .finish:
                storage.finish(nil)
                return
            case .fail(let error):
                fail(error)
                return
            case .reconnect(let delay, let nextAttempt):
                attempt = nextAttempt
                storage.updateMetrics { $0.reconnects[reason.cause, default: 0] += 1 }
                logger.debug(
                    "reconnecting",
                    metadata: ["url": "\(url)", "delay": "\(delay)", "attempt": "\(attempt)", "reason": "\(reason)"]
                )
                storage.emit(.waitingToReconnect(delay: delay, attempt: attempt, reason: reason))
                await storage.waitBeforeReconnect(delay, sleep: hooks.sleep)
            }
        }
        storage.finish(nil)
    }

    private func fail(_ error: EventSourceError) {
        logger.debug("failed", metadata: ["url": "\(url)", "error": "\(error)"])
        storage.finish(error)
    }

    /// The headers every connection sends: the standard's, the configured ones, `Last-Event-ID`.
    func requestHeaders(lastEventID: String) -> [HTTPHeader] {
        var headers: [HTTPHeader] = []
        let configured = configuration.headers.filter { $0.name.lowercased() != "last-event-id" }
        if configured.value(for: "Accept") == nil {
            headers.append(HTTPHeader("Accept", "text/event-stream"))
        }
        if configured.value(for: "Cache-Control") == nil {
            headers.append(HTTPHeader("Cache-Control", "no-cache"))
        }
        headers += configured
        if !lastEventID.isEmpty {
            headers.append(HTTPHeader("Last-Event-ID", lastEventID))
        }
        return headers
    }

    private func transferRequest(for request: Request) -> TransferRequest {
        TransferRequest(
            url: request.url,
            method: request.method,
            headers: request.headers,
            body: request.body,
            connectTimeout: configuration.connectTimeout,
            tls: configuration.tls,
            acceptsCompression: configuration.acceptsCompression,
            maximumRedirects: configuration.maximumRedirects,
            userAgent: configuration.userAgent,
            idleTimeout: configuration.idleTimeout
        )
    }
}
