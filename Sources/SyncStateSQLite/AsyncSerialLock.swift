import Synchronization

/// Lets one task at a time run a critical section, in arrival order, without blocking a thread
/// while it waits. Taking a free lock and giving it back are a few atomic operations on the
/// caller's thread; only a task that finds the lock taken is suspended.
final class AsyncSerialLock: Sendable {
    private struct State {
        var isLocked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        /// Index of the next waiter in `waiters` (removing from the front of an array is O(n)).
        var next = 0
    }

    private let state = Mutex(State())

    func withLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        let taken = state.withLock { state in
            if state.isLocked { return false }
            state.isLocked = true
            return true
        }
        if taken { return }
        await withCheckedContinuation { continuation in
            let free = state.withLock { state in
                if !state.isLocked {
                    state.isLocked = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if free { continuation.resume() }
        }
    }

    private func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.next < state.waiters.count else {
                state.waiters.removeAll(keepingCapacity: true)
                state.next = 0
                state.isLocked = false
                return nil
            }
            // The lock passes straight to the next waiter. Waiters already handed the lock are
            // dropped once they are half the list, so a lock that is never free for long does
            // not keep every continuation it ever queued.
            let waiter = state.waiters[state.next]
            state.next += 1
            if state.next >= 32, state.next * 2 >= state.waiters.count {
                state.waiters.removeFirst(state.next)
                state.next = 0
            }
            return waiter
        }
        waiter?.resume()
    }
}
