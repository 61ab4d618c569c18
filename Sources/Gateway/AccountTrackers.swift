import Logging
import MailUpstream
import SyncState

/// One tracker per active account (not per device, and not per node): it keeps the change logs
/// of the folders the account's devices sync or watch current, with IMAP IDLE on the Inbox and
/// STATUS polling for the others, so that held Pings only wait for the store's notifications.
///
/// Nodes sharing one store elect a tracker per account through a lease in the store: every
/// node with activity on the account keeps an entry here, the one holding the lease runs the
/// IDLE and polling loops, the others retry the lease now and then and take over when its
/// holder stops renewing it. Folders in use are noted in the store, so the holder watches the
/// folders of devices connected to other nodes too; its log appends wake their Pings through
/// the store's notifier. With a store only this process uses (SQLite, memory) there is nothing
/// to elect: no leases, no notes, no store traffic for them. An entry ends when the account has been quiet for `quietAfter`: no
/// Sync or Ping started on any node and no Ping held on this one.
actor AccountTrackers {
    private struct Tracker {
        var task: Task<Void, Never>
        var lastActivity: ContinuousClock.Instant
        /// Folders used on this node, with when they were last noted in the store.
        var folders: [String: Folder]
        var noted: [String: ContinuousClock.Instant] = [:]
        var mail: MailAccount
        /// Pings held on this node right now: the account is not quiet while one waits.
        var waiting = 0
        var holdsLease = false
        /// The IDLE wait in progress and its folder: ended early when the folder to idle on
        /// changes (the Inbox came into use after IDLE began on another folder).
        var idling: (folderId: String, wait: Task<MailboxActivity, any Error>)?
    }

    private var trackers: [AccountID: Tracker] = [:]
    private let logs: FolderLogs
    private let store: any StateStore
    /// False for a store only this process uses: then this node tracks every account without
    /// leases or folder notes (no store traffic for them).
    private let shared: Bool
    private let node: String
    private let pollInterval: Duration
    private let quietAfter: Duration
    private let leaseDuration: Duration
    private let metrics: GatewayMetrics
    private let logger: Logger
    /// Whether each tracked account asks Dovecot to announce its new mail to the gateway
    /// (`mailArrived`), ahead of IDLE.
    private let registersForMailPush: Bool

    /// - Parameters:
    ///   - node: this process's name in the lease table; unique per running process.
    ///   - leaseDuration: how long a lease lasts unrenewed; the holder renews it every third
    ///     of it, and a crashed holder's accounts move to another node after at most this long.
    init(logs: FolderLogs, store: any StateStore, node: String, pollInterval: Duration, quietAfter: Duration,
         leaseDuration: Duration = .seconds(60), registersForMailPush: Bool = false, metrics: GatewayMetrics, logger: Logger) {
        self.registersForMailPush = registersForMailPush
        self.logs = logs
        self.store = store
        self.shared = store.sharedByNodes
        self.node = node
        self.pollInterval = pollInterval
        self.quietAfter = quietAfter
        self.leaseDuration = leaseDuration
        self.metrics = metrics
        self.logger = logger
    }

    /// Notes activity of the account on `folders`; starts its tracker entry if none runs.
    func touch(_ account: AccountID, mail: MailAccount, folders: [Folder]) async {
        if var tracker = trackers[account] {
            tracker.lastActivity = .now
            for folder in folders { tracker.folders[folder.folderId] = folder }
            tracker.mail = mail
            trackers[account] = tracker
            // The poll loop leaves the folder to idle on to IDLE: if that is now another folder
            // (the Inbox joined), IDLE must move to it rather than finish its wait elsewhere.
            if let idling = tracker.idling, Self.idled(Array(tracker.folders.values))?.folderId != idling.folderId {
                idling.wait.cancel()
            }
        } else {
            let task = Task { await self.run(account) }
            trackers[account] = Tracker(task: task, lastActivity: .now,
                                        folders: Dictionary(folders.map { ($0.folderId, $0) }, uniquingKeysWith: { first, _ in first }),
                                        mail: mail)
        }
        await noteFolders(account)
    }

    /// A Ping of the account starts waiting on this node (after `touch`).
    func beginWait(_ account: AccountID) {
        trackers[account]?.waiting += 1
    }

    /// The Ping stopped waiting; counts as activity, so the tracker outlives the Ping by
    /// `quietAfter` for the device's next one.
    func endWait(_ account: AccountID) {
        guard var tracker = trackers[account] else { return }
        tracker.waiting = max(0, tracker.waiting - 1)
        tracker.lastActivity = .now
        trackers[account] = tracker
    }

    /// Accounts with an entry on this node (tracking, or standing by for the lease).
    var activeAccounts: Int { trackers.count }

    /// Accounts whose tracker runs on this node now.
    var trackingAccounts: Int { trackers.values.filter(\.holdsLease).count }

    /// Stops every tracker (shutdown) and gives their leases up.
    func stopAll() async {
        let running = Array(trackers)
        trackers.removeAll()
        for (_, tracker) in running { tracker.task.cancel() }
        for (account, tracker) in running {
            // Only after its loops are done, so that the watcher is not stopped mid-wait.
            await tracker.task.value
            await tracker.mail.watcher?.stop()
            if tracker.holdsLease, shared { try? await store.releaseTrackerLease(account, node: node) }
        }
    }

    // MARK: The entry's life

    private func isQuiet(_ tracker: Tracker) -> Bool {
        tracker.waiting == 0 && ContinuousClock.now - tracker.lastActivity > quietAfter
    }

    /// Notes the entry's folders in the store when new, or when their last note is getting
    /// old (a quarter of `quietAfter`), so that a lease holder elsewhere keeps watching them.
    private func noteFolders(_ account: AccountID) async {
        guard shared, let tracker = trackers[account], !isQuiet(tracker) else { return }
        let stale = tracker.folders.keys.filter { folderId in
            tracker.noted[folderId].map { ContinuousClock.now - $0 > quietAfter / 4 } ?? true
        }
        guard !stale.isEmpty else { return }
        do {
            try await store.noteTrackedFolders(account, folderIds: stale, at: Gateway.wallClockMilliseconds())
            for folderId in stale { trackers[account]?.noted[folderId] = .now }
        } catch {
            logger.notice("tracked folders not noted", metadata: ["error": "\(error)"])
        }
    }

    private func run(_ account: AccountID) async {
        while !Task.isCancelled, let tracker = trackers[account] {
            if isQuiet(tracker) {
                // Other nodes may still have devices on the account: their notes keep the
                // holder going; this node's entry ends.
                break
            }
            await noteFolders(account)
            if await claim(account) {
                setHoldsLease(account, true)
                await registerForMailPush(account)
                await track(account)
                setHoldsLease(account, false)
                if !Task.isCancelled, trackers[account] != nil, isQuiet(trackers[account]!) {
                    if shared { try? await store.releaseTrackerLease(account, node: node) }
                    break
                }
            } else {
                try? await Task.sleep(for: leaseDuration / 3)
            }
        }
        if let tracker = trackers[account], !Task.isCancelled {
            trackers[account] = nil
            await tracker.mail.watcher?.stop()
        }
    }

    /// The METADATA entry Dovecot's push notification ("ox" driver) reads: `user=NAME` makes
    /// it announce new Inbox mail for NAME to the URL it is configured with.
    static let mailPushEntry = "/private/vendor/vendor.dovecot/http-notify"

    /// Asks the mail server to announce the account's new mail (once per tracker start). A
    /// server without METADATA refuses; IDLE alone then tells of new mail, 0.5 s later.
    private func registerForMailPush(_ account: AccountID) async {
        guard registersForMailPush, let mail = trackers[account]?.mail else { return }
        do {
            try await mail.session.setServerMetadata(Self.mailPushEntry, value: "user=\(mail.user)")
        } catch {
            logger.notice("push registration refused by the mail server", metadata: ["error": "\(error)"])
        }
    }

    /// The mail server announced new mail in `mailbox` for the account whose login is `user`:
    /// its log is caught up now rather than when IDLE reports it. False when this node does
    /// not track that account or folder (another node holds it, or no device uses it).
    func mailArrived(user: String, mailbox: String) async -> Bool {
        guard let (account, tracker) = trackers.first(where: { $0.value.holdsLease && $0.value.mail.user == user }),
              let folder = tracker.folders.values.first(where: { $0.mailboxName == mailbox })
        else { return false }
        do {
            _ = try await logs.catchUp(FolderRef(account: account, folderId: folder.folderId),
                                       mailbox: IMAPMailboxName(wire: folder.mailboxName), session: tracker.mail.session)
            return true
        } catch {
            // The IDLE loop or the next request tells.
            return false
        }
    }

    private func setHoldsLease(_ account: AccountID, _ holds: Bool) {
        guard trackers[account] != nil, trackers[account]?.holdsLease != holds else { return }
        trackers[account]?.holdsLease = holds
        metrics.trackersRunning(holds ? 1 : -1)
    }

    private func claim(_ account: AccountID) async -> Bool {
        guard shared else { return true }
        let now = Gateway.wallClockMilliseconds()
        do {
            return try await store.claimTrackerLease(account, node: node, now: now,
                                                     expiresAt: now + Self.milliseconds(leaseDuration))
        } catch {
            logger.notice("tracker lease not claimed", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Runs IDLE and polling while this node holds the lease and someone uses the account.
    private func track(_ account: AccountID) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.idleLoop(account) }
            group.addTask { await self.pollLoop(account) }
            group.addTask { await self.renewLoop(account) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Renews the lease every third of its duration; returns when it is lost or the account
    /// is quiet everywhere.
    private func renewLoop(_ account: AccountID) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: leaseDuration / 3)
            guard !Task.isCancelled, let (_, _, quiet) = await state(account), !quiet else { return }
            await noteFolders(account)
            guard await claim(account) else {
                logger.notice("tracker lease lost to another node", metadata: ["account": "\(account.rawValue)"])
                return
            }
        }
    }

    /// The folders to watch: this node's and those noted by any node within `quietAfter`;
    /// `quiet` when neither this node nor any other has used the account for that long (a
    /// node notes its folders only while it has activity).
    private func state(_ account: AccountID) async -> (folders: [Folder], mail: MailAccount, quiet: Bool)? {
        guard let tracker = trackers[account] else { return nil }
        var folders = tracker.folders
        guard shared else { return (Array(folders.values), tracker.mail, isQuiet(tracker)) }
        let since = Gateway.wallClockMilliseconds() - Self.milliseconds(quietAfter)
        guard let noted = try? await store.trackedFolders(account, since: since) else {
            return (Array(folders.values), tracker.mail, isQuiet(tracker))
        }
        let elsewhere = Set(noted).subtracting(folders.keys)
        if !elsewhere.isEmpty, let all = try? await store.folders(of: account) {
            for folder in all where elsewhere.contains(folder.folderId) { folders[folder.folderId] = folder }
        }
        return (Array(folders.values), tracker.mail, isQuiet(tracker) && noted.isEmpty)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    static let firstIdleRetry: Duration = .seconds(1)

    private static func idled(_ folders: [Folder]) -> Folder? {
        folders.first { $0.type == FolderType.inbox } ?? folders.min { $0.folderId < $1.folderId }
    }

    /// IDLE on the Inbox (or the first folder), catching up its log on every wake-up. When IDLE
    /// fails (the server refused a connection, or dropped it), the folder is caught up at once
    /// and IDLE tried again after a second, doubling up to the poll interval: the poll loop
    /// leaves this folder to IDLE, so waiting a whole interval would delay its mail as long.
    private func idleLoop(_ account: AccountID) async {
        var retryAfter = Self.firstIdleRetry
        while !Task.isCancelled {
            guard let (folders, mail, quiet) = await state(account), !quiet else { return }
            guard let watcher = mail.watcher, let inbox = Self.idled(folders) else {
                try? await Task.sleep(for: pollInterval)
                continue
            }
            let mailbox = IMAPMailboxName(wire: inbox.mailboxName)
            let folder = FolderRef(account: account, folderId: inbox.folderId)
            let logs = logs
            let timeout = min(quietAfter, .seconds(20 * 60))
            let wait = Task {
                try await watcher.waitForActivity(in: mailbox, timeout: timeout) {
                    // Changes since the last look and before IDLE began are not reported by it.
                    _ = try? await logs.catchUp(folder, mailbox: mailbox, session: mail.session)
                }
            }
            trackers[account]?.idling = (inbox.folderId, wait)
            defer { trackers[account]?.idling = nil }
            do {
                let activity = try await withTaskCancellationHandler {
                    try await wait.value
                } onCancel: {
                    wait.cancel()
                }
                if activity == .activity {
                    _ = try await logs.catchUp(folder, mailbox: mailbox, session: mail.session)
                }
                retryAfter = Self.firstIdleRetry
            } catch is CancellationError {
                // Either the tracker stops, or the folder to idle on changed (`touch`): then
                // the catch-up at the next IDLE's start covers the gap.
                if Task.isCancelled { return }
            } catch {
                logger.notice("IDLE not available, polling instead", metadata: [
                    "error": "\(error)", "retry_in_s": "\(retryAfter.components.seconds)",
                ])
                _ = try? await logs.catchUp(folder, mailbox: mailbox, session: mail.session)
                try? await Task.sleep(for: retryAfter)
                retryAfter = min(retryAfter * 2, pollInterval)
            }
        }
    }

    /// STATUS (and CHANGEDSINCE when something moved) for every tracked folder but the idled one.
    private func pollLoop(_ account: AccountID) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: pollInterval)
            guard !Task.isCancelled, let (folders, mail, quiet) = await state(account), !quiet else { return }
            // Only the folder IDLE is on now is left out: one that IDLE should be on but is not
            // yet (a folder another node's devices began to use) is still polled.
            let idled = mail.watcher == nil ? nil : trackers[account]?.idling?.folderId
            for folder in folders where folder.folderId != idled {
                do {
                    _ = try await logs.catchUp(FolderRef(account: account, folderId: folder.folderId),
                                               mailbox: IMAPMailboxName(wire: folder.mailboxName), session: mail.session)
                } catch {
                    // A folder gone or the server away: the next round or the next request tells.
                    continue
                }
            }
        }
    }
}
