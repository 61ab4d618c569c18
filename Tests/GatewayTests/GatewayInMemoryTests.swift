import EASProtocol
import Foundation
import MailUpstream
import MailUpstreamEtPan
import SyncState
import Testing

@testable import Gateway

/// The gateway's rules with an in-memory mail server and store: fast, and exact about keys,
/// windows, caches and Ping, without sockets.
@Suite struct GatewayInMemoryTests {
    typealias AS = EASTag.AirSync
    typealias FH = EASTag.FolderHierarchy
    typealias PG = EASTag.Ping

    struct Fixture {
        let mail = InMemoryMailSession()
        let sieve = InMemorySieveScripts()
        let notifier = InProcessChangeNotifier()
        let store: InMemoryStateStore
        let gateway: Gateway
        let account: MailAccount

        /// - Parameter idleFailures: how many IDLE waits fail before they work (a server that
        ///   refused connections for a moment).
        init(configuration: GatewayConfiguration = GatewayConfiguration(pingPollInterval: .milliseconds(100)),
             addressBook: AddressBook = AddressBook(entries: []), idleFailures: Int = 0) {
            var configuration = configuration
            configuration.addressBook = addressBook
            store = InMemoryStateStore(notifier: notifier)
            gateway = Gateway(configuration: configuration, store: store, notifier: notifier, codec: EtPanMIMECodec())
            let watcher: any MailboxWatcher = idleFailures == 0 ? mail : FailingWatcher(inner: mail, failures: idleFailures)
            account = MailAccount(user: "demo@airgate.test", emailAddress: "demo@airgate.test", session: mail, watcher: watcher,
                                  outOfOffice: SieveOutOfOffice(scripts: sieve, address: "demo@airgate.test"))
        }

        /// Outlook passes without provisioning, which keeps these tests about Sync.
        func send(_ command: EASCommand, _ body: EASElement?, device: String = "dev1", version: EASProtocolVersion = .v14_1)
            async throws -> EASResponse
        {
            try await gateway.handle(EASRequest(command: command, user: "demo@airgate.test", deviceId: device,
                                                deviceType: "WindowsOutlook15", version: version, body: body), account: account)
        }

        func deliver(_ subject: String) async throws -> UInt32 {
            try await mail.deliver(InMemoryMailSession.Message(
                raw: Array("Subject: \(subject)\r\nFrom: a@example.net\r\n\r\nbody \(subject)\r\n".utf8),
                envelope: Envelope(subject: subject, from: [MailAddress(address: "a@example.net")]),
                internalDate: 1_795_000_000_000))
        }

        /// Delivers one message and syncs the Inbox to a current key: its UID, the Inbox's id,
        /// the key and the message's ServerId.
        func syncedMessage(_ subject: String) async throws -> (uid: UInt32, inbox: String, key: String, serverId: String) {
            let uid = try await deliver(subject)
            let inbox = try await inboxId()
            let first = try #require(GatewayInMemoryTests.collection(try await send(.sync, GatewayInMemoryTests.sync("0", inbox)))?
                .child(AS.syncKey)?.text)
            let initial = try await send(.sync, GatewayInMemoryTests.sync(first, inbox))
            let key = try #require(GatewayInMemoryTests.collection(initial)?.child(AS.syncKey)?.text)
            return (uid, inbox, key, try #require(GatewayInMemoryTests.ids(initial).first))
        }

        /// Marks the message read in a Sync, then syncs once more: the ApplicationData of every
        /// Change the device was sent for it, in order.
        func markReadAndSyncAgain(_ serverId: String, key: String, _ inbox: String) async throws -> [EASElement] {
            var answers = [try await send(.sync, GatewayInMemoryTests.markRead(serverId, key: key, inbox))]
            if let next = GatewayInMemoryTests.collection(answers[0])?.child(AS.syncKey)?.text {
                answers.append(try await send(.sync, GatewayInMemoryTests.sync(next, inbox)))
            }
            return answers.flatMap { GatewayInMemoryTests.collection($0)?.child(AS.commands)?.children(AS.change) ?? [] }
                .filter { $0.child(AS.serverId)?.text == serverId }
                .compactMap { $0.child(AS.applicationData) }
        }

        /// Syncs the Inbox to a current key, then starts a Ping on it and returns once it is
        /// held (a bounded wait: a loaded machine may start it late).
        func holdPingOnSyncedInbox(heartbeat: Int) async throws -> Task<EASResponse, any Error> {
            let inbox = try await inboxId()
            let first = try await send(.sync, GatewayInMemoryTests.sync("0", inbox))
            let key = try #require(GatewayInMemoryTests.collection(first)?.child(AS.syncKey)?.text)
            _ = try await send(.sync, GatewayInMemoryTests.sync(key, inbox))
            let ping = Task {
                try await send(.ping, EASElement(PG.ping, children: [
                    EASElement(PG.heartbeatInterval, text: String(heartbeat)),
                    EASElement(PG.folders, children: [EASElement(PG.folder, children: [EASElement(PG.id, text: inbox)])]),
                ]))
            }
            for _ in 0..<200 where await gateway.pings.heldCount == 0 {
                try await Task.sleep(for: .milliseconds(25))
            }
            return ping
        }

