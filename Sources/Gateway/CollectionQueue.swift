import Synchronization

/// Puts the requests for one key in line, in arrival order, without blocking a thread: a
/// second Sync of a collection waits until the first is answered and then finds its key as
/// the previous one (a replay), not moved away under it.
///
/// Only keys in use are kept: an entry goes when its last request leaves.
final class CollectionQueue<Key: Hashable & Sendable>: Sendable {
    /// Present while a request holds the key; the waiters behind it, first come first.
    private let lines = Mutex<[Key: [CheckedContinuation<Void, Never>]]>([:])

    /// Returns when `key` is this caller's; `leave(_:)` must follow.
    func enter(_ key: Key) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let free = lines.withLock { lines -> Bool in
                if lines[key] == nil {
                    lines[key] = []
                    return true
                }
                lines[key]!.append(continuation)
                return false
            }
            if free { continuation.resume() }
        }
    }

    /// Hands `key` to the next waiter, or frees it.
    func leave(_ key: Key) {
        let next = lines.withLock { lines -> CheckedContinuation<Void, Never>? in
            guard var waiting = lines[key] else { return nil }
            if waiting.isEmpty {
                lines[key] = nil
                return nil
            }
            let first = waiting.removeFirst()
            lines[key] = waiting
            return first
        }
        next?.resume()
    }

    /// Runs `body` holding `key`.
    func inLine<T>(_ key: Key, _ body: () async throws -> T) async rethrows -> T {
        await enter(key)
        defer { leave(key) }
        return try await body()
    }

    /// Keys held or waited for now.
    var count: Int { lines.withLock { $0.count } }
}
