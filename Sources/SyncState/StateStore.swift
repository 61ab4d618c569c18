/// Everything the gateway remembers, and the guarantees it relies on. The mail itself is never
/// stored here. `docs/state-store.md` states the semantics; the conformance suite in
/// `Tests/SyncStateTests` checks every implementation against them.
///
/// Ids from clients (DeviceId, SyncKey, ClientId, CollectionId) are checked against
/// `StateLimits` and only ever used as bound values, never in SQL text.
public protocol StateStore: Sendable {
    // MARK: Accounts and devices

    /// The account with this login, created on first use.
    func account(named username: String) async throws -> AccountID

    /// The login of an account.
    func username(of account: AccountID) async throws -> String?

    /// Records a request from a device: creates it on first contact, updates type, agent,
    /// version and last-seen time otherwise. Returns the device as now stored.
    func recordContact(_ contact: DeviceContact) async throws -> Device

    /// The device, if it has ever made contact.
    func device(_ ref: DeviceRef) async throws -> Device?

    /// Every device of one account, or of all accounts.
    func devices(of account: AccountID?) async throws -> [Device]

    /// How many devices the account has: what the device limit checks on a new partnership,
    /// without reading each device.
    func deviceCount(of account: AccountID) async throws -> Int

    /// Replaces the stored fields of an existing device (policy, wipe, access, information,
    /// Ping cache). Throws `.notFound` if it does not exist.
    func saveDevice(_ device: Device) async throws

    /// Removes a device and everything kept for it: its collections, hierarchy keys, ClientId
    /// map and counters. The account's folders and change log stay.
    func removeDevice(_ ref: DeviceRef) async throws

    // MARK: Folders

    /// The account's folders.
    func folders(of account: AccountID) async throws -> [Folder]

    /// Records a mailbox, giving it a new folder id the first time its name is seen; later
    /// calls update its UIDVALIDITY, type and parent and keep the id.
    func saveFolder(of account: AccountID, mailboxName: String, uidValidity: UInt32, type: Int,
                    parentId: String?) async throws -> Folder

    /// Records that a folder's mailbox was renamed or moved; the folder id stays.
    func renameFolder(_ folder: FolderRef, mailboxName: String, parentId: String?) async throws

    /// Removes a folder with its change log, watermark and every device's collection of it.
    func deleteFolder(_ folder: FolderRef) async throws

    // MARK: Folder hierarchy keys

    /// What a FolderSync key names for this device.
    func hierarchy(_ device: DeviceRef, key: SyncKey) async throws -> HierarchyLookup

    /// Makes `snapshot` the device's hierarchy under a new key, based on `basis` (the key the
    /// client sent, current or previous or `0`). Keys older than the basis are dropped.
    /// Throws `.unknownSyncKey` if `basis` is none of those, `.conflict` if another request
    /// advanced the hierarchy since `expectedCurrent` was read.
    func advanceHierarchy(_ device: DeviceRef, from basis: SyncKey, expectedCurrent: SyncKey?,
                          to snapshot: HierarchySnapshot) async throws -> SyncKey

    /// The device's newest FolderSync key, nil before its first FolderSync: what
    /// `advanceHierarchy` expects as `expectedCurrent`.
    func currentHierarchyKey(_ device: DeviceRef) async throws -> SyncKey?

    // MARK: Change log

    /// The tracker's watermark and the newest sequence of a folder's log.
    func logState(_ folder: FolderRef) async throws -> FolderLogState

    /// Appends changes and moves the watermark, atomically, and wakes every waiter on the
    /// folder. Returns the new head. An empty `entries` only moves the watermark.
    @discardableResult
    func appendChanges(_ folder: FolderRef, _ entries: [ChangeEntry], watermark: MailboxWatermark) async throws
        -> Int64

    /// Up to `limit` entries after `sequence`, oldest first.
    func changes(_ folder: FolderRef, after sequence: Int64, limit: Int) async throws -> [LoggedChange]

    /// Starts a folder's log over after its UIDVALIDITY changed: drops its entries and every
    /// device's collection of it (their next Sync gets Status 3), keeps the sequence going.
    func resetLog(_ folder: FolderRef, watermark: MailboxWatermark) async throws

