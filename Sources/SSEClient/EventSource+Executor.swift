extension EventSource {
    /// The task executor of the I/O thread that every event source shares: a consumer task that
    /// prefers it receives each event on the thread that read it, with no hand-over to Swift's
    /// global concurrent pool.
    ///
    /// Handing an event from the I/O thread to a task on the global pool wakes one of its threads
    /// for every event when streams are mostly idle. A consumer that prefers this executor runs
    /// right after the read instead, which costs less CPU per event and has lower latency; it
    /// suits many light consumers, such as a load generator or a fan-out that only counts,
    /// forwards or stores each event:
    ///
    /// ```swift
    /// Task(executorPreference: EventSource.ioExecutor) {
    ///     for try await event in source.events { counter.add(event) }
    /// }
    /// ```
    ///
    /// While such a task runs, no stream of the process is read: one that blocks or computes for
    /// long stalls every source, and their idle timeouts keep running. Do heavy work elsewhere
    /// (an actor, or a task without this preference). Actor-isolated code still runs on its
    /// actor; only nonisolated code follows the preference.
    public static var ioExecutor: any TaskExecutor { CurlDriver.shared }
}
