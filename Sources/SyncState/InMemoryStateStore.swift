/// A `StateStore` that keeps everything in memory: for unit tests of the gateway, and the
/// reference the conformance suite holds the database stores to. Nothing survives the process.
public actor InMemoryStateStore: StateStore {
    private struct Generation {
        var state: CollectionGeneration
        var added: [MessageUID]
        var removed: [MessageUID]
    }

    private struct CollectionData {
        var generations: [Generation] = []  // oldest first, at most two
        var counter: Int64 = 0
        var held: Set<MessageUID> = []
        var lastPresentedKey: SyncKey?
        var presentedCount = 0
    }

    private struct HierarchyData {
        var generations: [(key: SyncKey, snapshot: HierarchySnapshot)] = []
        var counter: Int64 = 0
    }

    private struct FolderData {
        var folder: Folder
        var watermark: MailboxWatermark?
        var head: Int64 = 0
        var log: [LoggedChange] = []
    }

    private var accounts: [String: AccountID] = [:]
    private var usernames: [AccountID: String] = [:]
    private var nextFolderId: [AccountID: Int] = [:]
    private var devicesByRef: [DeviceRef: Device] = [:]
    private var foldersByRef: [FolderRef: FolderData] = [:]
    private var collections: [CollectionRef: CollectionData] = [:]
    private var hierarchies: [DeviceRef: HierarchyData] = [:]
    private var clientIds: [DeviceRef: [String: String]] = [:]
    private var trackerLeases: [AccountID: (node: String, expiresAt: Int64)] = [:]
    private var trackedFolderNotes: [AccountID: [String: Int64]] = [:]
    private let notifier: any ChangeNotifier

    public init(notifier: any ChangeNotifier = InProcessChangeNotifier()) {
        self.notifier = notifier
    }

    // MARK: Accounts and devices

    public func account(named username: String) throws -> AccountID {
        try StateLimits.check(username, max: StateLimits.maxUsernameLength, "username")
        if let id = accounts[username] { return id }
        let id = AccountID(Int64(accounts.count + 1))
        accounts[username] = id
        usernames[id] = username
        return id
    }

    public func username(of account: AccountID) -> String? { usernames[account] }

    public func recordContact(_ contact: DeviceContact) throws -> Device {
        try checkDevice(contact.ref)
        try StateLimits.check(contact.deviceType, max: StateLimits.maxDeviceTextLength, "DeviceType")
        var device = devicesByRef[contact.ref] ?? Device(ref: contact.ref, deviceType: contact.deviceType,
                                                        firstSeen: contact.at)
        device.deviceType = contact.deviceType
        device.userAgent = contact.userAgent.map { StateLimits.clipped($0) } ?? device.userAgent
        device.protocolVersion = contact.protocolVersion ?? device.protocolVersion
        device.lastSeen = max(device.lastSeen, contact.at)
        devicesByRef[contact.ref] = device
        return device
    }

    public func device(_ ref: DeviceRef) -> Device? { devicesByRef[ref] }

    public func devices(of account: AccountID?) -> [Device] {
        devicesByRef.values.filter { account == nil || $0.ref.account == account }
            .sorted { ($0.ref.account, $0.ref.deviceId) < ($1.ref.account, $1.ref.deviceId) }
    }

    public func deviceCount(of account: AccountID) -> Int {
        devicesByRef.keys.count { $0.account == account }
    }

    public func saveDevice(_ device: Device) throws {
        guard devicesByRef[device.ref] != nil else { throw StateStoreError(.notFound, "\(device.ref)") }
        devicesByRef[device.ref] = device
    }

    public func removeDevice(_ ref: DeviceRef) {
        devicesByRef[ref] = nil
        hierarchies[ref] = nil
        clientIds[ref] = nil
        for key in collections.keys where key.device == ref { collections[key] = nil }
    }

    // MARK: Folders

    public func folders(of account: AccountID) -> [Folder] {
        foldersByRef.filter { $0.key.account == account }.map(\.value.folder)
            .sorted { Int($0.folderId) ?? 0 < Int($1.folderId) ?? 0 }
    }

    public func saveFolder(of account: AccountID, mailboxName: String, uidValidity: UInt32, type: Int,
                           parentId: String?) -> Folder {
        if let (ref, data) = foldersByRef.first(where: { $0.key.account == account && $0.value.folder.mailboxName == mailboxName }) {
            var folder = data.folder
            folder.uidValidity = uidValidity
            folder.type = type
            folder.parentId = parentId
            foldersByRef[ref]!.folder = folder
            return folder
        }
        let number = (nextFolderId[account] ?? 0) + 1
        nextFolderId[account] = number
        let folder = Folder(folderId: String(number), mailboxName: mailboxName, uidValidity: uidValidity, type: type,
                            parentId: parentId)
        foldersByRef[FolderRef(account: account, folderId: folder.folderId)] = FolderData(folder: folder)
        return folder
    }

    public func renameFolder(_ folder: FolderRef, mailboxName: String, parentId: String?) throws {
        guard foldersByRef[folder] != nil else { throw StateStoreError(.notFound, "\(folder)") }
        foldersByRef[folder]!.folder.mailboxName = mailboxName
        foldersByRef[folder]!.folder.parentId = parentId
    }

    public func deleteFolder(_ folder: FolderRef) {
        foldersByRef[folder] = nil
        for key in collections.keys where key.folder == folder { collections[key] = nil }
    }

    // MARK: Folder hierarchy keys

    public func hierarchy(_ device: DeviceRef, key: SyncKey) throws -> HierarchyLookup {
        try checkKey(key)
        if key.isInitial { return .initial }
        let generations = hierarchies[device]?.generations ?? []
        if let current = generations.last, current.key == key { return .current(key: key, snapshot: current.snapshot) }
        if generations.count == 2, generations[0].key == key {
            return .previous(key: key, snapshot: generations[0].snapshot)
        }
        return .unknown
    }

    public func advanceHierarchy(_ device: DeviceRef, from basis: SyncKey, expectedCurrent: SyncKey?,
                                 to snapshot: HierarchySnapshot) throws -> SyncKey {
        try checkKey(basis)
        var data = hierarchies[device] ?? HierarchyData()
        guard data.generations.last?.key == expectedCurrent else { throw StateStoreError(.conflict, "\(device)") }
        if basis.isInitial {
            data.generations = []
        } else if data.generations.last?.key == basis {
            data.generations = [data.generations.last!]
        } else if data.generations.count == 2, data.generations[0].key == basis {
            data.generations = [data.generations[0]]
        } else {
            throw StateStoreError(.unknownSyncKey, basis.rawValue)
        }
        data.counter += 1
        let key = SyncKey.make(generation: data.counter)
        data.generations.append((key, snapshot))
        hierarchies[device] = data
        return key
    }

    // MARK: Change log

    public func logState(_ folder: FolderRef) throws -> FolderLogState {
        guard let data = foldersByRef[folder] else { throw StateStoreError(.notFound, "\(folder)") }
        return FolderLogState(watermark: data.watermark, head: data.head)
    }

    @discardableResult
    public func appendChanges(_ folder: FolderRef, _ entries: [ChangeEntry], watermark: MailboxWatermark) throws
        -> Int64 {
        guard var data = foldersByRef[folder] else { throw StateStoreError(.notFound, "\(folder)") }
        for entry in entries {
            data.head += 1
            data.log.append(LoggedChange(sequence: data.head, entry: entry))
        }
        data.watermark = watermark
        foldersByRef[folder] = data
        if !entries.isEmpty {
            notifier.post(ChangeNotification(account: folder.account, folderIds: [folder.folderId]))
        }
        return data.head
    }

    public func changes(_ folder: FolderRef, after sequence: Int64, limit: Int) throws -> [LoggedChange] {
        guard let data = foldersByRef[folder] else { throw StateStoreError(.notFound, "\(folder)") }
        return Array(data.log.lazy.filter { $0.sequence > sequence }.prefix(max(0, limit)))
    }

    public func resetLog(_ folder: FolderRef, watermark: MailboxWatermark) throws {
        guard foldersByRef[folder] != nil else { throw StateStoreError(.notFound, "\(folder)") }
        foldersByRef[folder]!.log = []
        foldersByRef[folder]!.watermark = watermark
        foldersByRef[folder]!.folder.uidValidity = watermark.uidValidity
        for key in collections.keys where key.folder == folder { collections[key] = nil }
        notifier.post(ChangeNotification(account: folder.account, folderIds: [folder.folderId]))
    }

    public func compact(_ account: AccountID, silentBefore: Int64, maxLag: Int64) -> CompactionReport {
        var report = CompactionReport()
        for (ref, data) in foldersByRef where ref.account == account {
            var lowest = data.head
            for (collection, state) in collections where collection.folder == ref {
                let silent = (devicesByRef[collection.device]?.lastSeen ?? 0) < silentBefore
                let oldestCursor = state.generations.map(\.state.cursor).min() ?? data.head
                if silent || data.head - oldestCursor > maxLag {
                    collections[collection] = nil
                    report.resetCollections.append(collection)
                } else {
                    lowest = min(lowest, oldestCursor)
                }
            }
            let before = data.log.count
            foldersByRef[ref]!.log.removeAll { $0.sequence <= lowest }
            report.removedEntries += before - foldersByRef[ref]!.log.count
        }
        report.resetCollections.sort { $0.description < $1.description }
        return report
    }

    // MARK: Collections

    public func collection(_ collection: CollectionRef, key: SyncKey) throws -> CollectionLookup {
        try StateLimits.check(collection)
        try checkKey(key)
        if key.isInitial { return .initial }
        let generations = collections[collection]?.generations ?? []
        if let current = generations.last, current.state.key == key { return .current(current.state) }
        if generations.count == 2, generations[0].state.key == key { return .previous(generations[0].state) }
        return .unknown
    }

    public func currentHierarchyKey(_ device: DeviceRef) -> SyncKey? {
        hierarchies[device]?.generations.last?.key
    }

    public func currentCollectionKey(_ collection: CollectionRef) -> SyncKey? {
        collections[collection]?.generations.last?.state.key
    }

    public func advanceCollection(_ collection: CollectionRef, from basis: SyncKey, expectedCurrent: SyncKey?,
                                  to advance: CollectionAdvance) throws -> CollectionGeneration {
        try StateLimits.check(collection)
        try checkKey(basis)
        try checkExists(collection)
        var data = collections[collection] ?? CollectionData()
        guard data.generations.last?.state.key == expectedCurrent else {
            throw StateStoreError(.conflict, "\(collection)")
        }
        if basis.isInitial {
            data.generations = []
            data.held = []
        } else if data.generations.last?.state.key == basis {
            data.generations = [data.generations.last!]
        } else if data.generations.count == 2, data.generations[0].state.key == basis {
            let undone = data.generations.removeLast()
            data.held.subtract(undone.added)
            data.held.formUnion(undone.removed)
        } else {
            throw StateStoreError(.unknownSyncKey, basis.rawValue)
        }
        data.counter += 1
        let state = CollectionGeneration(key: SyncKey.make(generation: data.counter), number: data.counter,
                                         cursor: advance.cursor, initialSyncPosition: advance.initialSyncPosition,
                                         filterType: advance.filterType, options: advance.options)
        // Record only what really changed, so undoing a replayed generation restores exactly.
        let added = advance.added.filter { !data.held.contains($0) }
        let removed = advance.removed.filter { data.held.contains($0) && !advance.added.contains($0) }
        data.held.formUnion(added)
        data.held.subtract(removed)
        data.generations.append(Generation(state: state, added: added, removed: removed))
        collections[collection] = data
        return state
    }

    public func heldMessages(_ collection: CollectionRef) -> Set<MessageUID> {
        collections[collection]?.held ?? []
    }

    public func heldMessages(_ collection: CollectionRef, asOf number: Int64) -> Set<MessageUID> {
        guard let data = collections[collection] else { return [] }
        var held = data.held
        for generation in data.generations.reversed() where generation.state.number > number {
            held.subtract(generation.added)
            held.formUnion(generation.removed)
        }
        return held
    }

    public func heldMessages(_ collection: CollectionRef, among uids: Set<MessageUID>, asOf number: Int64?)
        -> Set<MessageUID>
    {
        uids.intersection(number.map { heldMessages(collection, asOf: $0) } ?? heldMessages(collection))
    }

    public func countKeyUse(_ collection: CollectionRef, key: SyncKey) throws -> Int {
        try StateLimits.check(collection)
        try checkKey(key)
        try checkExists(collection)
        var data = collections[collection] ?? CollectionData()
        data.presentedCount = data.lastPresentedKey == key ? data.presentedCount + 1 : 1
        data.lastPresentedKey = key
        collections[collection] = data
        return data.presentedCount
    }

    // MARK: ClientId map

    public func serverId(_ device: DeviceRef, scope: String, clientId: String) throws -> String? {
        try StateLimits.check(clientId, max: StateLimits.maxClientIdLength, "ClientId")
        return clientIds[device]?[scope + "\u{0}" + clientId]
    }

    public func recordClientId(_ device: DeviceRef, scope: String, clientId: String, serverId: String) throws
        -> String {
        try StateLimits.check(clientId, max: StateLimits.maxClientIdLength, "ClientId")
        guard devicesByRef[device] != nil else { throw StateStoreError(.notFound, "\(device)") }
        let key = scope + "\u{0}" + clientId
        if let existing = clientIds[device]?[key] { return existing }
        clientIds[device, default: [:]][key] = serverId
        return serverId
    }

    // MARK: Checks

    private func checkDevice(_ ref: DeviceRef) throws {
        try StateLimits.check(ref.deviceId, max: StateLimits.maxDeviceIdLength, "DeviceId")
        guard usernames[ref.account] != nil else { throw StateStoreError(.notFound, "\(ref.account)") }
    }

    private func checkExists(_ collection: CollectionRef) throws {
        guard devicesByRef[collection.device] != nil, foldersByRef[collection.folder] != nil else {
            throw StateStoreError(.notFound, "\(collection)")
        }
    }

    private func checkKey(_ key: SyncKey) throws {
        try StateLimits.check(key.rawValue, max: StateLimits.maxSyncKeyLength, "SyncKey")
    }

    public func adjustHeld(_ collection: CollectionRef, adding: [MessageUID], removing: [MessageUID]) throws {
        try StateLimits.check(collection)
        guard var data = collections[collection], !data.generations.isEmpty else { return }
        let index = data.generations.count - 1
        // As if the current generation had made the change: a replay of the previous key undoes it.
        let removed = removing.filter { data.held.contains($0) }
        let added = adding.filter { !data.held.contains($0) }
        data.held.subtract(removed)
        data.held.formUnion(added)
        data.generations[index].removed += removed
        data.generations[index].added += added
        collections[collection] = data
    }

    // MARK: Resync

    public func resetSyncState(_ device: DeviceRef, folderId: String?) throws {
        guard devicesByRef[device] != nil else { throw StateStoreError(.notFound, "\(device)") }
        for key in collections.keys where key.device == device && (folderId == nil || key.folderId == folderId) {
            collections[key]?.generations = []
            collections[key]?.held = []
            collections[key]?.lastPresentedKey = nil
            collections[key]?.presentedCount = 0
        }
        if folderId == nil {
            hierarchies[device]?.generations = []
        }
    }

    // MARK: Trackers across nodes

    public nonisolated var sharedByNodes: Bool { false }

    public func claimTrackerLease(_ account: AccountID, node: String, now: Int64, expiresAt: Int64) -> Bool {
        if let lease = trackerLeases[account], lease.node != node, lease.expiresAt >= now { return false }
        trackerLeases[account] = (node, expiresAt)
        return true
    }

    public func releaseTrackerLease(_ account: AccountID, node: String) {
        if trackerLeases[account]?.node == node { trackerLeases[account] = nil }
    }

    public func noteTrackedFolders(_ account: AccountID, folderIds: [String], at time: Int64) {
        for folderId in folderIds { trackedFolderNotes[account, default: [:]][folderId] = time }
    }

    public func trackedFolders(_ account: AccountID, since: Int64) -> [String] {
        (trackedFolderNotes[account] ?? [:]).filter { $0.value >= since }.map(\.key).sorted()
    }
}
