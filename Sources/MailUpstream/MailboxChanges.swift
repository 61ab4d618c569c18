/// Where a mailbox stands ([RFC 3501] 6.3.1, [RFC 7162] 3.1.2): UIDVALIDITY, HIGHESTMODSEQ
/// (0 when the server or mailbox keeps no mod-sequences) and UIDNEXT.
public struct MailboxState: Hashable, Sendable {
    public var uidValidity: UInt32
    public var highestModSeq: UInt64
    public var uidNext: UInt32

    public init(uidValidity: UInt32, highestModSeq: UInt64, uidNext: UInt32) {
        self.uidValidity = uidValidity
        self.highestModSeq = highestModSeq
        self.uidNext = uidNext
    }
}

/// One message's flags and keywords, with the mod-sequence of their last change (0 without
/// CONDSTORE).
public struct MessageFlags: Hashable, Sendable {
    public var uid: UInt32
    /// Flags and keywords as the server names them (`\Seen`, `$Forwarded`), sorted.
    public var flags: [String]
    public var modSeq: UInt64

    public init(uid: UInt32, flags: some Sequence<String>, modSeq: UInt64 = 0) {
        self.uid = uid
        self.flags = flags.sorted()
        self.modSeq = modSeq
    }
}

/// A change to a mailbox, as the change log records it.
public enum MailboxChange: Hashable, Sendable {
    case added(MessageFlags)
    case flagsChanged(MessageFlags)
    case removed(uid: UInt32)
}

/// What the server reported when asked for everything since a known state: the untagged
/// responses of `SELECT … (QRESYNC (uidvalidity modseq))` or of
/// `UID FETCH 1:* (FLAGS) (CHANGEDSINCE modseq VANISHED)` ([RFC 7162] 3.2.5, 3.2.6).
public struct ChangedSinceReport: Hashable, Sendable {
    /// The mailbox's state after the command.
    public var state: MailboxState
    /// FETCH responses: messages whose flags changed, or that are new, since the known modseq.
    public var changed: [MessageFlags]
    /// VANISHED (EARLIER) responses: expunged UIDs, possibly including ones never seen.
    public var vanished: UIDSet

    public init(state: MailboxState, changed: [MessageFlags], vanished: UIDSet) {
        self.state = state
        self.changed = changed
        self.vanished = vanished
    }
}

/// Turns what the server reports into exactly the changes since a known state, or says that
/// the known state is unusable and the mailbox must be read afresh.
public enum ChangeTracking {
    /// Why incremental tracking cannot continue.
    public enum FullResyncReason: Hashable, Sendable {
        /// The mailbox was recreated: every UID the client knows is void ([RFC 3501] 2.3.1.1).
        case uidValidityChanged(from: UInt32, to: UInt32)
        /// The server's HIGHESTMODSEQ is below one it reported before (restored backup,
        /// replaced index): changes in between cannot be known.
        case modSeqWentBack(from: UInt64, to: UInt64)
        /// The mailbox keeps no mod-sequences (NOMODSEQ): compare UIDs and flags instead.
        case noModSeq
        /// More expunged UIDs than `maxRemovals` would have to be listed one by one.
        case tooManyRemovals(UInt64)
    }

    public enum Outcome: Hashable, Sendable {
        /// The changes, oldest first, and the state to remember.
        case changes([MailboxChange], MailboxState)
        /// Start over from `state`.
        case fullResync(FullResyncReason, MailboxState)
    }

    /// The most removals listed one by one before a full resync is cheaper.
    public static let defaultMaxRemovals: UInt64 = 100_000

    /// With CONDSTORE/QRESYNC: the changes in `report` since `known`.
    ///
    /// VANISHED may name UIDs the client never saw (EARLIER ranges are often wide); only those
    /// below the known UIDNEXT are reported removed. A changed message at or above the known
    /// UIDNEXT is new. Entries whose mod-sequence is not above the known one are not changes.
    public static func changes(since known: MailboxState, report: ChangedSinceReport,
                               maxRemovals: UInt64 = defaultMaxRemovals) -> Outcome {
        var state = report.state
        guard state.uidValidity == known.uidValidity else {
            return .fullResync(.uidValidityChanged(from: known.uidValidity, to: state.uidValidity), state)
        }
        guard state.highestModSeq != 0 else { return .fullResync(.noModSeq, state) }
        guard state.highestModSeq >= known.highestModSeq else {
            return .fullResync(.modSeqWentBack(from: known.highestModSeq, to: state.highestModSeq), state)
        }
        let removed = report.vanished.below(known.uidNext)
        guard removed.count <= maxRemovals else { return .fullResync(.tooManyRemovals(removed.count), state) }

        var changes: [MailboxChange] = removed.uids.map { .removed(uid: $0) }
        let changed = report.changed
            .filter { $0.modSeq > known.highestModSeq && !removed.contains($0.uid) }
            .sorted { ($0.modSeq, $0.uid) < ($1.modSeq, $1.uid) }
        for message in changed {
            changes.append(message.uid >= known.uidNext ? .added(message) : .flagsChanged(message))
        }
        if let highest = changed.map(\.uid).max(), highest >= state.uidNext {
            state.uidNext = highest + 1
        }
        return .changes(changes, state)
    }

    /// Without CONDSTORE: the changes between two complete UID → flags listings of a mailbox
    /// (the slower mode, `UID FETCH 1:* (FLAGS)` each time).
    public static func changes(from previous: [UInt32: [String]], to current: [MessageFlags]) -> [MailboxChange] {
        var changes: [MailboxChange] = []
        var present = Set<UInt32>()
        for message in current.sorted(by: { $0.uid < $1.uid }) {
            present.insert(message.uid)
            if let old = previous[message.uid] {
                if old.sorted() != message.flags { changes.append(.flagsChanged(message)) }
            } else {
                changes.append(.added(message))
            }
        }
        let removed = previous.keys.filter { !present.contains($0) }.sorted().map { MailboxChange.removed(uid: $0) }
        return removed + changes
    }
}
