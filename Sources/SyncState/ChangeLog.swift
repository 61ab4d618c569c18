/// A message's IMAP UID within its mailbox's UIDVALIDITY.
public typealias MessageUID = UInt32

/// Where the tracker last left a mailbox ([RFC 7162] CONDSTORE/QRESYNC). The same three
/// numbers as `MailUpstream.MailboxState`: this module imports nothing, so the tracker maps one
/// to the other when it logs.
public struct MailboxWatermark: Hashable, Sendable {
    public var uidValidity: UInt32
    public var highestModSeq: UInt64
    public var uidNext: UInt32

    public init(uidValidity: UInt32, highestModSeq: UInt64, uidNext: UInt32) {
        self.uidValidity = uidValidity
        self.highestModSeq = highestModSeq
        self.uidNext = uidNext
    }
}

/// One change the tracker saw in a mailbox.
public struct ChangeEntry: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case added, flagsChanged, removed
    }

    public var kind: Kind
    public var uid: MessageUID
    public var modSeq: UInt64
    /// The message's flags and keywords after the change (empty for `removed`).
    public var flags: [String]

    public init(kind: Kind, uid: MessageUID, modSeq: UInt64, flags: [String] = []) {
        self.kind = kind
        self.uid = uid
        self.modSeq = modSeq
        self.flags = flags
    }
}

/// A change as stored, with its position in the folder's log.
public struct LoggedChange: Hashable, Sendable {
    /// Position in the folder's log: increasing, never reused, even after compaction.
    public var sequence: Int64
    public var entry: ChangeEntry

    public init(sequence: Int64, entry: ChangeEntry) {
        self.sequence = sequence
        self.entry = entry
    }
}

/// What the change log knows of one folder.
public struct FolderLogState: Hashable, Sendable {
    /// The tracker's last position in the mailbox; `nil` before the first scan.
    public var watermark: MailboxWatermark?
    /// The sequence of the newest entry (0 when nothing was ever logged).
    public var head: Int64

    public init(watermark: MailboxWatermark?, head: Int64) {
        self.watermark = watermark
        self.head = head
    }
}

/// What a compaction pass did.
public struct CompactionReport: Hashable, Sendable {
    /// Log entries removed because every remaining collection has passed them.
    public var removedEntries: Int
    /// Collections dropped because their device was silent too long or too far behind; their
    /// next Sync gets Status 3 and starts over.
    public var resetCollections: [CollectionRef]

    public init(removedEntries: Int = 0, resetCollections: [CollectionRef] = []) {
        self.removedEntries = removedEntries
        self.resetCollections = resetCollections
    }
}