    /// Removes entries every collection of the account has passed. Collections whose device
    /// has been silent since before `silentBefore` (ms since 1970), or whose cursor is more
    /// than `maxLag` entries behind the head, are dropped first so they do not pin the log.
    func compact(_ account: AccountID, silentBefore: Int64, maxLag: Int64) async throws -> CompactionReport

    // MARK: Collections

    /// What a Sync key names for this collection.
    func collection(_ collection: CollectionRef, key: SyncKey) async throws -> CollectionLookup

    /// Moves a collection to a new generation based on `basis`, recording what the response
    /// gave and took, atomically. With `basis` current, the previous generation is dropped;
    /// with `basis` previous (a replay), the current one is undone first; with `0`, everything
    /// is dropped. Throws `.unknownSyncKey` for any other basis and `.conflict` if another
    /// request advanced the collection since `expectedCurrent` was read.
    func advanceCollection(_ collection: CollectionRef, from basis: SyncKey, expectedCurrent: SyncKey?,
                           to advance: CollectionAdvance) async throws -> CollectionGeneration

    /// The collection's newest Sync key, nil before its first Sync: what `advanceCollection`
    /// expects as `expectedCurrent`.
    func currentCollectionKey(_ collection: CollectionRef) async throws -> SyncKey?

    /// The messages the device holds according to the current generation.
    func heldMessages(_ collection: CollectionRef) async throws -> Set<MessageUID>

    /// The messages the device held when generation `number` was current (the current or the
    /// previous one): what a replay of the previous key is computed against.
    func heldMessages(_ collection: CollectionRef, asOf number: Int64) async throws -> Set<MessageUID>

    /// Which of `uids` the device holds: in the current generation, or with `asOf`, when
    /// generation `asOf` was current. Costs the size of `uids`, not of the folder, so that a
    /// Sync's work grows with the changes it carries rather than with the mailbox.
    func heldMessages(_ collection: CollectionRef, among uids: Set<MessageUID>, asOf number: Int64?) async throws
        -> Set<MessageUID>

    /// Counts how often in a row the client presented `key`, for loop detection: 1 the first
    /// time, 2 when it repeats it, and so on; another key starts over at 1.
    func countKeyUse(_ collection: CollectionRef, key: SyncKey) async throws -> Int

    // MARK: ClientId map

    /// The server id recorded for a client's `clientId` in `scope` (e.g. a folder id for Adds,
    /// `sendmail` for SendMail), if any.
    func serverId(_ device: DeviceRef, scope: String, clientId: String) async throws -> String?

    /// Records `serverId` for `clientId` unless one is recorded already; returns the one that
    /// is recorded now, so a replayed request gets the first answer.
    func recordClientId(_ device: DeviceRef, scope: String, clientId: String, serverId: String) async throws
        -> String

    /// Changes what the device holds in the collection's current generation without a new
    /// key: for items the device moved itself (MoveItems), which its next Sync must neither
    /// delete from the source nor add to the destination again. Nothing happens when the
    /// device has no current key for the folder.
    func adjustHeld(_ collection: CollectionRef, adding: [MessageUID], removing: [MessageUID]) async throws

    // MARK: Resync

    /// Forgets what the device was sent of `folderId` (every folder and the hierarchy when
    /// nil), so that its next Sync answers Status 3 (next FolderSync Status 9) and the device
    /// starts over. Counters are kept: no Sync key is ever issued twice.
    func resetSyncState(_ device: DeviceRef, folderId: String?) async throws

    // MARK: Trackers across nodes

    /// Whether other processes may use this store at the same time (PostgreSQL): only then
    /// do trackers need leases and shared folder notes.
    var sharedByNodes: Bool { get }

    /// Takes the account's tracker lease for `node` until `expiresAt` (milliseconds since 1970)
    /// when it is free, expired at `now`, or `node`'s already. Returns whether `node` holds it.
    func claimTrackerLease(_ account: AccountID, node: String, now: Int64, expiresAt: Int64) async throws -> Bool

    /// Gives the lease up if `node` holds it.
    func releaseTrackerLease(_ account: AccountID, node: String) async throws

    /// Records that devices use these folders (Sync or Ping) at `time`, so that the tracker on
    /// whichever node holds the lease watches them.
    func noteTrackedFolders(_ account: AccountID, folderIds: [String], at time: Int64) async throws

    /// The folders noted at or after `since`.
    func trackedFolders(_ account: AccountID, since: Int64) async throws -> [String]
}
