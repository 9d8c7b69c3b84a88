import Testing

@testable import SSEClient

/// The life cycle of a source as a pure state machine: no sockets, no sleeps, no clocks.
@Suite("EventSource state machine")
struct EventSourceStateMachineTests {
    final class Transfer: CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        var description: String { name }
    }

    typealias Machine = EventSource.StateMachine<Transfer, Int>

    private func machine(
        _ policy: ReconnectPolicy = ReconnectPolicy(jitter: 0),
        endOfStream: EventSource.EndOfStreamPolicy = .reconnect,
        mayRepeatRequest: Bool = true,
        maximumQueuedBytes: Int = 1 << 20
    ) -> Machine {
        Machine(
            reconnects: ReconnectStateMachine(
                policy: policy, mayRepeatRequest: mayRepeatRequest, endOfStream: endOfStream, url: "http://x/"),
            lastEventID: "",
            maximumQueuedBytes: maximumQueuedBytes
        )
    }

    /// Starts the first attempt and hands the machine `transfer`, added to the driver.
    private func running(_ machine: inout Machine, _ transfer: Transfer) {
        guard case .start = machine.iteratorMade() else {
            Issue.record("the first iterator should start the source")
            return
        }
        #expect(machine.transferPrepared(transfer) == .add)
        #expect(machine.transferAdded() == nil)
    }

    private func receive(_ machine: inout Machine, _ text: String, from transfer: Transfer) -> Machine.ReceiveAction {
        Array(text.utf8).withUnsafeBytes { machine.received($0, transfer: transfer) }
    }

    /// Takes everything queued and returns what the consumer would see of it.
    private func drain(_ machine: inout Machine) -> [String] {
        guard case .entries(let entries, _) = machine.take(budget: .max) else { return [] }
        return entries.map { entry in
            switch entry {
            case .bytes(let bytes): "bytes \(bytes.count)"
            case .update(.state(.connecting(let attempt, let id))): "connecting \(attempt) '\(id)'"
            case .update(.state(.open(let head))): "open \(head.status)"
            case .update(let update): "\(update)"
            case .ended(let ending, _): "ended \(ending.reason)"
            }
        }
    }

    private let head = ResponseHead(status: 200, headers: [HTTPHeader("Content-Type", "text/event-stream")], url: "")

    // MARK: The race of the old design: a stop between "start the transfer" and the driver's add.

    @Test("close while the transfer is being added: the abort comes after the add, never before")
    func closeWhileStarting() {
        var machine = machine()
        guard case .start = machine.iteratorMade() else {
            Issue.record("no start")
            return
        }
        let transfer = Transfer("first")
        #expect(machine.transferPrepared(transfer) == .add)
        // close() runs before the caller has told the driver about the transfer.
        let close = machine.close()
        #expect(close?.abort == nil, "no abort may be sent for a transfer the driver does not know yet")
        // The caller has now added it: the machine hands it back to be aborted.
        #expect(machine.transferAdded() === transfer)
        #expect(machine.take(budget: .max) == .ended(nil))
    }

    @Test("reconnect while the transfer is being added: aborted after the add, then it ends as a restart")
    func restartWhileStarting() {
        var machine = machine()
        guard case .start = machine.iteratorMade() else {
            Issue.record("no start")
            return
        }
        let transfer = Transfer("first")
        #expect(machine.transferPrepared(transfer) == .add)
        #expect(machine.restart() == .none)
        #expect(machine.transferAdded() === transfer)
        // libcurl reports the abort; the recorded stop says why.
        #expect(machine.transferCompleted(transfer, as: .closed, at: 0) == nil)
        #expect(drain(&machine) == ["connecting 0 ''", "ended a reconnect was requested"])
        let action = machine.settled(.init(ending: .restart, openDuration: .zero, deliveredEvent: false), now: .zero)
        #expect(action == .reconnect(reason: .restart, delay: .zero, attempt: 0))
        #expect(machine.delayElapsed()?.0 == .init(attempt: 0, lastEventID: "", isContinuation: true))
    }

    @Test("close while the request is being prepared: the transfer made afterwards is discarded unstarted")
    func closeWhilePreparing() {
        var machine = machine()
        guard case .start = machine.iteratorMade() else {
            Issue.record("no start")
            return
        }
        let close = machine.close()
        #expect(close?.cancelPending == true)
        #expect(close?.abort == nil)
        #expect(machine.transferPrepared(Transfer("late")) == .discard)
        #expect(machine.transferAdded() == nil)
    }

    @Test("close while an added transfer runs aborts it at once; its completion is then ignored")
    func closeWhileRunning() {
        var machine = machine()
        let transfer = Transfer("first")
        running(&machine, transfer)
        #expect(machine.close()?.abort === transfer)
        #expect(machine.transferCompleted(transfer, as: .closed, at: 0) == nil)
        #expect(machine.take(budget: .max) == .ended(nil))
        #expect(machine.close() == nil, "close is idempotent")
    }

    // MARK: Waiting before a reconnect

    @Test("close while sleeping before a reconnect cancels the sleep, and no attempt follows")
    func closeWhileSleeping() {
        var machine = machine()
        let transfer = Transfer("first")
        running(&machine, transfer)
        _ = machine.transferCompleted(transfer, as: .endOfStream, at: 0)
        _ = drain(&machine)
        let action = machine.settled(
            .init(ending: .endOfStream, openDuration: .zero, deliveredEvent: false), now: .zero)
        #expect(action == .reconnect(reason: .endOfStream, delay: .seconds(1), attempt: 1))
        #expect(machine.close()?.cancelPending == true)
        #expect(machine.delayElapsed() == nil)
    }

    @Test("reconnect while sleeping cuts the delay short; the attempt keeps its number")
    func restartWhileSleeping() {
        var machine = machine()
        let transfer = Transfer("first")
        running(&machine, transfer)
        _ = machine.transferCompleted(transfer, as: .endOfStream, at: 0)
        _ = drain(&machine)
        _ = machine.settled(.init(ending: .endOfStream, openDuration: .zero, deliveredEvent: false), now: .zero)
        #expect(machine.restart() == .cancelDelay)
        #expect(machine.delayElapsed()?.0.attempt == 1)
    }

    @Test("reconnect while a connection's end is being settled: the next attempt starts at once")
    func restartWhileEnding() {
        var machine = machine()
        let transfer = Transfer("first")
        running(&machine, transfer)
        _ = machine.transferCompleted(transfer, as: .endOfStream, at: 0)
        #expect(machine.restart() == .none)
        _ = drain(&machine)
        let action = machine.settled(
            .init(ending: .endOfStream, openDuration: .zero, deliveredEvent: false), now: .zero)
        #expect(action == .reconnect(reason: .endOfStream, delay: .zero, attempt: 0))
    }

    // MARK: The consumer

    @Test("a second iterator is rejected at once; the first carries on")
    func secondIterator() {
        var machine = machine()
        guard case .start = machine.iteratorMade() else {
            Issue.record("no start")
            return
        }
        #expect(machine.iteratorMade() == .reject)
        #expect(machine.transferPrepared(Transfer("first")) == .add)
    }

    @Test("a source closed before it was iterated starts nothing")
    func closedBeforeIterated() {
        var machine = machine()
        #expect(machine.close()?.wasRunning == false)
        #expect(machine.iteratorMade() == .none)
        #expect(machine.take(budget: .max) == .ended(nil))
    }

    @Test("the waiting consumer is woken by bytes, by the end of a transfer, and by close")
    func wakeUps() {
        var machine = machine()
        let transfer = Transfer("first")
        running(&machine, transfer)
        _ = drain(&machine)
        #expect(machine.take(budget: .max) == .wait)
        #expect(machine.waitForMore(1, cancelled: false) == true)
        #expect(receive(&machine, "data: a\n\n", from: transfer) == .accepted(wake: 1))
        _ = drain(&machine)
        #expect(machine.waitForMore(2, cancelled: false) == true)
        #expect(machine.transferCompleted(transfer, as: .endOfStream, at: 0) == 2)
        _ = drain(&machine)
        _ = machine.settled(.init(ending: .endOfStream, openDuration: .zero, deliveredEvent: true), now: .zero)
        #expect(machine.waitForMore(3, cancelled: false) == true)
        #expect(machine.close()?.wake == 3)
    }

    @Test("a cancelled consumer does not park: it goes on to close the source")
    func cancelledConsumer() {
        var machine = machine()
        running(&machine, Transfer("first"))
        _ = drain(&machine)
        #expect(machine.waitForMore(1, cancelled: true) == false)
    }

    @Test("a full queue pauses the transfer; taking half of it resumes the transfer")
    func pauseAndResume() {
        var machine = machine(maximumQueuedBytes: 10)
        let transfer = Transfer("first")
        running(&machine, transfer)
        _ = drain(&machine)
        #expect(receive(&machine, "0123456789", from: transfer) == .accepted(wake: nil))
        #expect(receive(&machine, "x", from: transfer) == .pause)
        #expect(machine.metrics.pauses == 1)
        guard case .entries(_, let resume) = machine.take(budget: 5) else {
            Issue.record("nothing to take")
            return
        }
        #expect(resume === transfer)
        // Resumed once only.
        #expect(receive(&machine, "y", from: transfer) == .accepted(wake: nil))
        guard case .entries(_, let again) = machine.take(budget: .max) else {
            Issue.record("nothing to take")
            return
        }
        #expect(again == nil)
    }

    // MARK: Endings

    @Test("a 204 ends the source normally; a request-scoped stream finishes at its end")
    func endings() {
        var machine = machine()
        let transfer = Transfer("first")
        running(&machine, transfer)
        machine.stopRequested(.finishedByServer(status: 204), transfer: transfer)
        // The head callback aborted it; the recorded stop says how it ended.
        _ = machine.transferCompleted(transfer, as: .closed, at: 0)
        #expect(drain(&machine).last == "ended the server answered 204 No Content: the stream is over")
        let action = machine.settled(
            .init(ending: .finishedByServer(status: 204), openDuration: .zero, deliveredEvent: false), now: .zero)
        #expect(action == .finish(reason: .finishedByServer(status: 204), error: nil))
        #expect(machine.take(budget: .max) == .ended(nil))

        var scoped = self.machine(endOfStream: .finish)
        let post = Transfer("post")
        running(&scoped, post)
        _ = scoped.transferCompleted(post, as: .endOfStream, at: 0)
        _ = drain(&scoped)
        let end = scoped.settled(.init(ending: .endOfStream, openDuration: .zero, deliveredEvent: true), now: .zero)
        #expect(end == .finish(reason: .endOfStream, error: nil))
    }

    @Test("an event too large stops the transfer and ends the source with that error")
    func eventTooLarge() {
        var machine = machine()
        let transfer = Transfer("first")
        running(&machine, transfer)
        let error = EventSourceError.eventTooLarge(limit: 10, url: "http://x/")
        #expect(machine.consumerStopped(.fatal(error)) === transfer)
        #expect(receive(&machine, "more", from: transfer) == .discarded)
        _ = machine.transferCompleted(transfer, as: .closed, at: 0)
        #expect(drain(&machine).last == "ended \(DisconnectReason.failure(error))")
        let action = machine.settled(
            .init(ending: .fatal(error), openDuration: .zero, deliveredEvent: false), now: .zero)
        #expect(action == .finish(reason: .failure(error), error: error))
        #expect(machine.take(budget: .max) == .ended(error))
    }

    @Test("the open duration runs from the response head to the end of the transfer")
    func openDuration() {
        var machine = machine()
        let transfer = Transfer("first")
        running(&machine, transfer)
        #expect(machine.responseOpened(head, transfer: transfer, at: 1_000) != nil)
        _ = machine.transferCompleted(transfer, as: .endOfStream, at: 2_500_001_000)
        guard case .entries(let entries, _) = machine.take(budget: .max),
            case .ended(_, let openDuration) = entries.last
        else {
            Issue.record("no end queued")
            return
        }
        #expect(openDuration == .milliseconds(2500))
    }

    @Test("a stale transfer's callbacks change nothing")
    func staleTransfer() {
        var machine = machine()
        let transfer = Transfer("first")
        running(&machine, transfer)
        let stranger = Transfer("stranger")
        #expect(receive(&machine, "data: x\n\n", from: stranger) == .discarded)
        #expect(machine.transferCompleted(stranger, as: .endOfStream, at: 0) == nil)
        #expect(machine.responseOpened(head, transfer: stranger, at: 0) == nil)
    }
}

extension EventSource.StateMachine {
    fileprivate mutating func settled(_ settlement: Settlement, now: Duration) -> SettleAction {
        settled(settlement, now: now, random: 0)
    }
}

// Transfers compare by identity, continuations (here plain numbers) by value.
extension EventSource.StateMachine.TakeAction: Equatable where Waiter: Equatable {
    /// Equal when of the same kind with the same transfer (by identity) and waiter.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.wait, .wait): true
        case (.ended(let a), .ended(let b)): a == b
        case (.entries(let a, let x), .entries(let b, let y)): a.count == b.count && x === y
        default: false
        }
    }
}

extension EventSource.StateMachine.ReceiveAction: Equatable where Waiter: Equatable {
    /// Equal when of the same kind with the same transfer (by identity) and waiter.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.accepted(let a), .accepted(let b)): a == b
        case (.pause, .pause), (.discarded, .discarded): true
        default: false
        }
    }
}

extension EventSource.StateMachine.RestartAction: Equatable {
    /// Equal when of the same kind with the same transfer (by identity) and waiter.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.abort(let a), .abort(let b)): a === b
        case (.cancelDelay, .cancelDelay), (.none, .none): true
        default: false
        }
    }
}
