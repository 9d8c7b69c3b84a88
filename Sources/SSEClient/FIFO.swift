extension Optional {
    /// Returns the value and leaves `nil` behind.
    mutating func take() -> Wrapped? {
        defer { self = nil }
        return self
    }
}

/// A first-in first-out queue that does not shift elements on removal.
struct FIFO<Element> {
    private var storage: [Element?] = []
    private var head = 0

    var isEmpty: Bool { head == storage.count }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    /// Removes and returns the last element (moved out, so a buffer stays uniquely referenced).
    mutating func popLast() -> Element? {
        guard head < storage.count else { return nil }
        return storage.removeLast()
    }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        // Moved out, so a buffer handed on is uniquely referenced.
        let element = storage[head].take()
        head += 1
        compactIfNeeded()
        return element
    }

    mutating func removeAll() {
        storage.removeAll()
        head = 0
    }

    private mutating func compactIfNeeded() {
        if head == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= 4096)
            head = 0
        } else if head > 1024 && head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}
extension FIFO: Sendable where Element: Sendable {}
