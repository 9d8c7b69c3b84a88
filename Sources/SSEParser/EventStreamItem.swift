/// Something an ``EventStreamParser`` read from a stream, in the order it occurred.
public enum EventStreamItem: Sendable, Hashable {
    /// A dispatched event: a block with at least one `data` field ended with a blank line.
    case event(ServerSentEvent)

    /// A comment line (one starting with `:`), with the text after the colon exactly as sent.
    ///
    /// Comments never dispatch events; servers send them as heartbeats to keep a connection
    /// alive, so clients use them to reset an idle timer.
    case comment(String)

    /// A `retry:` field with a valid value: the server's new reconnection time.
    case retry(Duration)
}
