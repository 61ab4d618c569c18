import Hummingbird
import NIOCore
import Synchronization

/// A request body that arrives slower than the configured minimum rate: 408, the connection
/// closes. Without it a client trickling a byte before each idle timeout (slow-loris) would
/// hold a connection and a task for as long as the body limit allows.
struct UploadTooSlow: Error {}

/// A request body larger than the limit: 413.
struct UploadTooLarge: Error {}

/// Bytes received so far, shared between the reading task and the rate watch.
private final class UploadProgress: Sendable {
    let bytes = Mutex(0)
}

enum UploadReader {
    /// The whole body, refusing more than `limit` bytes, and refusing a body whose average rate
    /// after `grace` falls below `minimumRate` bytes per second (0: no minimum).
    static func collect(_ body: RequestBody, upTo limit: Int, minimumRate: Int, grace: Duration) async throws -> ByteBuffer {
        guard minimumRate > 0 else { return try await read(body, upTo: limit, progress: nil) }
        let received = UploadProgress()
        return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask { try await read(body, upTo: limit, progress: received) }
            group.addTask {
                let start = ContinuousClock.now
                try await Task.sleep(for: grace)
                while true {
                    let elapsed = ContinuousClock.now - start
                    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                    if Double(received.bytes.withLock { $0 }) < seconds * Double(minimumRate) { throw UploadTooSlow() }
                    try await Task.sleep(for: .seconds(1))
                }
            }
            defer { group.cancelAll() }
            while let finished = try await group.next() {
                if let buffer = finished { return buffer }
            }
            throw UploadTooSlow()
        }
    }

    private static func read(_ body: RequestBody, upTo limit: Int, progress: UploadProgress?) async throws -> ByteBuffer {
        var collected = ByteBuffer()
        for try await part in body {
            guard collected.readableBytes + part.readableBytes <= limit else { throw UploadTooLarge() }
            var part = part
            collected.writeBuffer(&part)
            let count = collected.readableBytes
            progress?.bytes.withLock { $0 = count }
        }
        return collected
    }
}
