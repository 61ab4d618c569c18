import Logging
import MailUpstream
import SyncState

/// One tracker per active account (not per device): it keeps the change logs of the folders
/// the account's devices sync or watch current, with IMAP IDLE on the Inbox and STATUS polling
/// for the others, so that held Pings only wait for the store's notifications. Started by Sync
/// and Ping activity, stopped when the account has been quiet for `quietAfter`.
actor AccountTrackers {
    private struct Tracker {
        var task: Task<Void, Never>
        var lastActivity: ContinuousClock.Instant
        var folders: [String: Folder]
        var mail: MailAccount
    }

    private var trackers: [AccountID: Tracker] = [:]
    private let logs: FolderLogs
    private let pollInterval: Duration
    private let quietAfter: Duration
    private let logger: Logger

    init(logs: FolderLogs, pollInterval: Duration, quietAfter: Duration, logger: Logger) {
        self.logs = logs
        self.pollInterval = pollInterval
        self.quietAfter = quietAfter
        self.logger = logger
    }

    /// Notes activity of the account on `folders`; starts its tracker if none runs.
    func touch(_ account: AccountID, mail: MailAccount, folders: [Folder]) {
        if var tracker = trackers[account] {
            tracker.lastActivity = .now
            for folder in folders { tracker.folders[folder.folderId] = folder }
            tracker.mail = mail
            trackers[account] = tracker
            return
        }
        let task = Task { await self.run(account) }
        trackers[account] = Tracker(task: task, lastActivity: .now,
                                    folders: Dictionary(folders.map { ($0.folderId, $0) }, uniquingKeysWith: { first, _ in first }),
                                    mail: mail)
    }

    /// Accounts being tracked now.
    var activeAccounts: Int { trackers.count }

    /// Stops every tracker (shutdown).
    func stopAll() async {
        let running = Array(trackers.values)
        trackers.removeAll()
        for tracker in running { tracker.task.cancel() }
        for tracker in running {
            // Only after its loops are done, so that the watcher is not stopped mid-wait.
            await tracker.task.value
            await tracker.mail.watcher?.stop()
        }
    }

    private func state(_ account: AccountID) -> (folders: [Folder], mail: MailAccount, quiet: Bool)? {
        guard let tracker = trackers[account] else { return nil }
        return (Array(tracker.folders.values), tracker.mail, ContinuousClock.now - tracker.lastActivity > quietAfter)
    }

    private func finish(_ account: AccountID) async {
        guard let tracker = trackers.removeValue(forKey: account) else { return }
        await tracker.mail.watcher?.stop()
    }

    private func run(_ account: AccountID) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.idleLoop(account) }
            group.addTask { await self.pollLoop(account) }
            await group.next()
            group.cancelAll()
        }
        await finish(account)
    }

    /// IDLE on the Inbox (or the first folder), catching up its log on every wake-up.
    private func idleLoop(_ account: AccountID) async {
        while !Task.isCancelled {
            guard let (folders, mail, quiet) = state(account), !quiet else { return }
            guard let watcher = mail.watcher,
                  let inbox = folders.first(where: { $0.type == FolderType.inbox }) ?? folders.first
            else {
                try? await Task.sleep(for: pollInterval)
                continue
            }
            let mailbox = IMAPMailboxName(wire: inbox.mailboxName)
            do {
                let activity = try await watcher.waitForActivity(in: mailbox, timeout: min(quietAfter, .seconds(20 * 60)))
                if activity == .activity {
                    _ = try await logs.catchUp(FolderRef(account: account, folderId: inbox.folderId), mailbox: mailbox,
                                               session: mail.session)
                }
            } catch is CancellationError {
                return
            } catch {
                logger.notice("IDLE not available, polling instead", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: pollInterval)
            }
        }
    }

    /// STATUS (and CHANGEDSINCE when something moved) for every tracked folder but the idled one.
    private func pollLoop(_ account: AccountID) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: pollInterval)
            guard !Task.isCancelled, let (folders, mail, quiet) = state(account), !quiet else { return }
            let idled = mail.watcher == nil ? nil : (folders.first { $0.type == FolderType.inbox } ?? folders.first)?.folderId
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
