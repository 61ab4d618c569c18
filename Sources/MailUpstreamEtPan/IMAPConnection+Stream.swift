internal import CEtPan
import MailUpstream

#if canImport(Glibc)
import Glibc
#endif

/// Receives a FETCH literal from libetpan's body handler and passes it on in chunks of
/// `chunkSize`: libetpan hands over what one socket read gave (a few KB), and each hand-over
/// to the consumer costs a thread hop.
private final class SectionSink {
    static let chunkSize = 256 * 1024
    let consume: ([UInt8]) throws -> Void
    var pending: [UInt8] = []
    var total = 0
    var error: (any Error)?

    init(_ consume: @escaping ([UInt8]) throws -> Void) {
        self.consume = consume
    }

    func take(_ bytes: UnsafeRawBufferPointer) throws {
        if pending.capacity < Self.chunkSize { pending.reserveCapacity(Self.chunkSize) }
        pending.append(contentsOf: bytes)
        total += bytes.count
        if pending.count >= Self.chunkSize { try flush() }
    }

    func flush() throws {
        guard !pending.isEmpty else { return }
        let chunk = pending
        pending = []
        try consume(chunk)
    }
}

extension IMAPConnection {
    /// `UID FETCH uid BODY.PEEK[section]<…>`, handing the literal to `consume` as it arrives
    /// from the network instead of collecting it. Returns the number of bytes.
    func streamSection(uid: UInt32, section: String?, range: Range<Int>?, consume: @escaping ([UInt8]) throws -> Void) throws
        -> Int
    {
        let sink = SectionSink(consume)
        let context = Unmanaged.passUnretained(sink).toOpaque()
        mailimap_set_msg_body_handler(rawSession, { _, _, bytes, length, context in
            let sink = Unmanaged<SectionSink>.fromOpaque(context!).takeUnretainedValue()
            guard sink.error == nil else { return false }
            do {
                try sink.take(UnsafeRawBufferPointer(start: bytes, count: length))
                return true
            } catch {
                sink.error = error
                return false
            }
        }, context)
        defer { mailimap_set_msg_body_handler(rawSession, nil, nil) }
        do {
            _ = try fetchSection(uid: uid, section: section, range: range, streamed: true)
            try sink.flush()
        } catch {
            if let consumerError = sink.error {
                // libetpan gave up reading in the middle of a literal: the session is lost.
                markBroken()
                throw consumerError
            }
            throw error
        }
        return withExtendedLifetime(sink) { sink.total }
    }
}

/// Back-pressure between a producer thread and an async consumer: the producer blocks while
/// `capacity` chunks are waiting, and stops when the consumer goes away.
final class ChunkGate: @unchecked Sendable {
    // @unchecked Sendable: `available` and `cancelled` are only touched with `mutex` held; the
    // mutex and condition live as long as the gate.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var available: Int
    private var cancelled = false

    init(capacity: Int) {
        available = capacity
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Called by the producer before handing over a chunk; throws once the consumer is gone or
    /// has not taken anything for `timeout`.
    func acquire(timeout: Duration) throws {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let (seconds, attoseconds) = timeout.components
        deadline.tv_sec += Int(seconds)
        deadline.tv_nsec += Int(attoseconds / 1_000_000_000)
        if deadline.tv_nsec >= 1_000_000_000 {
            deadline.tv_sec += 1
            deadline.tv_nsec -= 1_000_000_000
        }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while available == 0, !cancelled {
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT, available == 0, !cancelled {
                throw UpstreamError(.unavailable, "the reader stopped taking data")
            }
        }
        if cancelled { throw CancellationError() }
        available -= 1
    }

    /// Called by the consumer after taking a chunk.
    func release() {
        pthread_mutex_lock(mutex)
        available += 1
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// The consumer is gone: wake a blocked producer for good.
    func cancel() {
        pthread_mutex_lock(mutex)
        cancelled = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }
}
