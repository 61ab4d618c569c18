internal import CEtPanStream
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// Waits for many sockets to become readable on one thread (epoll), so that an account in
/// IMAP IDLE holds a descriptor and a few hundred bytes, not a thread.
final class ReadinessMonitor: @unchecked Sendable {
    // @unchecked Sendable: `waiting` is only touched under `lock`; the epoll descriptors are
    // thread-safe by the kernel's contract.
    private let epoll: Int32
    private let wakeup: Int32
    private let lock = NIOLock()
    private var waiting: [Int32: CheckedContinuation<Bool, Never>] = [:]
    private var running = true

    init() {
        var wake: Int32 = -1
        epoll = airgate_poller_create(&wake)
        wakeup = wake
        precondition(epoll >= 0, "epoll/eventfd unavailable: errno \(errno)")
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self)
        let created = pthread_create(&thread, nil, { argument in
            let monitor = Unmanaged<ReadinessMonitor>.fromOpaque(argument!).takeRetainedValue()
            monitor.loop()
            return nil
        }, box.toOpaque())
        precondition(created == 0, "cannot start the readiness thread")
        pthread_detach(thread)
    }

    /// Stops the thread; pending waits end as not readable.
    func shutdown() {
        let pending = lock.withLock {
            running = false
            defer { waiting.removeAll() }
            return Array(waiting.values)
        }
        airgate_poller_wake(wakeup)
        for continuation in pending { continuation.resume(returning: false) }
    }

    /// True when `fd` is readable; false when the task was cancelled or the monitor stopped.
    func waitReadable(_ fd: Int32) async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let registered: Bool = lock.withLock {
                    guard running, !Task.isCancelled, waiting[fd] == nil else { return false }
                    guard airgate_poller_add(epoll, fd) == 0 else { return false }
                    waiting[fd] = continuation
                    return true
                }
                if !registered { continuation.resume(returning: false) }
            }
        } onCancel: {
            finish(fd, readable: false)
        }
    }

    private func finish(_ fd: Int32, readable: Bool) {
        let continuation: CheckedContinuation<Bool, Never>? = lock.withLock {
            guard let continuation = waiting.removeValue(forKey: fd) else { return nil }
            airgate_poller_remove(epoll, fd)
            return continuation
        }
        continuation?.resume(returning: readable)
    }

    private func loop() {
        var ready = [Int32](repeating: -1, count: 64)
        while lock.withLock({ running }) {
            let count = airgate_poller_wait(epoll, &ready, Int32(ready.count), -1)
            guard count >= 0 else { break }
            for index in 0..<Int(count) {
                let fd = ready[index]
                if fd == wakeup {
                    var value: UInt64 = 0
                    _ = read(wakeup, &value, 8)
                    continue
                }
                finish(fd, readable: true)
            }
        }
        close(epoll)
        close(wakeup)
    }
}
