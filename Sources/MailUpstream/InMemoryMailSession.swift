/// A `MailSession` over mailboxes held in memory, for unit tests of the gateway. It keeps
/// the IMAP rules the gateway depends on: UIDs only grow, every change raises the mailbox's
/// HIGHESTMODSEQ and the message's MODSEQ, expunges are remembered for VANISHED, a moved
/// message gets a new UID, a recreated mailbox a new UIDVALIDITY. Messages are given with
/// their envelope; no MIME is parsed.
public actor InMemoryMailSession: MailSession, MailboxWatcher {
    /// A message as a test supplies it.
    public struct Message: Sendable {
        public var raw: [UInt8]
        public var envelope: Envelope
        public var flags: [String]
        public var internalDate: Int64

        public init(raw: [UInt8], envelope: Envelope, flags: [String] = [], internalDate: Int64 = 0) {
            self.raw = raw
            self.envelope = envelope
            self.flags = flags
            self.internalDate = internalDate
        }
    }

    private struct Stored {
        var message: Message
        var modSeq: UInt64
    }

    private struct Mailbox {
        var specialUse: SpecialUse?
        var uidValidity: UInt32
        var uidNext: UInt32 = 1
        var highestModSeq: UInt64 = 1
        var messages: [UInt32: Stored] = [:]
        var expunged: [(uid: UInt32, modSeq: UInt64)] = []

        var state: MailboxState { MailboxState(uidValidity: uidValidity, highestModSeq: highestModSeq, uidNext: uidNext) }
    }

    private var mailboxes: [String: Mailbox] = [:] {
        didSet { wakeWatchers(comparedWith: oldValue) }
    }
    private var watchers: [String: [Int: CheckedContinuation<MailboxActivity, any Error>]] = [:]
    private var nextWatcher = 0
    private var nextUIDValidity: UInt32 = 1000
    /// Whether the simulated server has CONDSTORE/QRESYNC.
    public let condStore: Bool
    /// The hierarchy delimiter.
    public let delimiter: Character = "/"

    /// A server with INBOX, Drafts, Sent, Trash and Junk.
    public init(condStore: Bool = true) {
        self.condStore = condStore
        for (name, use) in [("INBOX", SpecialUse.inbox), ("Drafts", .drafts), ("Sent", .sent), ("Trash", .trash),
                            ("Junk", .junk)] {
            mailboxes[name] = Mailbox(specialUse: use, uidValidity: nextUIDValidity)
            nextUIDValidity += 1
        }
    }

    // MARK: What other parties do (tests)

    /// Delivers a message, as LMTP would; returns its UID.
    @discardableResult
    public func deliver(_ message: Message, to mailbox: IMAPMailboxName = IMAPMailboxName(wire: "INBOX")) throws -> UInt32 {
        try insert(message, into: mailbox.wireName)
    }

    /// Deletes and recreates a mailbox under the same name: a new UIDVALIDITY, no messages.
    public func recreate(_ mailbox: IMAPMailboxName) throws {
        let old = try existing(mailbox.wireName)
        mailboxes[mailbox.wireName] = Mailbox(specialUse: old.specialUse, uidValidity: nextUIDValidity)
        nextUIDValidity += 1
    }

    // MARK: MailSession

    public func capabilities() -> Set<String> {
        var capabilities: Set<String> = ["IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "SPECIAL-USE", "NAMESPACE", "ENABLE"]
        if condStore { capabilities.formUnion(["CONDSTORE", "QRESYNC"]) }
        return capabilities
    }

    public func namespaces() -> MailNamespaces {
        MailNamespaces(personal: [.init(prefix: "", delimiter: delimiter)])
    }

    public func listMailboxes() -> [MailboxListing] {
        mailboxes.keys.sorted().map { name in
            MailboxListing(name: IMAPMailboxName(wire: name), delimiter: delimiter,
                           specialUse: mailboxes[name]?.specialUse)
        }
    }

    public func status(_ mailbox: IMAPMailboxName) throws -> MailboxStatus {
        let box = try existing(mailbox.wireName)
        var state = box.state
        if !condStore { state.highestModSeq = 0 }
        return MailboxStatus(state: state, messages: box.messages.count,
                             unseen: box.messages.values.filter { !$0.message.flags.contains("\\Seen") }.count)
    }

    public func changes(in mailbox: IMAPMailboxName, since known: MailboxState) throws -> ChangeTracking.Outcome {
        let box = try existing(mailbox.wireName)
        guard condStore else {
            var state = box.state
            state.highestModSeq = 0
            return .fullResync(.noModSeq, state)
        }
        let changed = box.messages.filter { $0.value.modSeq > known.highestModSeq }
            .map { MessageFlags(uid: $0.key, flags: $0.value.message.flags, modSeq: $0.value.modSeq) }
        let vanished = UIDSet(uids: box.expunged.filter { $0.modSeq > known.highestModSeq }.map(\.uid))
        return ChangeTracking.changes(since: known,
                                      report: ChangedSinceReport(state: box.state, changed: changed, vanished: vanished))
    }

    public func listing(of mailbox: IMAPMailboxName) throws -> (MailboxState, [MessageFlags]) {
        let box = try existing(mailbox.wireName)
        var state = box.state
        if !condStore { state.highestModSeq = 0 }
        let messages = box.messages.map {
            MessageFlags(uid: $0.key, flags: $0.value.message.flags, modSeq: condStore ? $0.value.modSeq : 0)
        }
        return (state, messages.sorted { $0.uid < $1.uid })
    }

    public func summaries(in mailbox: IMAPMailboxName, uids: UIDSet) throws -> [MessageSummary] {
        let box = try existing(mailbox.wireName)
        return box.messages.keys.filter(uids.contains).sorted().map { uid in
            let stored = box.messages[uid]!
            return MessageSummary(uid: uid, flags: stored.message.flags, modSeq: condStore ? stored.modSeq : 0,
                                  internalDate: stored.message.internalDate, size: stored.message.raw.count,
                                  envelope: stored.message.envelope)
        }
    }

    public func fetch(in mailbox: IMAPMailboxName, uid: UInt32, section: String?, range: Range<Int>?) throws -> [UInt8] {
        let box = try existing(mailbox.wireName)
        guard let raw = box.messages[uid]?.message.raw else { throw UpstreamError(.messageNotFound, "UID \(uid)") }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        let split = raw.indices.dropLast(3).first { raw[$0..<($0 + 4)].elementsEqual(separator) }
        let bytes: ArraySlice<UInt8>
        switch section?.uppercased() {
        case nil: bytes = raw[...]
        case "HEADER": bytes = raw[..<((split ?? raw.count - 4) + 4)]
        case "TEXT": bytes = split.map { raw[($0 + 4)...] } ?? []
        default: throw UpstreamError(.refused, "this test server has no MIME parts")
        }
        guard let range else { return Array(bytes) }
        let lower = min(bytes.startIndex + max(0, range.lowerBound), bytes.endIndex)
        let upper = min(bytes.startIndex + max(range.lowerBound, range.upperBound), bytes.endIndex)
        return Array(bytes[lower..<upper])
    }

    public nonisolated func fetchChunks(in mailbox: IMAPMailboxName, uid: UInt32, section: String?, range: Range<Int>?)
        -> ByteChunks
    {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        Task {
            do {
                for try await chunk in ByteChunks(bytes: try await fetch(in: mailbox, uid: uid, section: section, range: range)) {
                    continuation.yield(chunk)
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return ByteChunks(stream)
    }

    public func fetchParts(in mailbox: IMAPMailboxName, _ requests: [PartRequest]) throws -> [PartRequest: [UInt8]] {
        var parts: [PartRequest: [UInt8]] = [:]
        for request in requests {
            do {
                parts[request] = try fetch(in: mailbox, uid: request.uid, section: request.section, range: request.range)
            } catch let error as UpstreamError where error.code == .messageNotFound {
                continue
            }
        }
        return parts
    }

    public func search(in mailbox: IMAPMailboxName, _ query: MailSearch) throws -> [UInt32] {
        let box = try existing(mailbox.wireName)
        func matches(_ haystack: String?, _ needle: String?) -> Bool {
            guard let needle else { return true }
            return haystack?.lowercased().contains(needle.lowercased()) ?? false
        }
        func addresses(_ list: [MailAddress]) -> String {
            list.map { "\($0.name ?? "") <\($0.address)>" }.joined(separator: ", ")
        }
        let day: Int64 = 86_400_000
        return box.messages.filter { uid, stored in
            let message = stored.message
            let envelope = message.envelope
            return matches(String(decoding: message.raw, as: UTF8.self), query.text)
                && matches(addresses(envelope.from), query.from)
                && matches(addresses(envelope.to + envelope.cc + envelope.bcc), query.to)
                && matches(envelope.subject, query.subject)
                && (query.since.map { message.internalDate >= $0 / day * day } ?? true)
                && (query.before.map { message.internalDate < $0 / day * day } ?? true)
                && (!query.unseenOnly || !message.flags.contains("\\Seen"))
                && (query.uids.map { $0.contains(uid) } ?? true)
        }.keys.sorted()
    }

    /// Another client's flag change that lands right after the next STORE (tests of changes
    /// made at the same moment from two places).
    public func afterNextStore(add: [String], remove: [String]) {
        interleavedStore = (add, remove)
    }

    private var interleavedStore: (add: [String], remove: [String])?

    @discardableResult
    public func setFlags(in mailbox: IMAPMailboxName, uids: UIDSet, add: [String], remove: [String]) throws -> [MessageFlags] {
        try storeFlags(in: mailbox, uids: uids, add: add, remove: remove)
        // As IMAP answers a STORE: the state this change left, before anyone else's.
        let box = try existing(mailbox.wireName)
        let reported = box.messages.keys.sorted().filter(uids.contains).map { uid in
            MessageFlags(uid: uid, flags: box.messages[uid]!.message.flags, modSeq: box.messages[uid]!.modSeq)
        }
        if let other = interleavedStore {
            interleavedStore = nil
            try storeFlags(in: mailbox, uids: uids, add: other.add, remove: other.remove)
        }
        return reported
    }

    private func storeFlags(in mailbox: IMAPMailboxName, uids: UIDSet, add: [String], remove: [String]) throws {
        var box = try existing(mailbox.wireName)
        for uid in box.messages.keys.sorted() where uids.contains(uid) {
            var flags = Set(box.messages[uid]!.message.flags)
            let before = flags
            flags.formUnion(add)
            flags.subtract(remove)
            guard flags != before else { continue }
            box.highestModSeq += 1
            box.messages[uid]!.message.flags = flags.sorted()
            box.messages[uid]!.modSeq = box.highestModSeq
        }
        mailboxes[mailbox.wireName] = box
    }

    public func move(from mailbox: IMAPMailboxName, uids: UIDSet, to target: IMAPMailboxName) throws -> [UInt32: UInt32] {
        let source = try existing(mailbox.wireName)
        _ = try existing(target.wireName)
        var moved: [UInt32: UInt32] = [:]
        for uid in source.messages.keys.sorted() where uids.contains(uid) {
            moved[uid] = try insert(source.messages[uid]!.message, into: target.wireName)
        }
        try expunge(in: mailbox, uids: UIDSet(uids: moved.keys))
        return moved
    }

    public func expunge(in mailbox: IMAPMailboxName, uids: UIDSet) throws {
        var box = try existing(mailbox.wireName)
        for uid in box.messages.keys.sorted() where uids.contains(uid) {
            box.messages[uid] = nil
            box.highestModSeq += 1
            box.expunged.append((uid, box.highestModSeq))
        }
        mailboxes[mailbox.wireName] = box
    }

    public func append(to mailbox: IMAPMailboxName, message: [UInt8], flags: [String], internalDate: Int64?) throws
        -> UInt32? {
        try insert(Message(raw: message, envelope: Envelope(), flags: flags, internalDate: internalDate ?? 0),
                   into: mailbox.wireName)
    }

    /// The user's server annotations (SETMETADATA "").
    public private(set) var serverMetadata: [String: String] = [:]

    public func setServerMetadata(_ entry: String, value: String?) {
        serverMetadata[entry.lowercased()] = value
    }

    public func createMailbox(_ mailbox: IMAPMailboxName) throws {
        guard mailboxes[mailbox.wireName] == nil else { throw UpstreamError(.mailboxExists, mailbox.wireName) }
        mailboxes[mailbox.wireName] = Mailbox(uidValidity: nextUIDValidity)
        nextUIDValidity += 1
    }

    public func renameMailbox(_ mailbox: IMAPMailboxName, to newName: IMAPMailboxName) throws {
        let box = try existing(mailbox.wireName)
        guard mailboxes[newName.wireName] == nil else { throw UpstreamError(.mailboxExists, newName.wireName) }
        mailboxes[mailbox.wireName] = nil
        mailboxes[newName.wireName] = box
    }

    public func deleteMailbox(_ mailbox: IMAPMailboxName) throws {
        _ = try existing(mailbox.wireName)
        mailboxes[mailbox.wireName] = nil
    }

    // MARK: Helpers

    // MARK: MailboxWatcher

    /// Returns `.activity` as soon as anything changes the mailbox's state (a delivery, a flag
    /// change, an expunge, a recreation), like IDLE would.
    public func waitForActivity(in mailbox: IMAPMailboxName, timeout: Duration,
                                whenListening: @Sendable () async -> Void) async throws -> MailboxActivity {
        let name = mailbox.wireName
        let id = nextWatcher
        nextWatcher += 1
        // IDLE reports whatever happens after it started: here, any change from this state.
        let listeningFrom = mailboxes[name]?.state
        await whenListening()
        return try await withThrowingTaskGroup(of: MailboxActivity.self) { group in
            group.addTask { try await self.activity(in: name, id: id, since: listeningFrom) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return .timedOut
            }
            defer { group.cancelAll() }
            let first = try await group.next() ?? .timedOut
            forget(name, id: id)
            return first
        }
    }

    /// Waits registered now (tests use it to deliver only once a watcher is listening).
    public var waitingWatchers: Int { watchers.values.reduce(0) { $0 + $1.count } }

    public func stop() {
        let waiting = watchers.values.flatMap(\.values)
        watchers.removeAll()
        for continuation in waiting { continuation.resume(throwing: CancellationError()) }
    }

    private func activity(in name: String, id: Int, since listeningFrom: MailboxState?) async throws -> MailboxActivity {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else if mailboxes[name]?.state != listeningFrom {
                    continuation.resume(returning: .activity)
                } else {
                    watchers[name, default: [:]][id] = continuation
                }
            }
        } onCancel: {
            Task { await self.forget(name, id: id) }
        }
    }

    private func forget(_ name: String, id: Int) {
        guard let continuation = watchers[name]?.removeValue(forKey: id) else { return }
        if watchers[name]?.isEmpty == true { watchers[name] = nil }
        continuation.resume(throwing: CancellationError())
    }

    private func wakeWatchers(comparedWith old: [String: Mailbox]) {
        guard !watchers.isEmpty else { return }
        for name in Array(watchers.keys) where old[name]?.state != mailboxes[name]?.state {
            let waiting = watchers.removeValue(forKey: name) ?? [:]
            for continuation in waiting.values { continuation.resume(returning: .activity) }
        }
    }

    private func existing(_ name: String) throws -> Mailbox {
        guard let box = mailboxes[name] else { throw UpstreamError(.mailboxNotFound, name) }
        return box
    }

    private func insert(_ message: Message, into name: String) throws -> UInt32 {
        var box = try existing(name)
        let uid = box.uidNext
        box.uidNext += 1
        box.highestModSeq += 1
        box.messages[uid] = Stored(message: message, modSeq: box.highestModSeq)
        mailboxes[name] = box
        return uid
    }
}