        func inboxId(device: String = "dev1") async throws -> String {
            let answer = try await send(.folderSync, EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]),
                                        device: device)
            let adds = answer.body?.child(FH.changes)?.children(FH.add) ?? []
            return try #require(adds.first { $0.child(FH.type)?.text == "2" }?.child(FH.serverId)?.text)
        }
    }

    static func sync(_ key: String, _ collection: String, window: Int? = nil) -> EASElement {
        var children = [EASElement(AS.syncKey, text: key), EASElement(AS.collectionId, text: collection)]
        if let window { children.append(EASElement(AS.windowSize, text: String(window))) }
        return EASElement(AS.sync, children: [EASElement(AS.collections, children: [EASElement(AS.collection, children: children)])])
    }

    /// A Sync whose only command marks one message read.
    static func markRead(_ serverId: String, key: String, _ collection: String) -> EASElement {
        EASElement(AS.sync, children: [EASElement(AS.collections, children: [EASElement(AS.collection, children: [
            EASElement(AS.syncKey, text: key), EASElement(AS.collectionId, text: collection),
            EASElement(AS.commands, children: [EASElement(AS.change, children: [
                EASElement(AS.serverId, text: serverId),
                EASElement(AS.applicationData, children: [EASElement(EASTag.Email.read, text: "1")]),
            ])]),
        ])])])
    }

    static func collection(_ response: EASResponse) -> EASElement? {
        response.body?.child(AS.collections)?.child(AS.collection)
    }

    static func ids(_ response: EASResponse) -> [String] {
        (collection(response)?.child(AS.commands)?.children(AS.add) ?? []).compactMap { $0.child(AS.serverId)?.text }
    }

    @Test func aDeviceSeenWithinAMinuteIsReadNotWrittenAgain() async throws {
        let fixture = Fixture()
        let account = try await fixture.store.account(named: "demo@airgate.test")
        let start: Int64 = 1_795_000_000_000
        func contact(_ at: Int64, agent: String? = "Phone/1", version: String? = "14.1") async throws -> Device {
            try await fixture.gateway.contact(DeviceContact(ref: DeviceRef(account: account, deviceId: "d1"), deviceType: "iPhone",
                                                            userAgent: agent, protocolVersion: version, at: start + at))
        }
        func stored() async throws -> Device {
            try #require(try await fixture.store.device(DeviceRef(account: account, deviceId: "d1")))
        }
        #expect(try await contact(0).lastSeen == start)
        // The second request is always written: firstSeen == lastSeen marks a device's first one.
        _ = try await contact(1_000)
        #expect(try await stored().lastSeen == start + 1_000)
        // Within the minute: read only.
        #expect(try await contact(30_000).lastSeen == start + 1_000)
        #expect(try await stored().lastSeen == start + 1_000)
        // Absent header values change nothing and are no reason to write.
        _ = try await contact(40_000, agent: nil, version: nil)
        #expect(try await stored().lastSeen == start + 1_000)
        // A minute later, or anything new about the device: written.
        _ = try await contact(61_000)
        #expect(try await stored().lastSeen == start + 61_000)
        let upgraded = try await contact(62_000, agent: "Phone/2")
        #expect(upgraded.userAgent == "Phone/2")
        #expect(try await stored().lastSeen == start + 62_000)
        _ = try await contact(63_000, agent: "Phone/2", version: "16.1")
        #expect(try await stored().protocolVersion == "16.1")
    }

    @Test func windowSizeRulesAndReplays() async throws {
        // A budget large enough that only the window limits the batches.
        let fixture = Fixture(configuration: GatewayConfiguration(syncResponseBudget: 64 * 1024 * 1024))
        for index in 0..<600 { _ = try await fixture.deliver("m\(index)") }
        let inbox = try await fixture.inboxId()
        var key = try #require(Self.collection(try await fixture.send(.sync, Self.sync("0", inbox)))?.child(AS.syncKey)?.text)
        // Absent window: 100. Zero and above 512: 512 ([MS-ASCMD] 2.2.3.194).
        let hundred = try await fixture.send(.sync, Self.sync(key, inbox))
        #expect(Self.ids(hundred).count == 100)
        let previousKey = key
        key = try #require(Self.collection(hundred)?.child(AS.syncKey)?.text)
        let big = try await fixture.send(.sync, Self.sync(key, inbox, window: 0))
        #expect(Self.ids(big).count == 500)
        #expect(Self.collection(big)?.child(AS.moreAvailable) == nil)
        // The client lost the answer to `key` and repeats it: the same 500 again.
        let replay = try await fixture.send(.sync, Self.sync(key, inbox, window: 0))
        #expect(Self.ids(replay) == Self.ids(big))
        // Two keys back is gone.
        let stale = try await fixture.send(.sync, Self.sync(previousKey, inbox))
        #expect(Self.collection(stale)?.child(AS.status)?.text == "3")
        let all = Set(Self.ids(hundred) + Self.ids(big))
        #expect(all.count == 600)
    }

    @Test func theByteBudgetCutsABatchButAnOversizedItemStillGoes() async throws {
        let fixture = Fixture(configuration: GatewayConfiguration(syncResponseBudget: 2000))
        for index in 0..<10 { _ = try await fixture.deliver("m\(index)") }
        let inbox = try await fixture.inboxId()
        var key = try #require(Self.collection(try await fixture.send(.sync, Self.sync("0", inbox)))?.child(AS.syncKey)?.text)
        var seen: [String] = []
        for _ in 0..<20 {
            let answer = try await fixture.send(.sync, Self.sync(key, inbox, window: 100))
            let ids = Self.ids(answer)
            // More than one message only while the answer stays within the budget.
            let bytes = try #require(try answer.body?.wbxml()).readableBytes
            #expect(ids.count >= 1 && ids.count < 10 && (ids.count == 1 || bytes <= 2000))
            seen += ids
            key = try #require(Self.collection(answer)?.child(AS.syncKey)?.text)
            if Self.collection(answer)?.child(AS.moreAvailable) == nil { break }
        }
        #expect(Set(seen).count == 10 && seen.count == 10)
        let tiny = Fixture(configuration: GatewayConfiguration(syncResponseBudget: 1))
        _ = try await tiny.deliver("alone")
        _ = try await tiny.deliver("alone too")
        let tinyInbox = try await tiny.inboxId()
        let tinyKey = try #require(Self.collection(try await tiny.send(.sync, Self.sync("0", tinyInbox)))?.child(AS.syncKey)?.text)
        let one = try await tiny.send(.sync, Self.sync(tinyKey, tinyInbox))
        #expect(Self.ids(one).count == 1)
        #expect(Self.collection(one)?.child(AS.moreAvailable) != nil)
    }

    @Test func emptyAndPartialSyncsReuseTheCachedRequest() async throws {
        let fixture = Fixture()
        _ = try await fixture.deliver("one")
        let inbox = try await fixture.inboxId()
        let none = try await fixture.send(.sync, nil)
        #expect(none.body?.child(AS.status)?.text == "13")
        let first = try #require(Self.collection(try await fixture.send(.sync, Self.sync("0", inbox)))?.child(AS.syncKey)?.text)
        let full = try await fixture.send(.sync, Self.sync(first, inbox))
        #expect(Self.ids(full).count == 1)
        // An empty Sync continues where the last answer left off.
        _ = try await fixture.deliver("two")
        let empty = try await fixture.send(.sync, nil)
        #expect(Self.ids(empty).count == 1)
        let emptyAgain = try await fixture.send(.sync, nil)
        #expect(emptyAgain.body == nil)
        // A partial Sync naming the collection without options keeps the cached ones.
        _ = try await fixture.deliver("three")
        let key = try #require(Self.collection(empty)?.child(AS.syncKey)?.text)
        let partial = EASElement(AS.sync, children: [
            EASElement(AS.collections, children: [EASElement(AS.collection, children: [
                EASElement(AS.syncKey, text: key), EASElement(AS.collectionId, text: inbox),
            ])]),
            EASElement(AS.partial),
        ])
        #expect(Self.ids(try await fixture.send(.sync, partial)).count == 1)
    }

    @Test func pingWakesOnDeliveryAndANewerPingEndsTheOlder() async throws {
        let fixture = Fixture()
        let inbox = try await fixture.inboxId()
        var key = try #require(Self.collection(try await fixture.send(.sync, Self.sync("0", inbox)))?.child(AS.syncKey)?.text)
        let synced = try await fixture.send(.sync, Self.sync(key, inbox))
        key = Self.collection(synced)?.child(AS.syncKey)?.text ?? key
        let ping = EASElement(PG.ping, children: [
            EASElement(PG.heartbeatInterval, text: "60"),
            EASElement(PG.folders, children: [EASElement(PG.folder, children: [EASElement(PG.id, text: inbox)])]),
        ])
        let held = Task { try await fixture.send(.ping, ping) }
        try await Task.sleep(for: .milliseconds(300))
        _ = try await fixture.deliver("wake up")
        let woken = try await held.value
        #expect(woken.body?.child(PG.status)?.text == "2")
        #expect(woken.body?.child(PG.folders)?.children(PG.folder).compactMap(\.text) == [inbox])

        // Bring the collection up to date, then hold two Pings: the second ends the first.
        let caught = try await fixture.send(.sync, Self.sync(key, inbox))
        #expect(Self.ids(caught).count == 1)
        let older = Task { try await fixture.send(.ping, nil) }
        try await Task.sleep(for: .milliseconds(300))
        let newer = Task { try await fixture.send(.ping, nil) }
        let first = try await older.value
        #expect(first.body?.child(PG.status)?.text == "1")
        newer.cancel()
        _ = try? await newer.value
    }

    @Test func aTrackedAccountIsRegisteredForMailPushAndAnnouncementsReachOnlyTrackedAccounts() async throws {
        var configuration = GatewayConfiguration(pingPollInterval: .milliseconds(100))
        configuration.registersForMailPush = true
        let fixture = Fixture(configuration: configuration)
        let ping = try await fixture.holdPingOnSyncedInbox(heartbeat: 60)
        #expect(await fixture.mail.serverMetadata["/private/vendor/vendor.dovecot/http-notify"] == "user=demo@airgate.test")
        #expect(await fixture.gateway.mailArrived(user: "demo@airgate.test", mailbox: "INBOX"))
        #expect(await !fixture.gateway.mailArrived(user: "someone@airgate.test", mailbox: "INBOX"))
        #expect(await !fixture.gateway.mailArrived(user: "demo@airgate.test", mailbox: "Never synced"))
        ping.cancel()
        _ = try? await ping.value
    }

    @Test func idleMovesToTheInboxWhenItComesIntoUseAfterAnotherFolder() async throws {
        // A device syncs another folder first, so the account's IDLE begins there; then the
        // Inbox. New Inbox mail must wake a Ping at once, not when the heartbeat runs out
        // (the poll loop leaves the Inbox to IDLE). The test's bound on the wait is below the
        // 60 s heartbeat.
        let fixture = Fixture(configuration: GatewayConfiguration(pingPollInterval: .seconds(30)))
        try await fixture.mail.createMailbox(IMAPMailboxName(wire: "Projects"))
        let folders = try await fixture.send(.folderSync, EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
        let adds = folders.body?.child(FH.changes)?.children(FH.add) ?? []
        let projects = try #require(adds.first { $0.child(FH.displayName)?.text == "Projects" }?.child(FH.serverId)?.text)
        let inbox = try #require(adds.first { $0.child(FH.type)?.text == "2" }?.child(FH.serverId)?.text)
        let projectsKey = try #require(Self.collection(try await fixture.send(.sync, Self.sync("0", projects)))?.child(AS.syncKey)?.text)
        _ = try await fixture.send(.sync, Self.sync(projectsKey, projects))
        for _ in 0..<200 where await fixture.mail.waitingWatchers == 0 { try await Task.sleep(for: .milliseconds(10)) }
        let ping = try await fixture.holdPingOnSyncedInbox(heartbeat: 60)
        let started = ContinuousClock.now
        _ = try await fixture.deliver("to the inbox")
        let answer = try await ping.value
        #expect(answer.body?.child(PG.status)?.text == "2")
        #expect(ContinuousClock.now - started < .seconds(50), "the Ping waited \(ContinuousClock.now - started)")
    }

    @Test func pingParameterErrors() async throws {
        let fixture = Fixture()
        let inbox = try await fixture.inboxId()
        #expect(try await fixture.send(.ping, nil, device: "dev1").body?.child(PG.status)?.text == "3")
        func ping(_ heartbeat: String, _ folders: [String]) -> EASElement {
            EASElement(PG.ping, children: [
                EASElement(PG.heartbeatInterval, text: heartbeat),
                EASElement(PG.folders, children: folders.map { EASElement(PG.folder, children: [EASElement(PG.id, text: $0)]) }),
            ])
        }
        let low = try await fixture.send(.ping, ping("10", [inbox]))
        #expect(low.body?.child(PG.status)?.text == "5")
        #expect(low.body?.child(PG.heartbeatInterval)?.text == "60")
        let high = try await fixture.send(.ping, ping("99999", [inbox]))
        #expect(high.body?.child(PG.heartbeatInterval)?.text == "3540")
        #expect(try await fixture.send(.ping, ping("60", ["nope"])).body?.child(PG.status)?.text == "7")
        let many = (0..<301).map { _ in inbox }
        let tooMany = try await fixture.send(.ping, ping("60", many))
        #expect(tooMany.body?.child(PG.status)?.text == "6")
        #expect(tooMany.body?.child(PG.maxFolders)?.text == "300")
    }

    @Test func provisioningAndRemoteWipe() async throws {
        let fixture = Fixture()
        func request(_ command: EASCommand, _ body: EASElement?, policyKey: String? = nil) async throws -> EASResponse {
            try await fixture.gateway.handle(EASRequest(command: command, user: "demo@airgate.test", deviceId: "phone",
                                                        deviceType: "iPhone", version: .v14_1, policyKey: policyKey, body: body),
                                             account: fixture.account)
        }
        typealias P = EASTag.Provision
        let folderSync = EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")])
        #expect(try await request(.folderSync, folderSync).body?.child(FH.status)?.text == "142")
        let ask = EASElement(P.provision, children: [EASElement(P.policies, children: [
            EASElement(P.policy, children: [EASElement(P.policyType, text: "MS-EAS-Provisioning-WBXML")]),
        ])])
        let first = try await request(.provision, ask)
        let temporary = try #require(first.body?.child(P.policies)?.child(P.policy)?.child(P.policyKey)?.text)
        #expect(temporary != "0")
        #expect(first.body?.child(P.policies)?.child(P.policy)?.child(P.data)?.child(P.easProvisionDoc) != nil)
        let acknowledge = EASElement(P.provision, children: [EASElement(P.policies, children: [EASElement(P.policy, children: [
            EASElement(P.policyType, text: "MS-EAS-Provisioning-WBXML"), EASElement(P.policyKey, text: temporary),
            EASElement(P.status, text: "1"),
        ])])])
        let final = try #require(try await request(.provision, acknowledge).body?.child(P.policies)?.child(P.policy)?
            .child(P.policyKey)?.text)
        #expect(final != temporary)
        #expect(try await request(.folderSync, folderSync, policyKey: temporary).body?.child(FH.status)?.text == "144")
        #expect(try await request(.folderSync, folderSync, policyKey: final).body?.child(FH.status)?.text == "1")

        // An admin asks for a wipe: the next request is told to provision, Provision carries it.
        let account = try await fixture.store.account(named: "demo@airgate.test")
        var device = try #require(try await fixture.store.device(DeviceRef(account: account, deviceId: "phone")))
        device.wipeState = .pending
        try await fixture.store.saveDevice(device)
        #expect(try await request(.folderSync, folderSync, policyKey: final).body?.child(FH.status)?.text == "140")
        let wipe = try await request(.provision, ask, policyKey: final)
        #expect(wipe.body?.child(P.remoteWipe) != nil)
        let done = EASElement(P.provision, children: [EASElement(P.remoteWipe, children: [EASElement(P.status, text: "1")])])
        _ = try await request(.provision, done, policyKey: final)
        #expect(try await fixture.store.device(device.ref)?.wipeState == .acknowledged)
    }

    @Test func aKeyThatKeepsComingBackShrinksTheWindowThenSkipsTheItem() async throws {
        let fixture = Fixture(configuration: GatewayConfiguration(syncResponseBudget: 64 * 1024 * 1024))
        for index in 0..<200 { _ = try await fixture.deliver("m\(index)") }
        let inbox = try await fixture.inboxId()
        let key = try #require(Self.collection(try await fixture.send(.sync, Self.sync("0", inbox)))?.child(AS.syncKey)?.text)
        var sizes: [Int] = []
        var last: EASResponse?
        for _ in 0..<14 {
            let answer = try await fixture.send(.sync, Self.sync(key, inbox, window: 100))
            sizes.append(Self.ids(answer).count)
            last = answer
        }
        #expect(sizes.prefix(2) == [100, 100])
        #expect(sizes[2] == 50 && sizes[3] == 25)
        #expect(sizes.dropFirst(7).allSatisfy { $0 <= 1 })
        // The last answers skip the newest message for good: syncing on from there never sends it.
        let final = try #require(last)
        var next = try #require(Self.collection(final)?.child(AS.syncKey)?.text)
        var seen = Set(Self.ids(final))
        for _ in 0..<10 {
            let answer = try await fixture.send(.sync, Self.sync(next, inbox, window: 512))
            seen.formUnion(Self.ids(answer))
            guard let collection = Self.collection(answer) else { break }
            next = try #require(collection.child(AS.syncKey)?.text)
            if collection.child(AS.moreAvailable) == nil { break }
        }
        #expect(seen.count == 199)
    }

    @Test func aKeyPresentedOftenWithNothingToSayIsNotALoop() async throws {
        // Outlook and Windows Mail poll with the same key while nothing changes (or hold a
        // Sync with a heartbeat that runs out); those are not failed answers, so the window
        // stays whole and the next message is sent.
        let fixture = Fixture()
        _ = try await fixture.deliver("first")
        let inbox = try await fixture.inboxId()
        var key = try #require(Self.collection(try await fixture.send(.sync, Self.sync("0", inbox)))?.child(AS.syncKey)?.text)
        let initial = try await fixture.send(.sync, Self.sync(key, inbox))
        #expect(Self.ids(initial).count == 1)
        key = try #require(Self.collection(initial)?.child(AS.syncKey)?.text)
        for _ in 0..<20 {
            let idle = try await fixture.send(.sync, Self.sync(key, inbox))
            #expect(Self.collection(idle) == nil)
        }
        for index in 0..<3 { _ = try await fixture.deliver("new \(index)") }
        let news = try await fixture.send(.sync, Self.sync(key, inbox))
        #expect(Self.ids(news).count == 3)
    }

    @Test func aRepeatArrivingWhileTheFirstSyncIsAnsweredIsAReplayNotAnInvalidKey() async throws {
        // A phone whose Sync timed out asks again while the gateway is still answering the
        // first: the two are put in line, so the second replays the first's answer instead of
        // finding the key moved (Status 3 would start the folder over).
        let fixture = Fixture()
        for index in 0..<60 { _ = try await fixture.deliver("m\(index)") }
        let inbox = try await fixture.inboxId()
        let ref = CollectionRef(device: DeviceRef(account: try await fixture.store.account(named: "demo@airgate.test"),
                                                  deviceId: "dev1"), folderId: inbox)
        var key = try #require(Self.collection(try await fixture.send(.sync, Self.sync("0", inbox)))?.child(AS.syncKey)?.text)
        var seen: [String] = []
        for _ in 0..<6 {
            let request = Self.sync(key, inbox, window: 10)
            async let first = fixture.send(.sync, request)
            async let second = fixture.send(.sync, request)
            let answers = try await [first, second]
            #expect(answers.map { Self.collection($0)?.child(AS.status)?.text } == ["1", "1"])
            #expect(Self.ids(answers[0]) == Self.ids(answers[1]))
            seen += Self.ids(answers[0])
            // The phone keeps the answer to the request it sent last: the one answered last.
            let keys = answers.compactMap { Self.collection($0)?.child(AS.syncKey)?.text }
            key = try #require(try await fixture.store.currentCollectionKey(ref)?.rawValue)
            #expect(keys.contains(key))
        }
        #expect(seen.count == 60 && Set(seen).count == 60)
    }

    @Test func theSameSyncOnTwoNodesAtOnceIsAReplayOnTheSecondNotAnInvalidKey() async throws {
        // Two gateways sharing the store, as two nodes behind a proxy that does not keep a
        // device on one: a phone's repeat reaches the other node while the first is answered.
        let fixture = Fixture()
        let other = Gateway(configuration: GatewayConfiguration(pingPollInterval: .milliseconds(100)), store: fixture.store,
                            notifier: fixture.notifier, codec: EtPanMIMECodec())
        func send(_ gateway: Gateway, _ body: EASElement) async throws -> EASResponse {
            try await gateway.handle(EASRequest(command: .sync, user: "demo@airgate.test", deviceId: "dev1",
                                                deviceType: "WindowsOutlook15", version: .v14_1, body: body), account: fixture.account)
        }
        for index in 0..<60 { _ = try await fixture.deliver("m\(index)") }
        let inbox = try await fixture.inboxId()
        let ref = CollectionRef(device: DeviceRef(account: try await fixture.store.account(named: "demo@airgate.test"),
                                                  deviceId: "dev1"), folderId: inbox)
        async let firstZero = send(fixture.gateway, Self.sync("0", inbox))
        async let secondZero = send(other, Self.sync("0", inbox))
        let zeros = try await [firstZero, secondZero]
        #expect(zeros.map { Self.collection($0)?.child(AS.status)?.text } == ["1", "1"])
        var key = try #require(try await fixture.store.currentCollectionKey(ref)?.rawValue)
        var seen: [String] = []
        for _ in 0..<6 {
            let request = Self.sync(key, inbox, window: 10)
            async let first = send(fixture.gateway, request)
            async let second = send(other, request)
            let answers = try await [first, second]
            #expect(answers.map { Self.collection($0)?.child(AS.status)?.text } == ["1", "1"])
            #expect(Set(Self.ids(answers[0])) == Set(Self.ids(answers[1])))
            seen += Self.ids(answers[0])
            let keys = answers.compactMap { Self.collection($0)?.child(AS.syncKey)?.text }
            key = try #require(try await fixture.store.currentCollectionKey(ref)?.rawValue)
            #expect(keys.contains(key))
        }
        #expect(seen.count == 60 && Set(seen).count == 60)
        await other.shutdown()
    }

    @Test func messagesChangedOrGoneAfterTheyWereFetchedAheadAreSentAsTheyAreNow() async throws {
        // Answers of about three messages: the read-ahead holds the next ones while the device
        // reads an answer. A message marked read and one expunged meanwhile must not be sent
        // as they were when fetched.
        let fixture = Fixture(configuration: GatewayConfiguration(syncResponseBudget: 2000))
        for index in 0..<30 { _ = try await fixture.deliver("m\(index)") }
        let inbox = try await fixture.inboxId()
        let ref = CollectionRef(device: DeviceRef(account: try await fixture.store.account(named: "demo@airgate.test"),
                                                  deviceId: "dev1"), folderId: inbox)
        var key = try #require(Self.collection(try await fixture.send(.sync, Self.sync("0", inbox)))?.child(AS.syncKey)?.text)
        let first = try await fixture.send(.sync, Self.sync(key, inbox))
        var seen = Self.ids(first)
        key = try #require(Self.collection(first)?.child(AS.syncKey)?.text)
        let (aheadKey, ahead) = try #require(await fixture.gateway.readAheads.peek(ref))
        #expect(aheadKey == key)
        let next = try #require(ahead.uids(below: 28).first)
        #expect(ahead.summaries[next]?.flags.contains("\\Seen") == false)
        #expect(ahead.summaries[next - 1] != nil && !ahead.parts.isEmpty)
        let mailbox = IMAPMailboxName(wire: "INBOX")
        try await fixture.mail.setFlags(in: mailbox, uids: UIDSet(uids: [next]), add: ["\\Seen"], remove: [])
        try await fixture.mail.expunge(in: mailbox, uids: UIDSet(uids: [next - 1]))
        var reads: [String: String] = [:]
        for _ in 0..<30 {
            let answer = try await fixture.send(.sync, Self.sync(key, inbox))
            for add in Self.collection(answer)?.child(AS.commands)?.children(AS.add) ?? [] {
                reads[add.child(AS.serverId)?.text ?? ""] = add.child(AS.applicationData)?.child(EASTag.Email.read)?.text
            }
            seen += Self.ids(answer)
            guard let collection = Self.collection(answer), collection.child(AS.moreAvailable) != nil else { break }
            key = try #require(collection.child(AS.syncKey)?.text)
        }
        #expect(seen.count == 29 && Set(seen).count == 29)
        #expect(!seen.contains(ItemId(folderId: inbox, uid: next - 1).text))
        #expect(reads[ItemId(folderId: inbox, uid: next).text] == "1")
        #expect(await fixture.gateway.readAheads.count == 0)
    }

    @Test func aMailboxWithoutModSequencesIsNotReadAhead() async throws {
        let fixture = Fixture()
        let plain = InMemoryMailSession(condStore: false)
        let account = MailAccount(user: "demo@airgate.test", emailAddress: "demo@airgate.test", session: plain, watcher: plain,
                                  outOfOffice: SieveOutOfOffice(scripts: fixture.sieve, address: "demo@airgate.test"))
        for index in 0..<30 {
            _ = try await plain.deliver(InMemoryMailSession.Message(
                raw: Array("Subject: m\(index)\r\n\r\nbody\r\n".utf8), envelope: Envelope(subject: "m\(index)"),
                internalDate: 1_795_000_000_000))
        }
        func send(_ body: EASElement) async throws -> EASResponse {
            try await fixture.gateway.handle(EASRequest(command: .sync, user: "demo@airgate.test", deviceId: "dev1",
                                                        deviceType: "WindowsOutlook15", version: .v14_1, body: body), account: account)
        }
        _ = try await fixture.gateway.handle(EASRequest(command: .folderSync, user: "demo@airgate.test", deviceId: "dev1",
                                                        deviceType: "WindowsOutlook15", version: .v14_1,
                                                        body: EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")])),
                                             account: account)
        let inbox = try #require(try await fixture.store.folders(of: try await fixture.store.account(named: "demo@airgate.test"))
            .first { $0.mailboxName == "INBOX" }?.folderId)
        let key = try #require(Self.collection(try await send(Self.sync("0", inbox)))?.child(AS.syncKey)?.text)
        let answer = try await send(Self.sync(key, inbox, window: 5))
        #expect(Self.ids(answer).count == 5)
        #expect(await fixture.gateway.readAheads.count == 0)
    }

    @Test func aFlagChangedElsewhereAtTheSameMomentReachesTheDevice() async throws {
        // The device marks a message read; another client marks it unread right after the
        // gateway's STORE. The mailbox ends unread, so the device must be told, not have the
        // result taken for the echo of its own change.
        let fixture = Fixture()
        let (uid, inbox, key, serverId) = try await fixture.syncedMessage("contested")
        await fixture.mail.afterNextStore(add: [], remove: ["\\Seen"])
        let told = try await fixture.markReadAndSyncAgain(serverId, key: key, inbox)
            .compactMap { $0.child(EASTag.Email.read)?.text }
        let flags = try await fixture.mail.summaries(in: IMAPMailboxName(wire: "INBOX"), uids: UIDSet(uids: [uid])).first?.flags
        #expect(flags?.contains("\\Seen") == false)
        #expect(told.last == "0", "the device still believes the message read")
    }

    @Test func anotherFlagChangedElsewhereRightAfterTheDevicesStoreReachesTheDevice() async throws {
        // The device marks a message read; right after the gateway's STORE another client
        // flags it. The mailbox ends read and flagged; the flag is news to the device and must
        // not be taken for part of the echo of its own change.
        let fixture = Fixture()
        let (_, inbox, key, serverId) = try await fixture.syncedMessage("flagged a moment later")
        await fixture.mail.afterNextStore(add: ["\\Flagged"], remove: [])
        let last = try #require(try await fixture.markReadAndSyncAgain(serverId, key: key, inbox).last,
                                "the device never heard of the flag")
        #expect(last.child(EASTag.Email.flag)?.child(EASTag.Email.status)?.text == "2")
        #expect(last.child(EASTag.Email.read)?.text == "1")
    }

    @Test func anotherClientsEarlierChangeIsNotSwallowedByTheDevicesOwn() async throws {
        // Another client flags the message; before any Sync logs that, the device marks it
        // read. The device must still learn of the flag (and keep its read state).
        let fixture = Fixture()
        let (uid, inbox, key, serverId) = try await fixture.syncedMessage("flagged elsewhere")
        try await fixture.mail.setFlags(in: IMAPMailboxName(wire: "INBOX"), uids: UIDSet(uids: [uid]), add: ["\\Flagged"], remove: [])
        let last = try #require(try await fixture.markReadAndSyncAgain(serverId, key: key, inbox).last,
                                "the device never heard of the flag")
        #expect(last.child(EASTag.Email.flag)?.child(EASTag.Email.status)?.text == "2")
        #expect(last.child(EASTag.Email.read)?.text == "1")
    }

    @Test func aFlagChangeOfTheDeviceItselfIsNotEchoed() async throws {
        let fixture = Fixture()
        let (_, inbox, key, serverId) = try await fixture.syncedMessage("mine")
        let change = Self.markRead(serverId, key: key, inbox)
        let answer = try await fixture.send(.sync, change)
        #expect(Self.collection(answer)?.child(AS.commands) == nil)
        let next = try #require(Self.collection(answer)?.child(AS.syncKey)?.text)
        #expect(Self.collection(try await fixture.send(.sync, Self.sync(next, inbox))) == nil)
    }

    @Test func aMailboxDeletedOnTheServerAsksForFolderSync() async throws {
        let fixture = Fixture()
        try await fixture.mail.createMailbox(IMAPMailboxName(wire: "Projects"))
        let answer = try await fixture.send(.folderSync, EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
        let key = try #require(answer.body?.child(FH.syncKey)?.text)
        let projects = try #require(answer.body?.child(FH.changes)?.children(FH.add)
            .first { $0.child(FH.displayName)?.text == "Projects" }?.child(FH.serverId)?.text)
        let syncKey = try #require(Self.collection(try await fixture.send(.sync, Self.sync("0", projects)))?.child(AS.syncKey)?.text)
        try await fixture.mail.deleteMailbox(IMAPMailboxName(wire: "Projects"))
        let sync = try await fixture.send(.sync, Self.sync(syncKey, projects))
        #expect(Self.collection(sync)?.child(AS.status)?.text == "12")
        let next = try await fixture.send(.folderSync, EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: key)]))
        #expect(next.body?.child(FH.changes)?.children(FH.delete).compactMap { $0.child(FH.serverId)?.text } == [projects])
        // Once FolderSync said so, the id is gone for Sync too.
        let after = try await fixture.send(.sync, Self.sync(syncKey, projects))
        #expect(Self.collection(after)?.child(AS.status)?.text == "12")
    }

    @Test func oneTrackerPerAccountWakesEveryDevicesPingAndStopsWhenQuiet() async throws {
        let fixture = Fixture(configuration: GatewayConfiguration(pingPollInterval: .seconds(30),
                                                                  trackerQuietAfter: .milliseconds(1500)))
        var keys: [String: String] = [:]
        var inbox = ""
        for device in ["phone", "tablet"] {
            inbox = try await fixture.inboxId(device: device)
            let first = try await fixture.send(.sync, Self.sync("0", inbox), device: device)
            let key = try #require(Self.collection(first)?.child(AS.syncKey)?.text)
            let synced = try await fixture.send(.sync, Self.sync(key, inbox), device: device)
            keys[device] = Self.collection(synced)?.child(AS.syncKey)?.text ?? key
        }
        let ping = EASElement(PG.ping, children: [
            EASElement(PG.heartbeatInterval, text: "60"),
            EASElement(PG.folders, children: [EASElement(PG.folder, children: [EASElement(PG.id, text: inbox)])]),
        ])
        let phone = Task { try await fixture.send(.ping, ping, device: "phone") }
        let tablet = Task { try await fixture.send(.ping, ping, device: "tablet") }
        // Both Pings are held and the tracker's IDLE is listening before the delivery.
        while true {
            let held = await fixture.gateway.pings.heldCount
            let listening = await fixture.mail.waitingWatchers
            if held == 2, listening > 0 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await fixture.gateway.trackers.activeAccounts == 1)
        _ = try await fixture.deliver("for both")
        #expect(try await phone.value.body?.child(PG.status)?.text == "2")
        #expect(try await tablet.value.body?.child(PG.status)?.text == "2")
        // Quiet for longer than `trackerQuietAfter`: the tracker stops (after its IDLE wait ends).
        _ = try await fixture.deliver("wake the idle once more")
        var waited = 0
        while await fixture.gateway.trackers.activeAccounts > 0, waited < 200 {
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        #expect(await fixture.gateway.trackers.activeAccounts == 0)
    }

    @Test func aPingHeldLongerThanTheQuietTimeStillWakes() async throws {
        // Heartbeats run to 59 minutes, the tracker's quiet time is 30: a held Ping is activity.
        var configuration = GatewayConfiguration(heartbeatBounds: 1...3540, pingPollInterval: .seconds(30),
                                                 trackerQuietAfter: .milliseconds(500))
        configuration.trackerLease = .seconds(3)
        let fixture = Fixture(configuration: configuration)
        let ping = try await fixture.holdPingOnSyncedInbox(heartbeat: 8)
        // Once the Ping is held, four quiet times later and past a lease renewal, the tracker
        // is still there.
        try await Task.sleep(for: .seconds(2))
        #expect(await fixture.gateway.trackers.trackingAccounts == 1)
        _ = try await fixture.deliver("after the quiet time")
        #expect(try await ping.value.body?.child(PG.status)?.text == "2")
    }

    /// A watcher whose first waits fail, as when the server drops or refuses the connection.
    actor FailingWatcher: MailboxWatcher {
        let inner: any MailboxWatcher
        var failures: Int

        init(inner: any MailboxWatcher, failures: Int) {
            self.inner = inner
            self.failures = failures
        }

        func waitForActivity(in mailbox: IMAPMailboxName, timeout: Duration,
                             whenListening: @Sendable () async -> Void) async throws -> MailboxActivity {
            if failures > 0 {
                failures -= 1
                throw UpstreamError(.unavailable, "no greeting")
            }
            return try await inner.waitForActivity(in: mailbox, timeout: timeout, whenListening: whenListening)
        }

        func stop() async { await inner.stop() }
    }

    @Test func anIDLEThatFailsIsTriedAgainSoonNotAfterAPollInterval() async throws {
        // The poll loop leaves the Inbox to IDLE; a failed IDLE waiting a whole poll interval
        // (30 s here) would let this Ping run out without the message.
        let fixture = Fixture(configuration: GatewayConfiguration(heartbeatBounds: 1...3540, pingPollInterval: .seconds(30)),
                              idleFailures: 2)
        let ping = try await fixture.holdPingOnSyncedInbox(heartbeat: 20)
        _ = try await fixture.deliver("while IDLE was failing")
        #expect(try await ping.value.body?.child(PG.status)?.text == "2")
    }

    @Test func aSyncWithWaitIsHeldUntilMailArrives() async throws {
        let fixture = Fixture()
        _ = try await fixture.deliver("first")
        let inbox = try await fixture.inboxId()
        var key = try #require(Self.collection(try await fixture.send(.sync, Self.sync("0", inbox)))?.child(AS.syncKey)?.text)
        key = try #require(Self.collection(try await fixture.send(.sync, Self.sync(key, inbox)))?.child(AS.syncKey)?.text)
        func waiting(_ tag: EASTag, _ value: String) -> EASElement {
            var request = Self.sync(key, inbox)
            request = EASElement(AS.sync, children: request.children + [EASElement(tag, text: value)])
            return request
        }
        let tooShort = try await fixture.send(.sync, waiting(AS.wait, "0"))
        #expect(tooShort.body?.child(AS.status)?.text == "14")
        #expect(tooShort.body?.child(AS.limit)?.text == "1")
        let badHeartbeat = try await fixture.send(.sync, waiting(AS.heartbeatInterval, "10"))
        #expect(badHeartbeat.body?.child(AS.limit)?.text == "60")

        let held = Task { try await fixture.send(.sync, waiting(AS.wait, "5")) }
        while await fixture.gateway.pings.heldCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
        _ = try await fixture.deliver("while waiting")
        let answer = try await held.value
        #expect(Self.ids(answer).count == 1)
    }

    @Test func folderCreateRenameDeleteKeepIdsAndTheHierarchyKey() async throws {
        let fixture = Fixture()
        let first = try await fixture.send(.folderSync, EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
        var key = try #require(first.body?.child(FH.syncKey)?.text)
        let inbox = try #require(first.body?.child(FH.changes)?.children(FH.add).first { $0.child(FH.type)?.text == "2" }?
            .child(FH.serverId)?.text)
        func command(_ tag: EASTag, _ children: [EASElement]) async throws -> EASElement? {
            try await fixture.send(tag == FH.folderCreate ? .folderCreate : tag == FH.folderDelete ? .folderDelete : .folderUpdate,
                                   EASElement(tag, children: [EASElement(FH.syncKey, text: key)] + children)).body
        }
        let created = try await command(FH.folderCreate, [
            EASElement(FH.parentId, text: "0"), EASElement(FH.displayName, text: "Projekte"), EASElement(FH.type, text: "12"),
        ])
        #expect(created?.child(FH.status)?.text == "1")
        let id = try #require(created?.child(FH.serverId)?.text)
        key = try #require(created?.child(FH.syncKey)?.text)
        #expect(try await fixture.mail.listMailboxes().contains { $0.name.displayName == "Projekte" })
        // The device already knows: FolderSync has nothing new.
        let quiet = try await fixture.send(.folderSync, EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: key)]))
        #expect(quiet.body?.child(FH.changes)?.child(FH.count)?.text == "0")

        let duplicate = try await command(FH.folderCreate, [
            EASElement(FH.parentId, text: "0"), EASElement(FH.displayName, text: "Projekte"), EASElement(FH.type, text: "12"),
        ])
        #expect(duplicate?.child(FH.status)?.text == "2")
        let renamed = try await command(FH.folderUpdate, [
            EASElement(FH.serverId, text: id), EASElement(FH.parentId, text: "0"), EASElement(FH.displayName, text: "Projekte 2026"),
        ])
        #expect(renamed?.child(FH.status)?.text == "1")
        key = try #require(renamed?.child(FH.syncKey)?.text)
        let afterRename = try await fixture.send(.folderSync, EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
        let entry = afterRename.body?.child(FH.changes)?.children(FH.add).first { $0.child(FH.displayName)?.text == "Projekte 2026" }
        #expect(entry?.child(FH.serverId)?.text == id)
        key = try #require(afterRename.body?.child(FH.syncKey)?.text)

        #expect(try await command(FH.folderDelete, [EASElement(FH.serverId, text: inbox)])?.child(FH.status)?.text == "3")
        #expect(try await command(FH.folderDelete, [EASElement(FH.serverId, text: "nope")])?.child(FH.status)?.text == "4")
        let deleted = try await command(FH.folderDelete, [EASElement(FH.serverId, text: id)])
        #expect(deleted?.child(FH.status)?.text == "1")
        #expect(try await !fixture.mail.listMailboxes().contains { $0.name.displayName == "Projekte 2026" })
        key = "stale"
        #expect(try await command(FH.folderDelete, [EASElement(FH.serverId, text: id)])?.child(FH.status)?.text == "9")
    }

    @Test func resolveRecipientsAndGALSearchUseTheAddressBook() async throws {
        let book = AddressBook(text: """
            # the team
            Ann Example <ann@example.net>
            "Andreas Müller" <andreas@example.org>
            bob@example.com
            not an address
            """)
        #expect(book.entries.count == 3)
        let fixture = Fixture(addressBook: book)
        typealias RR = EASTag.ResolveRecipients
        func resolve(_ names: [String], max: Int? = nil) async throws -> EASElement? {
            var children = names.map { EASElement(RR.to, text: $0) }
            if let max { children.append(EASElement(RR.options, children: [EASElement(RR.maxAmbiguousRecipients, text: String(max))])) }
            return try await fixture.send(.resolveRecipients, EASElement(RR.resolveRecipients, children: children)).body
        }
        let answer = try #require(try await resolve(["ann@", "nobody", "stranger@elsewhere.net", "demo"]))
        let responses = answer.children(RR.response)
        #expect(responses.count == 4)
        #expect(responses[0].child(RR.recipient)?.child(RR.emailAddress)?.text == "ann@example.net")
        #expect(responses[0].child(RR.recipient)?.child(RR.displayName)?.text == "Ann Example")
        #expect(responses[1].child(RR.status)?.text == "4")
        #expect(responses[2].child(RR.status)?.text == "1")
        #expect(responses[2].child(RR.recipient)?.child(RR.emailAddress)?.text == "stranger@elsewhere.net")
        #expect(responses[3].child(RR.recipient)?.child(RR.emailAddress)?.text == "demo@airgate.test")
        let ambiguous = try #require(try await resolve(["an"], max: 1))
        #expect(ambiguous.child(RR.response)?.child(RR.status)?.text == "2")

        typealias S = EASTag.Search
        let gal = try await fixture.send(.search, EASElement(S.search, children: [EASElement(S.store, children: [
            EASElement(S.name, text: "GAL"), EASElement(S.query, text: "example"),
            EASElement(S.options, children: [EASElement(S.range, text: "0-9")]),
        ])]))
        let store = try #require(gal.body?.child(S.response)?.child(S.store))
        #expect(store.child(S.total)?.text == "3")
        #expect(store.children(S.result).count == 3)

        // Everything passes Microsoft's schemas; libwbxml names page 16 "Gal", the schema "GAL",
        // so the GAL search answer is checked with that name mapped back.
        let log = ResponseLog()
        for body in [answer, ambiguous] {
            var buffer = try body.wbxml()
            log.record(bytes: buffer.readBytes(length: buffer.readableBytes) ?? [])
        }
        try log.record(mappingLibwbxmlNames: try #require(gal.body))
        try log.validate()
    }

    @Test func aDraftAddedBy16ClientIsStoredOnceAndNotEchoed() async throws {
        let fixture = Fixture()
        let folders = try await fixture.send(.folderSync, EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]),
                                             version: .v16_1)
        let drafts = try #require(folders.body?.child(FH.changes)?.children(FH.add).first { $0.child(FH.type)?.text == "3" }?
            .child(FH.serverId)?.text)
        var key = try #require(Self.collection(try await fixture.send(.sync, Self.sync("0", drafts), version: .v16_1))?
            .child(AS.syncKey)?.text)
        func addRequest(_ key: String) -> EASElement {
            EASElement(AS.sync, children: [EASElement(AS.collections, children: [EASElement(AS.collection, children: [
                EASElement(AS.syncKey, text: key), EASElement(AS.collectionId, text: drafts),
                EASElement(AS.commands, children: [EASElement(AS.add, children: [
                    EASElement(AS.clientId, text: "draft-1"),
                    EASElement(AS.applicationData, children: [
                        EASElement(EASTag.Email.to, text: "ann@example.net"),
                        EASElement(EASTag.Email.subject, text: "Unfinished"),
                        EASElement(EASTag.AirSyncBase.body, children: [
                            EASElement(EASTag.AirSyncBase.type, text: "1"), EASElement(EASTag.AirSyncBase.data, text: "Dear Ann,"),
                        ]),
                    ]),
                ])]),
            ])])])
        }
        let first = try await fixture.send(.sync, addRequest(key), version: .v16_1)
        let response = try #require(Self.collection(first)?.child(AS.responses)?.child(AS.add))
        #expect(response.child(AS.status)?.text == "1")
        let serverId = try #require(response.child(AS.serverId)?.text)
        #expect(Self.ids(first).isEmpty)
        // The answer was lost: the same request again gets the same ServerId and no second copy.
        let replay = try await fixture.send(.sync, addRequest(key), version: .v16_1)
        #expect(Self.collection(replay)?.child(AS.responses)?.child(AS.add)?.child(AS.serverId)?.text == serverId)
        #expect(try await fixture.mail.search(in: IMAPMailboxName(wire: "Drafts"), MailSearch(text: "Unfinished")).count == 1)
        key = try #require(Self.collection(replay)?.child(AS.syncKey)?.text)
        let next = try await fixture.send(.sync, Self.sync(key, drafts), version: .v16_1)
        #expect(Self.ids(next).isEmpty)
        #expect(Self.collection(next)?.child(AS.commands) == nil)
        // Before 16.0 a client cannot add mail: Status 6.
        let old = try await fixture.send(.sync, addRequest(key), version: .v14_1)
        #expect(Self.collection(old)?.child(AS.responses)?.child(AS.add)?.child(AS.status)?.text == "6")
    }

    @Test func provisionAndSettingsAnswersPassTheSchemas() async throws {
        let fixture = Fixture()
        typealias P = EASTag.Provision
        typealias ST = EASTag.Settings
        func request(_ command: EASCommand, _ body: EASElement) async throws -> EASElement? {
            try await fixture.gateway.handle(EASRequest(command: command, user: "demo@airgate.test", deviceId: "schema",
                                                        deviceType: "iPhone", version: .v16_1, body: body), account: fixture.account).body
        }
        let settings = try await request(.settings, EASElement(ST.settings, children: [
            EASElement(ST.deviceInformation, children: [EASElement(ST.set, children: [
                EASElement(ST.model, text: "iPhone15,2"), EASElement(ST.os, text: "iOS 18.1"),
            ])]),
            EASElement(ST.userInformation, children: [EASElement(ST.get)]),
            EASElement(ST.devicePassword, children: [EASElement(ST.set, children: [EASElement(ST.password, text: "1234")])]),
        ]))
        // libwbxml misnames Settings 0x2B: this answer is checked with the names mapped back.
        let rights = try await request(.settings, EASElement(ST.settings, children: [
            EASElement(ST.rightsManagementInformation, children: [EASElement(ST.get)]),
        ]))
        let oofSet = try await request(.settings, EASElement(ST.settings, children: [
            EASElement(ST.oof, children: [EASElement(ST.set, children: Self.oofSetChildren(state: "2"))]),
        ]))
        let oofGet = try await request(.settings, EASElement(ST.settings, children: [
            EASElement(ST.oof, children: [EASElement(ST.get, children: [EASElement(ST.bodyType, text: "HTML")])]),
        ]))
        #expect(oofSet?.child(ST.oof)?.child(ST.status)?.text == "1")
        #expect(oofGet?.child(ST.oof)?.child(ST.get)?.child(ST.oofState)?.text == "2")
        #expect(settings?.child(ST.devicePassword)?.child(ST.status)?.text == "1")
        #expect(rights?.child(ST.rightsManagementInformation)?.child(ST.status)?.text == "1")
        let provision = try await request(.provision, EASElement(P.provision, children: [EASElement(P.policies, children: [
            EASElement(P.policy, children: [EASElement(P.policyType, text: "MS-EAS-Provisioning-WBXML")]),
        ])]))
        #expect(settings?.child(ST.status)?.text == "1")
        #expect(provision?.child(P.policies)?.child(P.policy)?.child(P.data)?.child(P.easProvisionDoc) != nil)
        let log = ResponseLog()
        for body in [settings, oofSet, oofGet, provision].compactMap({ $0 }) {
            var buffer = try body.wbxml()
            log.record(bytes: buffer.readBytes(length: buffer.readableBytes) ?? [])
        }
        try log.record(mappingLibwbxmlNames: try #require(rights))
        try log.validate()
    }

    static func oofSetChildren(state: String, start: String = "2026-12-01T08:00:00.000Z",
                               end: String = "2026-12-08T17:30:00.000Z") -> [EASElement] {
        typealias ST = EASTag.Settings
        return [
            EASElement(ST.oofState, text: state), EASElement(ST.startTime, text: start), EASElement(ST.endTime, text: end),
            EASElement(ST.oofMessage, children: [
                EASElement(ST.appliesToInternal), EASElement(ST.enabled, text: "1"),
                EASElement(ST.replyMessage, text: "Back on the 8th."), EASElement(ST.bodyType, text: "Text"),
            ]),
            EASElement(ST.oofMessage, children: [
                EASElement(ST.appliesToExternalKnown), EASElement(ST.enabled, text: "0"),
                EASElement(ST.replyMessage, text: ""), EASElement(ST.bodyType, text: "Text"),
            ]),
            EASElement(ST.oofMessage, children: [
                EASElement(ST.appliesToExternalUnknown), EASElement(ST.enabled, text: "1"),
                EASElement(ST.replyMessage, text: "Away until December 8 & back after."), EASElement(ST.bodyType, text: "Text"),
            ]),
        ]
    }

    @Test func outOfOfficeIsSetReadBackAndCheckedForSense() async throws {
        let fixture = Fixture()
        typealias ST = EASTag.Settings
        // Every answer, the refusals too, goes through eas-validate at the end.
        let log = ResponseLog()
        func oof(_ body: EASElement, account: MailAccount? = nil) async throws -> EASElement? {
            let answer = try await fixture.gateway.handle(EASRequest(command: .settings, user: "demo@airgate.test", deviceId: "oof",
                                                                     deviceType: "iPhone", version: .v16_1,
                                                                     body: EASElement(ST.settings, children: [body])),
                                                          account: account ?? fixture.account).body
            if let answer {
                var buffer = try answer.wbxml()
                log.record(bytes: buffer.readBytes(length: buffer.readableBytes) ?? [])
            }
            return answer?.child(ST.oof)
        }
        let set = try await oof(EASElement(ST.oof, children: [EASElement(ST.set, children: Self.oofSetChildren(state: "2"))]))
        #expect(set?.child(ST.status)?.text == "1")
        let get = try #require(try await oof(EASElement(ST.oof, children: [EASElement(ST.get, children: [
            EASElement(ST.bodyType, text: "Text"),
        ])]))?.child(ST.get))
        #expect(get.child(ST.startTime)?.text == "2026-12-01T08:00:00.000Z")
        #expect(get.child(ST.endTime)?.text == "2026-12-08T17:30:00.000Z")
        let messages = get.children(ST.oofMessage)
        #expect(messages.count == 3)
        #expect(messages[0].child(ST.appliesToInternal) != nil && messages[0].child(ST.replyMessage)?.text == "Back on the 8th.")
        // Both external audiences share the reply IMAP can give.
        #expect(messages[1].child(ST.enabled)?.text == "1")
        #expect(messages[2].child(ST.replyMessage)?.text == "Away until December 8 & back after.")
        // The script Dovecot would run holds the same.
        let script = try #require(await fixture.sieve.script(named: SieveOutOfOffice.scriptName))
        #expect(script.contains("vacation :addresses [\"demo@airgate.test\"] \"Away until December 8 & back after.\";"))

        // Nonsense gets the spec's statuses and changes nothing.
        let backwards = try await oof(EASElement(ST.oof, children: [EASElement(ST.set, children: Self.oofSetChildren(
            state: "2", start: "2026-12-08T00:00:00.000Z", end: "2026-12-01T00:00:00.000Z"))]))
        #expect(backwards?.child(ST.status)?.text == "6")
        let badState = try await oof(EASElement(ST.oof, children: [EASElement(ST.set, children: Self.oofSetChildren(state: "9"))]))
        #expect(badState?.child(ST.status)?.text == "5")
        #expect(try await oof(EASElement(ST.oof))?.child(ST.status)?.text == "2")
        #expect(await fixture.sieve.script(named: SieveOutOfOffice.scriptName) == script)

        // Without a Sieve server configured: denied by policy.
        var bare = fixture.account
        bare.outOfOffice = nil
        #expect(try await oof(EASElement(ST.oof, children: [EASElement(ST.get)]), account: bare)?.child(ST.status)?.text == "7")
        try log.validate()
    }

    @Test func initialSyncOverAMailboxWithLargeUIDGapsSendsEverythingOnce() async throws {
        let fixture = Fixture(configuration: GatewayConfiguration(syncResponseBudget: 64 * 1024 * 1024))
        var uids: [UInt32] = []
        for index in 0..<600 { uids.append(try await fixture.deliver("m\(index)")) }
        // A long run of expunged messages in the middle: the search windows must widen.
        try await fixture.mail.expunge(in: IMAPMailboxName(wire: "INBOX"), uids: UIDSet(uids: uids[99..<550]))
        let inbox = try await fixture.inboxId()
        var key = try #require(Self.collection(try await fixture.send(.sync, Self.sync("0", inbox)))?.child(AS.syncKey)?.text)
        var seen: [String] = []
        for _ in 0..<100 {
            let answer = try await fixture.send(.sync, Self.sync(key, inbox, window: 7))
            guard let collection = Self.collection(answer) else { break }
            seen += Self.ids(answer)
            key = try #require(collection.child(AS.syncKey)?.text)
            if collection.child(AS.moreAvailable) == nil { break }
        }
        #expect(seen.count == 149)
        #expect(Set(seen).count == 149)
    }

    /// The answers for odd and wrong requests, each checked by eas-validate like the normal ones.
    @Test func errorAndEdgeAnswersPassTheSchemas() async throws {
        let fixture = Fixture()
        let inbox = try await fixture.inboxId()
        typealias GIE = EASTag.GetItemEstimate
        typealias IO = EASTag.ItemOperations
        typealias S = EASTag.Search
        typealias ST = EASTag.Settings
        typealias MV = EASTag.Move
        var answers: [(String, EASElement?)] = []
        func send(_ name: String, _ command: EASCommand, _ body: EASElement?, version: EASProtocolVersion = .v14_1) async throws {
            answers.append((name, try await fixture.send(command, body, device: "edges", version: version).body))
        }
        func sync(_ extra: [EASElement], collections: Bool = true) -> EASElement {
            EASElement(AS.sync, children: (collections ? [EASElement(AS.collections, children: [EASElement(AS.collection, children: [
                EASElement(AS.syncKey, text: "1-0"), EASElement(AS.collectionId, text: inbox),
            ])])] : []) + extra)
        }
        try await send("sync 13", .sync, nil)
        try await send("sync 14", .sync, sync([EASElement(AS.wait, text: "99")]))
        try await send("sync 4", .sync, EASElement(AS.sync, children: [EASElement(AS.collections, children: [EASElement(AS.collection)])]))
        try await send("sync 3", .sync, sync([]))
        try await send("foldersync 9", .folderSync, EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "17-x")]))
        try await send("estimate 3 and 2", .getItemEstimate, EASElement(GIE.getItemEstimate, children: [
            EASElement(GIE.collections, children: [
                EASElement(GIE.collection, children: [EASElement(GIE.collectionId, text: inbox)]),
                EASElement(GIE.collection, children: [EASElement(GIE.collectionId, text: "nope")]),
            ]),
        ]))
        try await send("ping 3", .ping, nil)
        try await send("ping 7", .ping, EASElement(PG.ping, children: [
            EASElement(PG.heartbeatInterval, text: "60"),
            EASElement(PG.folders, children: [EASElement(PG.folder, children: [EASElement(PG.id, text: "nope")])]),
        ]))
        try await send("itemoperations", .itemOperations, EASElement(IO.itemOperations, children: [
            EASElement(IO.fetch, children: [EASElement(IO.store, text: "Mailbox"), EASElement(EASTag.AirSyncBase.fileReference, text: "x:1:2")]),
            EASElement(IO.fetch, children: [EASElement(IO.store, text: "Mailbox"), EASElement(AS.collectionId, text: inbox),
                                            EASElement(AS.serverId, text: "\(inbox):999")]),
            EASElement(IO.emptyFolderContents, children: [EASElement(AS.collectionId, text: inbox)]),
        ]))
        try await send("itemoperations 2", .itemOperations, EASElement(IO.itemOperations))
        try await send("settings", .settings, EASElement(ST.settings, children: [
            EASElement(ST.oof, children: [EASElement(ST.get, children: [EASElement(ST.bodyType, text: "Text")])]),
        ]))
        try await send("search 2", .search, EASElement(S.search))
        try await send("search 3", .search, EASElement(S.search, children: [EASElement(S.store, children: [
            EASElement(S.name, text: "DocumentLibrary"), EASElement(S.query, text: "x"),
        ])]))
        try await send("moveitems", .moveItems, EASElement(MV.moveItems, children: [EASElement(MV.move, children: [
            EASElement(MV.srcMsgId, text: "\(inbox):1"), EASElement(MV.srcFldId, text: inbox), EASElement(MV.dstFldId, text: inbox),
        ])]))
        try await send("foldercreate 9", .folderCreate, EASElement(FH.folderCreate, children: [
            EASElement(FH.syncKey, text: "stale"), EASElement(FH.parentId, text: "0"), EASElement(FH.displayName, text: "x"),
            EASElement(FH.type, text: "12"),
        ]))
        try await send("folderdelete 10", .folderDelete, EASElement(FH.folderDelete))
        try await send("sendmail 119", .sendMail, EASElement(EASTag.ComposeMail.sendMail, children: [
            EASElement(EASTag.ComposeMail.clientId, text: "e1"),
            EASElement(EASTag.ComposeMail.mime, text: "Subject: nobody\r\n\r\nx\r\n"),
        ]))
        try await send("smartreply 150", .smartReply, EASElement(EASTag.ComposeMail.smartReply, children: [
            EASElement(EASTag.ComposeMail.clientId, text: "e2"),
            EASElement(EASTag.ComposeMail.source, children: [EASElement(EASTag.ComposeMail.itemId, text: "nope:1")]),
            EASElement(EASTag.ComposeMail.mime, text: "To: a@b.c\r\n\r\nx\r\n"),
        ]))
        try await send("resolverecipients 5", .resolveRecipients, EASElement(EASTag.ResolveRecipients.resolveRecipients,
                                                                            children: [EASElement(EASTag.ResolveRecipients.options)]))
        // A device that has to provision: the in-band answers of 14.x.
        let blocked = try await fixture.gateway.handle(EASRequest(
            command: .folderSync, user: "demo@airgate.test", deviceId: "unprovisioned", deviceType: "iPhone", version: .v14_1,
            body: EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")])), account: fixture.account)
        answers.append(("foldersync 142", blocked.body))

        let log = ResponseLog()
        for (name, body) in answers {
            let element = try #require(body, "\(name) has no body")
            var buffer = try element.wbxml()
            log.record(bytes: buffer.readBytes(length: buffer.readableBytes) ?? [])
        }
        try log.validate()
    }
}
