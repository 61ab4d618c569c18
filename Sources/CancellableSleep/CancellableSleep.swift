import Dispatch
import Synchronization

/// Waits for `duration`, or less if the task is cancelled; never throws.
///
/// For waits that are usually cut short: a held Ping's heartbeat, a Sync's Wait, a
/// connection wait. `Task.sleep` keeps its timer, about 0.8 KB, until the deadline even when
/// the sleeping task is cancelled at once, so a gateway answering a few hundred Pings a second
/// before their 15-minute heartbeats ran out held tens of megabytes of dead timers. The timer
/// here is cancelled, and freed, with the task.
public func sleepUnlessCancelled(for duration: Duration) async {
    guard duration > .zero, !Task.isCancelled else { return }
    let wake = Wake()
    let timer = CancellableTimer(after: duration) { wake.fire() }
    await withTaskCancellationHandler {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if !wake.arm(continuation) { continuation.resume() }
        }
    } onCancel: {
        wake.fire()
    }
    timer.cancel()
}

/// Calls `fire` once after `duration` unless cancelled first; cancelling frees the timer at
/// once. For a wait that needs no task of its own (a held Ping's heartbeat).
public final class CancellableTimer: @unchecked Sendable {
    // @unchecked Sendable: the source is set up in init and only cancelled afterwards, which
    // libdispatch allows from any thread.
    private let source: any DispatchSourceTimer

    public init(after duration: Duration, fire: @escaping @Sendable () -> Void) {
        source = DispatchSource.makeTimerSource(queue: .global())
        source.setEventHandler(handler: fire)
        // Capped at about 68 years, so that the nanoseconds fit.
        let (seconds, attoseconds) = min(max(duration, .zero), .seconds(Int64(Int32.max))).components
        source.schedule(deadline: .now() + .nanoseconds(Int(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)))
        // Started at once: a source must not be released unstarted.
        source.resume()
    }

    /// Stops the timer; `fire` is not called after this returns unless it had begun.
    public func cancel() {
        source.cancel()
    }

    deinit {
        source.cancel()
    }
}

/// The continuation of one sleep, resumed once: by the timer or by cancellation, whichever
/// comes first (cancellation may come before the continuation exists).
private final class Wake: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Void, Never>?, fired: Bool)>((nil, false))

    /// Stores the continuation; false if the wake already fired.
    func arm(_ continuation: CheckedContinuation<Void, Never>) -> Bool {
        state.withLock { state in
            guard !state.fired else { return false }
            state.continuation = continuation
            return true
        }
    }

    func fire() {
        let continuation = state.withLock { state in
            state.fired = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume()
    }
}
