import SyncState
import Testing

/// The semantics every `StateStore` guarantees (docs/state-store.md), run against each backend.
@Suite("StateStore conformance")
struct StateStoreConformanceTests {
    static let backends = StoreBackend.available

    // MARK: Accounts and devices

    @Test("accounts are created once per login", arguments: backends)
    func accounts(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let demo = try await store.account(named: "demo@airgate.test")
            #expect(try await store.account(named: "demo@airgate.test") == demo)
            let other = try await store.account(named: "other@airgate.test")
            #expect(other != demo)
            #expect(try await store.username(of: demo) == "demo@airgate.test")
        }
    }

    @Test("a device is created on first contact and updated on the next", arguments: backends)
    func devices(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            let ref = DeviceRef(account: account, deviceId: "ApplF17XK0X1")
            let first = try await store.recordContact(
                DeviceContact(ref: ref, deviceType: "iPhone", userAgent: "Apple-iPhone15C2/2104.100",
                              protocolVersion: "16.1", at: 1_000))
            #expect(first.firstSeen == 1_000 && first.lastSeen == 1_000 && first.accessState == .allowed)
            let second = try await store.recordContact(
                DeviceContact(ref: ref, deviceType: "iPhone", userAgent: nil, protocolVersion: "14.1", at: 2_000))
            #expect(second.firstSeen == 1_000 && second.lastSeen == 2_000)
            #expect(second.userAgent == "Apple-iPhone15C2/2104.100" && second.protocolVersion == "14.1")

            var device = second
            device.policyKey = "3942919513"
            device.policyState = .final
            device.wipeState = .pending
            device.wipeAccountOnly = true
            device.accessState = .quarantined
            device.accessReason = .rule
            device.protocolTrace = true
            device.information = DeviceInformation(model: "iPhone15,2", os: "iOS 18.1", osLanguage: "de-DE")
            device.pingHeartbeat = 3540
            device.pingFolderIds = ["1", "5"]
            try await store.saveDevice(device)
            #expect(try await store.device(ref) == device)
            #expect(try await store.devices(of: account) == [device])
            #expect(try await store.devices(of: nil).count == 1)
            #expect(try await store.deviceCount(of: account) == 1)
            #expect(try await store.deviceCount(of: AccountID(9_999)) == 0)

            let stranger = Device(ref: DeviceRef(account: account, deviceId: "never-seen"), deviceType: "x",
                                  firstSeen: 0)
            await #expect(throws: StateStoreError.self) { try await store.saveDevice(stranger) }
            // A device cannot appear under an account that does not exist.
            let nowhere = DeviceRef(account: AccountID(9_999), deviceId: "ApplF17XK0X1")
            await #expect {
                try await store.recordContact(DeviceContact(ref: nowhere, deviceType: "iPhone", userAgent: nil,
                                                            protocolVersion: nil, at: 0))
            } throws: { ($0 as? StateStoreError)?.code == .notFound }
        }
    }

    @Test("ids from clients are bounded", arguments: backends)
    func limits(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            let long = String(repeating: "x", count: 500)
            await expectInvalid { _ = try await store.account(named: "") }
            await expectInvalid {
                _ = try await store.recordContact(DeviceContact(ref: DeviceRef(account: account, deviceId: long),
                                                                deviceType: "x", userAgent: nil, protocolVersion: nil, at: 0))
            }
            let device = try await registeredDevice(store, account)
            let collection = CollectionRef(device: device, folderId: "1")
            await expectInvalid { _ = try await store.collection(collection, key: SyncKey(long)) }
            await expectInvalid { _ = try await store.collection(collection, key: SyncKey("")) }
            await expectInvalid { _ = try await store.hierarchy(device, key: SyncKey(long)) }
            await expectInvalid { _ = try await store.collection(CollectionRef(device: device, folderId: long), key: .initial) }
            await expectInvalid { _ = try await store.countKeyUse(CollectionRef(device: device, folderId: ""), key: SyncKey("1")) }
            await expectInvalid { _ = try await store.serverId(device, scope: "1", clientId: long) }
            // SQL meta-characters are just characters.
            let tricky = "1'; DROP TABLE devices; --"
            #expect(try await store.collection(CollectionRef(device: device, folderId: "1"), key: SyncKey(tricky)) == .unknown)
            #expect(try await store.recordClientId(device, scope: tricky, clientId: tricky, serverId: tricky) == tricky)
            #expect(try await store.device(device) != nil)
        }
    }

    // MARK: Folders

    @Test("folder ids are stable across updates and renames and never reused", arguments: backends)
    func folders(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            let inbox = try await store.saveFolder(of: account, mailboxName: "INBOX", uidValidity: 7, type: 2, parentId: nil)
            let projects = try await store.saveFolder(of: account, mailboxName: "Projects", uidValidity: 9, type: 12,
                                                      parentId: nil)
            #expect(inbox.folderId != projects.folderId)
            let again = try await store.saveFolder(of: account, mailboxName: "INBOX", uidValidity: 8, type: 2, parentId: nil)
            #expect(again.folderId == inbox.folderId && again.uidValidity == 8)
            try await store.renameFolder(FolderRef(account: account, folderId: projects.folderId),
                                         mailboxName: "Archive/Projects", parentId: inbox.folderId)
            let renamed = try await store.folders(of: account).first { $0.folderId == projects.folderId }
            #expect(renamed?.mailboxName == "Archive/Projects" && renamed?.parentId == inbox.folderId)

            try await store.deleteFolder(FolderRef(account: account, folderId: projects.folderId))
            let recreated = try await store.saveFolder(of: account, mailboxName: "Projects", uidValidity: 10, type: 12,
                                                       parentId: nil)
            #expect(recreated.folderId != projects.folderId)
            #expect(try await store.folders(of: account).map(\.folderId) == [inbox.folderId, recreated.folderId])
        }
    }

    // MARK: Hierarchy keys

    @Test("FolderSync keys: current, previous (replay), unknown, and concurrent advances", arguments: backends)
    func hierarchy(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            let device = try await registeredDevice(store, account)
            let one = HierarchySnapshot(entries: [.init(folderId: "1", parentId: nil, displayName: "Inbox", type: 2)])
            let two = HierarchySnapshot(entries: one.entries + [.init(folderId: "2", parentId: nil, displayName: "Sent", type: 5)])
            #expect(try await store.hierarchy(device, key: .initial) == .initial)
            #expect(try await store.currentHierarchyKey(device) == nil)
            let k1 = try await store.advanceHierarchy(device, from: .initial, expectedCurrent: nil, to: one)
            #expect(try await store.currentHierarchyKey(device) == k1)
            #expect(try await store.hierarchy(device, key: k1) == .current(key: k1, snapshot: one))
            let k2 = try await store.advanceHierarchy(device, from: k1, expectedCurrent: k1, to: two)
            #expect(k2 != k1)
            #expect(try await store.hierarchy(device, key: k1) == .previous(key: k1, snapshot: one))
            // Replaying k1 replaces k2.
            let k2b = try await store.advanceHierarchy(device, from: k1, expectedCurrent: k2, to: two)
            #expect(try await store.hierarchy(device, key: k2) == .unknown)
            #expect(try await store.hierarchy(device, key: k2b) == .current(key: k2b, snapshot: two))
            #expect(try await store.currentHierarchyKey(device) == k2b)
            #expect(try await store.hierarchy(device, key: SyncKey("17")) == .unknown)
            await #expect { try await store.advanceHierarchy(device, from: SyncKey("17"), expectedCurrent: k2b, to: one) }
                throws: { ($0 as? StateStoreError)?.code == .unknownSyncKey }
            await #expect { try await store.advanceHierarchy(device, from: k2b, expectedCurrent: k1, to: one) }
                throws: { ($0 as? StateStoreError)?.code == .conflict }
        }
    }

    // MARK: Change log

    @Test("the change log appends in order, pages, and keeps its sequence across a reset", arguments: backends)
    func changeLog(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            let folder = try await inboxRef(store, account)
            #expect(try await store.logState(folder) == FolderLogState(watermark: nil, head: 0))
            let mark1 = MailboxWatermark(uidValidity: 7, highestModSeq: 100, uidNext: 4)
            let head = try await store.appendChanges(folder, [
                ChangeEntry(kind: .added, uid: 1, modSeq: 98, flags: ["\\Seen"]),
                ChangeEntry(kind: .added, uid: 2, modSeq: 99),
                ChangeEntry(kind: .flagsChanged, uid: 1, modSeq: 100, flags: ["\\Seen", "\\Flagged", "$Label1"]),
            ], watermark: mark1)
            #expect(head == 3)
            #expect(try await store.logState(folder) == FolderLogState(watermark: mark1, head: 3))
            let all = try await store.changes(folder, after: 0, limit: 100)
            #expect(all.map(\.sequence) == [1, 2, 3])
            #expect(all[2].entry == ChangeEntry(kind: .flagsChanged, uid: 1, modSeq: 100,
                                                flags: ["\\Seen", "\\Flagged", "$Label1"]))
            #expect(try await store.changes(folder, after: 1, limit: 1).map(\.sequence) == [2])
            // Only the watermark moves.
            let mark2 = MailboxWatermark(uidValidity: 7, highestModSeq: 101, uidNext: 4)
            #expect(try await store.appendChanges(folder, [], watermark: mark2) == 3)
            try await store.appendChanges(folder, [ChangeEntry(kind: .removed, uid: 2, modSeq: 102)],
                                          watermark: MailboxWatermark(uidValidity: 7, highestModSeq: 102, uidNext: 4))

            let mark3 = MailboxWatermark(uidValidity: 8, highestModSeq: 1, uidNext: 1)
            try await store.resetLog(folder, watermark: mark3)
            #expect(try await store.changes(folder, after: 0, limit: 100) == [])
            #expect(try await store.logState(folder) == FolderLogState(watermark: mark3, head: 4))
            #expect(try await store.appendChanges(folder, [ChangeEntry(kind: .added, uid: 1, modSeq: 2)], watermark: mark3) == 5)
        }
    }

    @Test("appending wakes subscribers of the account", arguments: backends)
    func wakeUp(backend: StoreBackend) async throws {
        try await backend.withStore { store, notifier in
            let account = try await store.account(named: "demo@airgate.test")
            let folder = try await inboxRef(store, account)
            let stream = notifier.subscribe(account)
            try await store.appendChanges(folder, [ChangeEntry(kind: .added, uid: 1, modSeq: 1)],
                                          watermark: MailboxWatermark(uidValidity: 7, highestModSeq: 1, uidNext: 2))
            var iterator = stream.makeAsyncIterator()
            let notice = await iterator.next()
            #expect(notice?.account == account && notice?.folderIds == [folder.folderId])
        }
    }

    @Test("a dropped subscription is forgotten, so ended Pings leave nothing behind")
    func subscriptionsEnd() async throws {
        let notifier = InProcessChangeNotifier()
        do {
            let stream = notifier.subscribe(AccountID(1))
            _ = notifier.subscribe(AccountID(2))
            #expect(notifier.subscriberCount >= 1)
            _ = stream
        }
        for _ in 0..<100 where notifier.subscriberCount > 0 {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(notifier.subscriberCount == 0)
    }

    // MARK: Collections

    @Test("SyncKeys: initial, advance, replay of the previous key, unknown keys", arguments: backends)
    func collectionKeys(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            let folder = try await inboxRef(store, account)
            let device = try await registeredDevice(store, account)
            let collection = CollectionRef(device: device, folderId: folder.folderId)
            #expect(try await store.collection(collection, key: .initial) == .initial)

            let g1 = try await store.advanceCollection(collection, from: .initial, expectedCurrent: nil,
                                                       to: CollectionAdvance(cursor: 0, initialSyncPosition: "start", filterType: 3))
            #expect(g1.initialSyncPosition == "start" && g1.filterType == 3)
            #expect(try await store.collection(collection, key: g1.key) == .current(g1))
            let g2 = try await store.advanceCollection(collection, from: g1.key, expectedCurrent: g1.key,
                                                       to: CollectionAdvance(cursor: 3, added: [10, 11, 12]))
            #expect(try await store.heldMessages(collection) == [10, 11, 12])
            #expect(try await store.collection(collection, key: g1.key) == .previous(g1))
            let g3 = try await store.advanceCollection(collection, from: g2.key, expectedCurrent: g2.key,
                                                       to: CollectionAdvance(cursor: 5, added: [13], removed: [10]))
            #expect(try await store.heldMessages(collection) == [11, 12, 13])
            #expect(try await store.heldMessages(collection, asOf: g2.number) == [10, 11, 12])
            #expect(try await store.heldMessages(collection, asOf: g3.number) == [11, 12, 13])
            // Asked about some UIDs only: the same answers, limited to them.
            #expect(try await store.heldMessages(collection, among: [10, 13, 99], asOf: nil) == [13])
            #expect(try await store.heldMessages(collection, among: [10, 13, 99], asOf: g2.number) == [10])
            #expect(try await store.heldMessages(collection, among: [], asOf: nil) == [])
            #expect(try await store.heldMessages(collection, among: Set(1...1000), asOf: nil) == [11, 12, 13])
            // A dense set with a hole (read as a range): only the UIDs asked about.
            #expect(try await store.heldMessages(collection, among: [10, 12, 13], asOf: nil) == [12, 13])
            #expect(try await store.heldMessages(collection, among: [10, 12, 13], asOf: g2.number) == [10, 12])
            #expect(try await store.heldMessages(CollectionRef(device: DeviceRef(account: account, deviceId: "nobody"),
                                                               folderId: folder.folderId), among: [11], asOf: nil) == [])
            #expect(try await store.currentCollectionKey(collection) == g3.key)
            #expect(try await store.collection(collection, key: g1.key) == .unknown)
            #expect(g3.number > g2.number && g2.number > g1.number)

            // The client never got g3's answer and repeats g2: g3 is undone, then redone.
            let g3b = try await store.advanceCollection(collection, from: g2.key, expectedCurrent: g3.key,
                                                        to: CollectionAdvance(cursor: 5, added: [13, 14], removed: [10]))
            #expect(try await store.collection(collection, key: g3.key) == .unknown)
            #expect(try await store.collection(collection, key: g3b.key) == .current(g3b))
            #expect(try await store.heldMessages(collection) == [11, 12, 13, 14])
            // Undoing restores exactly what g2 left.
            let g3c = try await store.advanceCollection(collection, from: g2.key, expectedCurrent: g3b.key,
                                                        to: CollectionAdvance(cursor: 3))
            #expect(try await store.heldMessages(collection) == [10, 11, 12])
            #expect(g3c.cursor == 3)

            await #expect { try await store.advanceCollection(collection, from: SyncKey("9-abc"), expectedCurrent: g3c.key,
                                                              to: CollectionAdvance(cursor: 9)) }
                throws: { ($0 as? StateStoreError)?.code == .unknownSyncKey }
            // Another device's key names nothing here.
            let otherDevice = try await registeredDevice(store, account, id: "androidc1234")
            let otherCollection = CollectionRef(device: otherDevice, folderId: folder.folderId)
            #expect(try await store.collection(otherCollection, key: g3c.key) == .unknown)
            // Nor does it name anything for the same DeviceId under another account.
            let otherAccount = try await store.account(named: "other@airgate.test")
            let otherInbox = try await inboxRef(store, otherAccount)
            let sameIdElsewhere = try await registeredDevice(store, otherAccount)
            #expect(try await store.collection(CollectionRef(device: sameIdElsewhere, folderId: otherInbox.folderId),
                                               key: g3c.key) == .unknown)
            // A collection of a folder that does not exist cannot be advanced.
            await #expect { try await store.advanceCollection(CollectionRef(device: device, folderId: "999"), from: .initial,
                                                              expectedCurrent: nil, to: CollectionAdvance(cursor: 0)) }
                throws: { ($0 as? StateStoreError)?.code == .notFound }
            // Key 0 starts over.
            let fresh = try await store.advanceCollection(collection, from: .initial, expectedCurrent: g3c.key,
                                                          to: CollectionAdvance(cursor: 5))
            #expect(try await store.heldMessages(collection) == [])
            #expect(try await store.collection(collection, key: g3c.key) == .unknown)
            #expect(fresh.number > g3c.number)
        }
    }

    @Test("a message taken and given back is held exactly when it should be, across replays", arguments: backends)
    func takenAndGivenBack(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            let folder = try await inboxRef(store, account)
            let device = try await registeredDevice(store, account)
            let collection = CollectionRef(device: device, folderId: folder.folderId)
            let g1 = try await store.advanceCollection(collection, from: .initial, expectedCurrent: nil,
                                                       to: CollectionAdvance(cursor: 1, added: [10, 11]))
            let g2 = try await store.advanceCollection(collection, from: g1.key, expectedCurrent: g1.key,
                                                       to: CollectionAdvance(cursor: 2, removed: [10]))
            #expect(try await store.heldMessages(collection) == [11])
            let g3 = try await store.advanceCollection(collection, from: g2.key, expectedCurrent: g2.key,
                                                       to: CollectionAdvance(cursor: 3, added: [10]))
            #expect(try await store.heldMessages(collection) == [10, 11])
            // Replaying g2 undoes g3: 10 is gone again, as g2 left it.
            let g3b = try await store.advanceCollection(collection, from: g2.key, expectedCurrent: g3.key,
                                                        to: CollectionAdvance(cursor: 3))
            #expect(try await store.heldMessages(collection) == [11])
            // Taking and giving in one response: giving wins.
            _ = try await store.advanceCollection(collection, from: g3b.key, expectedCurrent: g3b.key,
                                                  to: CollectionAdvance(cursor: 4, added: [12], removed: [12, 11]))
            #expect(try await store.heldMessages(collection) == [12])
        }
    }

    @Test("concurrent advances of one collection: exactly one wins, the others are told", arguments: backends)
    func concurrentAdvances(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            let folder = try await inboxRef(store, account)
            let device = try await registeredDevice(store, account)
            let collection = CollectionRef(device: device, folderId: folder.folderId)
            let g1 = try await store.advanceCollection(collection, from: .initial, expectedCurrent: nil,
                                                       to: CollectionAdvance(cursor: 0))
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        do {
                            _ = try await store.advanceCollection(
                                collection, from: g1.key, expectedCurrent: g1.key,
                                to: CollectionAdvance(cursor: 1, added: [MessageUID(100 + index)]))
                            return true
                        } catch let error as StateStoreError where error.code == .conflict {
                            return false
                        } catch {
                            Issue.record("unexpected \(error)")
                            return false
                        }
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await store.heldMessages(collection).count == 1)
        }
    }

    @Test("loop detection counts a key presented again and again", arguments: backends)
    func keyUse(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            let folder = try await inboxRef(store, account)
            let device = try await registeredDevice(store, account)
            let collection = CollectionRef(device: device, folderId: folder.folderId)
            #expect(try await store.countKeyUse(collection, key: SyncKey("5-a")) == 1)
            #expect(try await store.countKeyUse(collection, key: SyncKey("5-a")) == 2)
            #expect(try await store.countKeyUse(collection, key: SyncKey("5-a")) == 3)
            #expect(try await store.countKeyUse(collection, key: SyncKey("6-b")) == 1)
        }
    }

    @Test("a replayed ClientId gets the first ServerId", arguments: backends)
    func clientIds(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            let device = try await registeredDevice(store, account)
            #expect(try await store.serverId(device, scope: "4", clientId: "c-1") == nil)
            #expect(try await store.recordClientId(device, scope: "4", clientId: "c-1", serverId: "4:101") == "4:101")
            #expect(try await store.recordClientId(device, scope: "4", clientId: "c-1", serverId: "4:102") == "4:101")
            #expect(try await store.serverId(device, scope: "4", clientId: "c-1") == "4:101")
            #expect(try await store.serverId(device, scope: "sendmail", clientId: "c-1") == nil)
        }
    }

    // MARK: Deletion and compaction

    @Test("removing a device removes its collections, keys and ClientIds, not the account's log", arguments: backends)
    func removeDevice(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            let folder = try await inboxRef(store, account)
            let device = try await registeredDevice(store, account)
            let collection = CollectionRef(device: device, folderId: folder.folderId)
            try await store.appendChanges(folder, [ChangeEntry(kind: .added, uid: 1, modSeq: 1)],
                                          watermark: MailboxWatermark(uidValidity: 7, highestModSeq: 1, uidNext: 2))
            let g1 = try await store.advanceCollection(collection, from: .initial, expectedCurrent: nil,
                                                       to: CollectionAdvance(cursor: 1, added: [1]))
            let h1 = try await store.advanceHierarchy(device, from: .initial, expectedCurrent: nil, to: HierarchySnapshot())
            _ = try await store.recordClientId(device, scope: "x", clientId: "c", serverId: "s")
            try await store.removeDevice(device)
            #expect(try await store.device(device) == nil)
            #expect(try await store.collection(collection, key: g1.key) == .unknown)
            #expect(try await store.heldMessages(collection) == [])
            #expect(try await store.hierarchy(device, key: h1) == .unknown)
            #expect(try await store.serverId(device, scope: "x", clientId: "c") == nil)
            #expect(try await store.changes(folder, after: 0, limit: 10).count == 1)
        }
    }

    @Test("a resync forgets one collection, or every collection and the hierarchy; keys are not reused", arguments: backends)
    func resync(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            let inbox = try await inboxRef(store, account)
            let sent = FolderRef(account: account, folderId: try await store.saveFolder(
                of: account, mailboxName: "Sent", uidValidity: 1, type: 5, parentId: nil).folderId)
            let device = try await registeredDevice(store, account)
            let inInbox = CollectionRef(device: device, folderId: inbox.folderId)
            let inSent = CollectionRef(device: device, folderId: sent.folderId)
            let i1 = try await store.advanceCollection(inInbox, from: .initial, expectedCurrent: nil,
                                                       to: CollectionAdvance(cursor: 0, added: [1, 2]))
            let s1 = try await store.advanceCollection(inSent, from: .initial, expectedCurrent: nil,
                                                       to: CollectionAdvance(cursor: 0, added: [5]))
            let h1 = try await store.advanceHierarchy(device, from: .initial, expectedCurrent: nil, to: HierarchySnapshot())

            try await store.resetSyncState(device, folderId: inbox.folderId)
            #expect(try await store.collection(inInbox, key: i1.key) == .unknown)
            #expect(try await store.currentCollectionKey(inInbox) == nil)
            #expect(try await store.heldMessages(inInbox) == [])
            #expect(try await store.collection(inSent, key: s1.key) == .current(s1))
            #expect(try await store.hierarchy(device, key: h1) != .unknown)
            let i2 = try await store.advanceCollection(inInbox, from: .initial, expectedCurrent: nil,
                                                       to: CollectionAdvance(cursor: 0))
            #expect(i2.key != i1.key)

            try await store.resetSyncState(device, folderId: nil)
            #expect(try await store.collection(inSent, key: s1.key) == .unknown)
            #expect(try await store.collection(inInbox, key: i2.key) == .unknown)
            #expect(try await store.hierarchy(device, key: h1) == .unknown)
            #expect(try await store.currentHierarchyKey(device) == nil)
            let h2 = try await store.advanceHierarchy(device, from: .initial, expectedCurrent: nil, to: HierarchySnapshot())
            #expect(h2 != h1)
            await #expect(throws: StateStoreError.self) {
                try await store.resetSyncState(DeviceRef(account: account, deviceId: "nobody"), folderId: nil)
            }
        }
    }

    @Test("held messages adjusted for a device's own move, undone with its generation", arguments: backends)
    func adjustHeld(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            let folder = try await inboxRef(store, account)
            let device = try await registeredDevice(store, account)
            let collection = CollectionRef(device: device, folderId: folder.folderId)
            // No key yet: nothing to adjust, and no error.
            try await store.adjustHeld(collection, adding: [9], removing: [])
            #expect(try await store.heldMessages(collection) == [])
            let g1 = try await store.advanceCollection(collection, from: .initial, expectedCurrent: nil, to: CollectionAdvance(cursor: 0))
            let g2 = try await store.advanceCollection(collection, from: g1.key, expectedCurrent: g1.key,
                                                       to: CollectionAdvance(cursor: 0, added: [1, 2, 3]))
            try await store.adjustHeld(collection, adding: [7], removing: [2])
            #expect(try await store.heldMessages(collection) == [1, 3, 7])
            // A replay of g1's key undoes g2, the adjustment with it.
            _ = try await store.advanceCollection(collection, from: g1.key, expectedCurrent: g2.key,
                                                  to: CollectionAdvance(cursor: 0, added: [1, 2, 3]))
            #expect(try await store.heldMessages(collection) == [1, 2, 3])
        }
    }

    @Test("one node holds an account's tracker lease until it lets go or stops renewing", arguments: backends)
    func trackerLeases(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            // Only PostgreSQL is shared by nodes; the others' trackers skip the lease entirely.
            #expect(store.sharedByNodes == (backend == .postgres))
            #expect(try await store.claimTrackerLease(account, node: "a", now: 1_000, expiresAt: 61_000))
            #expect(try await !store.claimTrackerLease(account, node: "b", now: 2_000, expiresAt: 62_000))
            // The holder renews.
            #expect(try await store.claimTrackerLease(account, node: "a", now: 30_000, expiresAt: 90_000))
            #expect(try await !store.claimTrackerLease(account, node: "b", now: 70_000, expiresAt: 130_000))
            // Not renewed in time: another node takes it, and the old holder cannot renew.
            #expect(try await store.claimTrackerLease(account, node: "b", now: 90_001, expiresAt: 150_000))
            #expect(try await !store.claimTrackerLease(account, node: "a", now: 90_002, expiresAt: 150_000))
            // Only the holder can release it.
            try await store.releaseTrackerLease(account, node: "a")
            #expect(try await !store.claimTrackerLease(account, node: "a", now: 91_000, expiresAt: 151_000))
            try await store.releaseTrackerLease(account, node: "b")
            #expect(try await store.claimTrackerLease(account, node: "a", now: 92_000, expiresAt: 152_000))

            try await store.noteTrackedFolders(account, folderIds: ["1", "3"], at: 10_000)
            try await store.noteTrackedFolders(account, folderIds: ["3", "4"], at: 20_000)
            #expect(try await store.trackedFolders(account, since: 15_000) == ["3", "4"])
            #expect(try await store.trackedFolders(account, since: 0) == ["1", "3", "4"])
            let other = try await store.account(named: "other@airgate.test")
            #expect(try await store.trackedFolders(other, since: 0) == [])
        }
    }

    @Test("deleting a folder or resetting its log drops the collections of it", arguments: backends)
    func folderCascades(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            let folder = try await inboxRef(store, account)
            let device = try await registeredDevice(store, account)
            let collection = CollectionRef(device: device, folderId: folder.folderId)
            let g1 = try await store.advanceCollection(collection, from: .initial, expectedCurrent: nil,
                                                       to: CollectionAdvance(cursor: 0, added: [1]))
            try await store.resetLog(folder, watermark: MailboxWatermark(uidValidity: 99, highestModSeq: 1, uidNext: 1))
            #expect(try await store.collection(collection, key: g1.key) == .unknown)
            #expect(try await store.folders(of: account).first?.uidValidity == 99)
            let g2 = try await store.advanceCollection(collection, from: .initial, expectedCurrent: nil,
                                                       to: CollectionAdvance(cursor: 0, added: [1]))
            try await store.deleteFolder(folder)
            #expect(try await store.collection(collection, key: g2.key) == .unknown)
            await #expect(throws: StateStoreError.self) { try await store.logState(folder) }
        }
    }

    @Test("compaction removes what every collection passed and drops silent or lagging devices", arguments: backends)
    func compaction(backend: StoreBackend) async throws {
        try await backend.withStore { store, _ in
            let account = try await store.account(named: "demo@airgate.test")
            let folder = try await inboxRef(store, account)
            let entries = (1...10).map { ChangeEntry(kind: .added, uid: MessageUID($0), modSeq: UInt64($0)) }
            try await store.appendChanges(folder, entries,
                                          watermark: MailboxWatermark(uidValidity: 7, highestModSeq: 10, uidNext: 11))
            let fast = CollectionRef(device: try await registeredDevice(store, account, id: "fast", seen: 5_000),
                                     folderId: folder.folderId)
            let slow = CollectionRef(device: try await registeredDevice(store, account, id: "slow", seen: 5_000),
                                     folderId: folder.folderId)
            let silent = CollectionRef(device: try await registeredDevice(store, account, id: "silent", seen: 10),
                                       folderId: folder.folderId)
            let f1 = try await store.advanceCollection(fast, from: .initial, expectedCurrent: nil, to: CollectionAdvance(cursor: 6))
            _ = try await store.advanceCollection(fast, from: f1.key, expectedCurrent: f1.key, to: CollectionAdvance(cursor: 9))
            _ = try await store.advanceCollection(slow, from: .initial, expectedCurrent: nil, to: CollectionAdvance(cursor: 4))
            _ = try await store.advanceCollection(silent, from: .initial, expectedCurrent: nil, to: CollectionAdvance(cursor: 1))

            // The silent device is dropped; the slow one (4) pins the log below fast's previous key (6).
            let report = try await store.compact(account, silentBefore: 1_000, maxLag: 100)
            #expect(report.resetCollections == [silent])
            #expect(report.removedEntries == 4)
            #expect(try await store.changes(folder, after: 0, limit: 100).map(\.sequence) == [5, 6, 7, 8, 9, 10])

            // Now slow is too far behind (10 - 4 > 4) and is dropped; fast's previous key (6) is kept.
            let second = try await store.compact(account, silentBefore: 1_000, maxLag: 4)
            #expect(second.resetCollections == [slow])
            #expect(try await store.changes(folder, after: 0, limit: 100).map(\.sequence) == [7, 8, 9, 10])
            #expect(try await store.logState(folder).head == 10)
        }
    }
}

// MARK: - Helpers

func expectInvalid(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async {
    await #expect(sourceLocation: sourceLocation) { try await body() } throws: {
        ($0 as? StateStoreError)?.code == .invalidInput
    }
}

func registeredDevice(_ store: any StateStore, _ account: AccountID, id: String = "ApplF17XK0X1",
                      seen: Int64 = 1_000) async throws -> DeviceRef {
    let ref = DeviceRef(account: account, deviceId: id)
    _ = try await store.recordContact(DeviceContact(ref: ref, deviceType: "iPhone", userAgent: nil,
                                                    protocolVersion: "16.1", at: seen))
    return ref
}

func inboxRef(_ store: any StateStore, _ account: AccountID) async throws -> FolderRef {
    let inbox = try await store.saveFolder(of: account, mailboxName: "INBOX", uidValidity: 7, type: 2, parentId: nil)
    return FolderRef(account: account, folderId: inbox.folderId)
}
