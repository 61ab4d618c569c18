internal import CEtPan
import Dispatch
import MailUpstream
import NIOConcurrencyHelpers

/// Receives a FETCH literal chunk by chunk from libetpan's body handler.
private final class SectionSink {
    let consume: ([UInt8]) throws -> Void
    var total = 0
    var error: (any Error)?

    init(_ consume: @escaping ([UInt8]) throws -> Void) {
        self.consume = consume
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
                try sink.consume(Array(UnsafeRawBufferPointer(start: bytes, count: length)))
                sink.total += length
                return true
            } catch {
                sink.error = error
                return false
            }
        }, context)
        defer { mailimap_set_msg_body_handler(rawSession, nil, nil) }
        do {
            _ = try fetchSection(uid: uid, section: section, range: range, streamed: true)
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
    // @unchecked Sendable: `cancelled` is guarded by `lock`; DispatchSemaphore is thread-safe.
    private let slots: DispatchSemaphore
    private let capacity: Int
    private let lock = NIOLock()
    private var cancelled = false

    init(capacity: Int) {
        self.capacity = capacity
        slots = DispatchSemaphore(value: capacity)
    }

    /// Called by the producer before handing over a chunk; throws once the consumer is gone.
    func acquire(timeout: Duration) throws {
        let (seconds, attoseconds) = timeout.components
        let deadline = DispatchTime.now() + .nanoseconds(Int(seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
        guard slots.wait(timeout: deadline) == .success else {
            throw UpstreamError(.unavailable, "the reader stopped taking data")
        }
        if lock.withLock({ cancelled }) { throw CancellationError() }
    }

    /// Called by the consumer after taking a chunk.
    func release() { slots.signal() }

    /// The consumer is gone: wake a blocked producer.
    func cancel() {
        lock.withLock { cancelled = true }
        for _ in 0..<capacity { slots.signal() }
    }
}
