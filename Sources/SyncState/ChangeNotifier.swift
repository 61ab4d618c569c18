#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A wake-up: something changed in these folders of this account.
public struct ChangeNotification: Hashable, Sendable {
    public var account: AccountID
    public var folderIds: [String]
    /// When the change entered the log, in milliseconds since 1970 (for push latency).
    public var loggedAt: Int64

    public init(account: AccountID, folderIds: [String], loggedAt: Int64 = WallClock.milliseconds()) {
        self.account = account
        self.folderIds = folderIds
        self.loggedAt = loggedAt
    }
}

/// The time of day, as the store keeps it.
public enum WallClock {
    /// Milliseconds since 1970.
    public static func milliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}

/// Delivers change-log appends to whoever waits for them (held Pings, waiting Syncs).
///
/// Implementations: `InProcessChangeNotifier` for one process (SQLite, the in-memory store);
/// the PostgreSQL store adds LISTEN/NOTIFY so that appends on one node wake waiters on all.
public protocol ChangeNotifier: Sendable {
    /// Announces a change to every subscriber of the account.
    func post(_ notification: ChangeNotification)

    /// A stream of the account's notifications, from now on, until the stream is dropped.
    func subscribe(_ account: AccountID) -> AsyncStream<ChangeNotification>
}

/// Delivers notifications to subscribers in this process.
public final class InProcessChangeNotifier: ChangeNotifier {
    private struct Subscribers {
        var next = 0
        var byAccount: [AccountID: [Int: AsyncStream<ChangeNotification>.Continuation]] = [:]
    }

    private let subscribers = Mutex(Subscribers())

    public init() {}

    public func post(_ notification: ChangeNotification) {
        let targets = subscribers.withLock { Array(($0.byAccount[notification.account] ?? [:]).values) }
        for continuation in targets {
            continuation.yield(notification)
        }
    }

    public func subscribe(_ account: AccountID) -> AsyncStream<ChangeNotification> {
        // A waiter only needs to know that something changed; old notices are not queued up.
        let (stream, continuation) = AsyncStream.makeStream(of: ChangeNotification.self,
                                                            bufferingPolicy: .bufferingNewest(16))
        let id = subscribers.withLock { state in
            state.next += 1
            state.byAccount[account, default: [:]][state.next] = continuation
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            self?.subscribers.withLock { state in
                state.byAccount[account]?[id] = nil
                if state.byAccount[account]?.isEmpty == true { state.byAccount[account] = nil }
            }
        }
        return stream
    }

    /// How many subscriptions are open (for tests and metrics).
    public var subscriberCount: Int {
        subscribers.withLock { $0.byAccount.values.reduce(0) { $0 + $1.count } }
    }
}
