import Logging
import MailUpstream
import SyncState

/// Brings a folder's change log up to date with its mailbox: the tracker's step, run before a
/// Sync reads the log and by the background tracker. One scan per folder at a time in this
/// process.
actor FolderLogs {
    private let store: any StateStore
    private let logger: Logger
    private var running: [FolderRef: Task<FolderLogState, any Error>] = [:]
    private var slowModeWarned: Set<FolderRef> = []

    init(store: any StateStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// The folder's log state after asking the mail server what changed since the watermark.
    func catchUp(_ ref: FolderRef, mailbox: IMAPMailboxName, session: any MailSession) async throws -> FolderLogState {
        if let scan = running[ref] { return try await scan.value }
        let store = store
        let scan = Task { try await Self.scan(ref, mailbox: mailbox, session: session, store: store) }
        running[ref] = scan
        defer { running[ref] = nil }
        let result = await scan.result
        if case .success(let state) = result, state.watermark?.highestModSeq == 0, !slowModeWarned.contains(ref) {
            slowModeWarned.insert(ref)
            logger.warning("mailbox has no mod-sequences: changes after the initial sync are not tracked",
                           metadata: ["mailbox": "\(mailbox)"])
        }
        return try result.get()
    }

    private static func scan(_ ref: FolderRef, mailbox: IMAPMailboxName, session: any MailSession,
                             store: any StateStore) async throws -> FolderLogState {
        let state = try await store.logState(ref)
        guard let watermark = state.watermark else {
            // First look: remember where the mailbox stands; its contents are enumerated by the
            // initial sync, not logged.
            let status = try await session.status(mailbox)
            let start = MailboxWatermark(status.state)
            try await store.appendChanges(ref, [], watermark: start)
            return FolderLogState(watermark: start, head: state.head)
        }
        switch try await session.changes(in: mailbox, since: MailboxState(watermark)) {
        case .changes(let changes, let now):
            let next = MailboxWatermark(now)
            guard !changes.isEmpty || next != watermark else { return state }
            let head = try await store.appendChanges(ref, changes.map(ChangeEntry.init), watermark: next)
            return FolderLogState(watermark: next, head: head)
        case .fullResync(.noModSeq, _):
            return state
        case .fullResync(_, let now):
            // UIDVALIDITY changed, mod-sequences went back, or too much vanished: every device
            // starts this folder over (Status 3).
            try await store.resetLog(ref, watermark: MailboxWatermark(now))
            return try await store.logState(ref)
        }
    }
}

extension MailboxWatermark {
    init(_ state: MailboxState) {
        self.init(uidValidity: state.uidValidity, highestModSeq: state.highestModSeq, uidNext: state.uidNext)
    }
}

extension MailboxState {
    init(_ watermark: MailboxWatermark) {
        self.init(uidValidity: watermark.uidValidity, highestModSeq: watermark.highestModSeq, uidNext: watermark.uidNext)
    }
}

extension ChangeEntry {
    init(_ change: MailboxChange) {
        switch change {
        case .added(let message): self.init(kind: .added, uid: message.uid, modSeq: message.modSeq, flags: message.flags)
        case .flagsChanged(let message):
            self.init(kind: .flagsChanged, uid: message.uid, modSeq: message.modSeq, flags: message.flags)
        case .removed(let uid): self.init(kind: .removed, uid: uid, modSeq: 0)
        }
    }
}
