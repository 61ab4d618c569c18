/// An IMAP mailbox as EAS sees it, with the id that stays the same for the folder's life.
public struct Folder: Hashable, Sendable, Codable {
    /// The stable EAS folder id ("1", "2", …), assigned once per account and never reused.
    public var folderId: String
    /// The IMAP mailbox name, in IMAP's own encoding.
    public var mailboxName: String
    public var uidValidity: UInt32
    /// The EAS folder type ([MS-ASCMD] 2.2.3.186.3): 2 Inbox, 3 Drafts, 4 Deleted, 5 Sent,
    /// 6 Outbox, 12 user mail folder, …
    public var type: Int
    /// The parent's folder id; `nil` for top-level folders ("0" on the wire).
    public var parentId: String?

    public init(folderId: String, mailboxName: String, uidValidity: UInt32, type: Int, parentId: String?) {
        self.folderId = folderId
        self.mailboxName = mailboxName
        self.uidValidity = uidValidity
        self.type = type
        self.parentId = parentId
    }
}

/// The folder hierarchy a device was last sent, kept per FolderSync key so that the next
/// FolderSync can send only what changed.
public struct HierarchySnapshot: Hashable, Sendable, Codable {
    public struct Entry: Hashable, Sendable, Codable {
        public var folderId: String
        public var parentId: String?
        public var displayName: String
        public var type: Int
        public init(folderId: String, parentId: String?, displayName: String, type: Int) {
            self.folderId = folderId
            self.parentId = parentId
            self.displayName = displayName
            self.type = type
        }
    }

    public var entries: [Entry]
    public init(entries: [Entry] = []) { self.entries = entries }
}

/// What a FolderSync key names for a device.
public enum HierarchyLookup: Hashable, Sendable {
    /// Key `0`: start over with an empty hierarchy.
    case initial
    /// The current key: the hierarchy the device was last sent.
    case current(key: SyncKey, snapshot: HierarchySnapshot)
    /// The key before the current one: the device did not get the last answer.
    case previous(key: SyncKey, snapshot: HierarchySnapshot)
    /// Any other key: FolderSync Status 9.
    case unknown
}
