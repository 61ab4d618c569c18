/// Limits on what one user, device or address may ask of the gateway, answered with 503 and
/// Retry-After (which every EAS client honours) rather than work.
public struct ThrottleLimits: Sendable, Equatable {
    /// Failed logins per user (from any address) in one window before further attempts with a
    /// password not proven recently are refused without asking IMAP.
    public var failedLoginsPerUser: Int
    /// Failed logins per source address in one window before everything from it is refused.
    public var failedLoginsPerAddress: Int
    public var failedLoginWindow: Duration
    /// Requests one device may make per minute (Ping and Sync included).
    public var requestsPerDeviceMinute: Int
    /// Requests all of one user's devices may make per minute.
    public var requestsPerUserMinute: Int
    /// Sync requests being answered at once, over all users (held Syncs with Wait count).
    public var concurrentSyncs: Int

    public init(failedLoginsPerUser: Int = 20, failedLoginsPerAddress: Int = 50, failedLoginWindow: Duration = .seconds(300),
                requestsPerDeviceMinute: Int = 300, requestsPerUserMinute: Int = 1200, concurrentSyncs: Int = 1000) {
        self.failedLoginsPerUser = failedLoginsPerUser
        self.failedLoginsPerAddress = failedLoginsPerAddress
        self.failedLoginWindow = failedLoginWindow
        self.requestsPerDeviceMinute = requestsPerDeviceMinute
        self.requestsPerUserMinute = requestsPerUserMinute
        self.concurrentSyncs = concurrentSyncs
    }
}

/// Counts in fixed windows per key. Memory is bounded: expired windows are dropped when the
/// table grows, and beyond `maxKeys` live ones too (oldest first), which can only make the
/// throttle forget, never refuse more.
public actor Throttle {
    public enum Refusal: String, Sendable {
        case failedLoginsUser = "failed_logins_user"
        case failedLoginsAddress = "failed_logins_address"
        case deviceRate = "device_rate"
        case userRate = "user_rate"
        case concurrentSyncs = "concurrent_syncs"
    }

    struct Window {
        var start: ContinuousClock.Instant
        var count: Int
    }

    public let limits: ThrottleLimits
    static let maxKeys = 200_000
    private var windows: [String: Window] = [:]
    private var syncs = 0

    public init(limits: ThrottleLimits = ThrottleLimits()) {
        self.limits = limits
    }

    /// Whether a login attempt may go on; nil, or the refusal and how long to wait.
    ///
    /// An address that failed too often is refused everything, even a password the gateway
    /// has seen work (`proven`), so that it cannot learn which of its guesses was right. A user
    /// who failed too often, from many addresses, is refused only unproven passwords: a guesser
    /// elsewhere cannot lock the owner's phone out.
    public func loginRefusal(user: String, address: String?, proven: Bool) -> (Refusal, Duration)? {
        let now = ContinuousClock.now
        if let address, let wait = full("login-address:" + address, limit: limits.failedLoginsPerAddress,
                                        window: limits.failedLoginWindow, now) {
            return (.failedLoginsAddress, wait)
        }
        if !proven, let wait = full("login-user:" + user.lowercased(), limit: limits.failedLoginsPerUser,
                                    window: limits.failedLoginWindow, now) {
            return (.failedLoginsUser, wait)
        }
        return nil
    }

    public func loginFailed(user: String, address: String?) {
        let now = ContinuousClock.now
        count("login-user:" + user.lowercased(), window: limits.failedLoginWindow, now)
        if let address { count("login-address:" + address, window: limits.failedLoginWindow, now) }
    }

    /// Counts one request; nil when it may go on. `perDevice`/`perUser` replace the limits'
    /// budgets (a domain's own).
    public func requestRefusal(user: String, deviceId: String, perDevice: Int? = nil, perUser: Int? = nil) -> (Refusal, Duration)? {
        let now = ContinuousClock.now
        let (device, account) = Self.rateKeys(user: user, deviceId: deviceId)
        if let wait = full(device, limit: perDevice ?? limits.requestsPerDeviceMinute, window: .seconds(60), now) { return (.deviceRate, wait) }
        if let wait = full(account, limit: perUser ?? limits.requestsPerUserMinute, window: .seconds(60), now) { return (.userRate, wait) }
        count(device, window: .seconds(60), now)
        count(account, window: .seconds(60), now)
        return nil
    }

    /// Batches of a large Sync one device may have given back per minute, as a multiple of its
    /// request budget: a client that starts its folders over and over (the phone that never
    /// gets past a key) is still held to a rate.
    public static let batchAllowance = 10

    /// Gives back what `requestRefusal` counted for a request that turned out to be one batch
    /// of a large Sync (a folder's size is no reason to make its phone wait), up to
    /// `batchAllowance` times the device's budget a minute; beyond, batches count as usual.
    /// `perDevice` as for `requestRefusal`.
    public func uncount(user: String, deviceId: String, perDevice: Int? = nil) {
        let now = ContinuousClock.now
        let (device, account) = Self.rateKeys(user: user, deviceId: deviceId)
        let batches = "batches:" + device
        let allowance = (perDevice ?? limits.requestsPerDeviceMinute) * Self.batchAllowance
        guard full(batches, limit: allowance, window: .seconds(60), now) == nil else { return }
        count(batches, window: .seconds(60), now)
        for key in [device, account] {
            if var current = windows[key], now - current.start < .seconds(60), current.count > 0 {
                current.count -= 1
                windows[key] = current
            }
        }
    }

    private static func rateKeys(user: String, deviceId: String) -> (device: String, account: String) {
        ("device:" + user.lowercased() + "\u{0}" + deviceId, "user:" + user.lowercased())
    }

    /// Takes a Sync slot; false when all are taken.
    public func beginSync() -> Bool {
        guard syncs < limits.concurrentSyncs else { return false }
        syncs += 1
        return true
    }

    public func endSync() {
        syncs = max(0, syncs - 1)
    }

    /// How long until the key's window has room again, if it is full now.
    private func full(_ key: String, limit: Int, window: Duration, _ now: ContinuousClock.Instant) -> Duration? {
        guard let current = windows[key], now - current.start < window, current.count >= limit else { return nil }
        return window - (now - current.start)
    }

    private func count(_ key: String, window: Duration, _ now: ContinuousClock.Instant) {
        if var current = windows[key], now - current.start < window {
            current.count += 1
            windows[key] = current
            return
        }
        if windows.count >= Self.maxKeys { prune(now) }
        windows[key] = Window(start: now, count: 1)
    }

    private func prune(_ now: ContinuousClock.Instant) {
        let longest = max(limits.failedLoginWindow, .seconds(60))
        windows = windows.filter { now - $0.value.start < longest }
        if windows.count >= Self.maxKeys {
            for key in windows.sorted(by: { $0.value.start < $1.value.start }).prefix(windows.count / 2).map(\.key) {
                windows[key] = nil
            }
        }
    }
}
