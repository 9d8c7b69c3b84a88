import Synchronization

/// The streams the harness created and has not deleted yet, by instance number.
final class StreamRegistry: Sendable {
    private struct State {
        var nextID = 1
        var streams: [Int: StreamInstance] = [:]
        var isStopping = false
    }

    private let state = Mutex(State())

    /// Registers a stream made by `make` with the next instance number.
    ///
    /// - Throws: ``ContractServiceError/stopping`` once ``removeAll()`` was called.
    func add(_ make: (Int) -> StreamInstance) throws -> StreamInstance {
        try state.withLock { state in
            guard !state.isStopping else { throw ContractServiceError.stopping }
            let id = state.nextID
            state.nextID += 1
            let stream = make(id)
            state.streams[id] = stream
            return stream
        }
    }

    /// The stream numbered `id`, if it exists.
    func stream(_ id: Int) -> StreamInstance? {
        state.withLock { $0.streams[id] }
    }

    /// Unregisters and returns the stream numbered `id`, if it exists.
    func remove(_ id: Int) -> StreamInstance? {
        state.withLock { $0.streams.removeValue(forKey: id) }
    }

    /// Unregisters and returns every stream, and refuses new ones from now on.
    func removeAll() -> [StreamInstance] {
        state.withLock { state in
            state.isStopping = true
            defer { state.streams.removeAll() }
            return Array(state.streams.values)
        }
    }
}
