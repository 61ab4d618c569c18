import EASClient
import EASProtocol
import AirgateTestSupport
import Foundation
import MailUpstream
import NIOCore
import Testing

/// A phone's life against `airgate serve` in front of the stack's Dovecot and Postfix: every
/// answer checked by eas-validate.
@Suite(.serialized) struct SyncEndToEndTests {
    typealias AS = EASTag.AirSync
    typealias FH = EASTag.FolderHierarchy

    static func syncRequest(_ key: String, collection: String, window: Int? = nil, bodyType: Int = 2,
                            truncation: Int = 2048) -> EASElement {
        var children = [EASElement(AS.syncKey, text: key), EASElement(AS.collectionId, text: collection)]
        if key != "0" {
            children.append(EASElement(AS.deletesAsMoves, text: "1"))
            children.append(EASElement(AS.getChanges))
            if let window { children.append(EASElement(AS.windowSize, text: String(window))) }
            children.append(EASElement(AS.options, children: [
                EASElement(EASTag.AirSyncBase.bodyPreference, children: [
                    EASElement(EASTag.AirSyncBase.type, text: String(bodyType)),
                    EASElement(EASTag.AirSyncBase.truncationSize, text: String(truncation)),
                ]),
            ]))
        }
        return EASElement(AS.sync, children: [EASElement(AS.collections, children: [EASElement(AS.collection, children: children)])])
    }

    static func collection(_ answer: EASDevice.Answer) -> EASElement? {
        answer.element?.child(AS.collections)?.child(AS.collection)
    }

    /// Provision, FolderSync, and the id of a fresh folder seeded with `count` messages.
    /// - Parameter body: the text of message `index`.
    static func prepare(_ device: inout EASDevice, log: ResponseLog, count: Int,
                        body: (Int) -> String = { "Body of message \($0)." }) async throws
        -> (folderId: String, mailbox: IMAPMailboxName, uids: [UInt32])
    {
        let session = Stack.session()
        let mailbox = IMAPMailboxName(display: "EAS-\(UUID().uuidString.prefix(8))")
        try await session.createTestMailbox(mailbox)
        var uids: [UInt32] = []
        for index in 0..<count {
            let message = Array("""
                From: "Sender \(index)" <sender\(index)@example.net>\r
                To: "Demo" <demo@airgate.test>\r
                Subject: message \(index) — grüße\r
                Date: Mon, 23 Nov 2026 10:00:00 +0000\r
                Message-ID: <m\(index)-\(UUID().uuidString)@example.net>\r
                MIME-Version: 1.0\r
                Content-Type: text/plain; charset=utf-8\r
                \r
                \(body(index))\r

                """.utf8)
            uids.append(try #require(try await session.append(to: mailbox, message: message, flags: index % 3 == 0 ? ["\\Seen"] : [],
                                                              internalDate: 1_795_000_000_000 + Int64(index) * 60_000)))
        }
        try await device.provision()
        let folders = try await device.send("FolderSync", EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
        log.record(folders)
        let adds = folders.element?.child(FH.changes)?.children(FH.add) ?? []
        let folder = try #require(adds.first { $0.child(FH.displayName)?.text == mailbox.displayName })
        return (try #require(folder.child(FH.serverId)?.text), mailbox, uids)
    }

    /// The state stores the flow runs on: the embedded default and the stack's PostgreSQL.
    enum StoreKind: String, CaseIterable, Sendable { case sqlite, postgres }

    @Test(arguments: StoreKind.allCases)
    func iPhoneProvisionsSyncsInBatchesAndSeesChangesExactlyOnce(_ kind: StoreKind) async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start { configuration in
            if kind == .postgres { configuration.store = .postgres(url: Stack["PG_URL"]) }
        }
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device()

        // OPTIONS: versions and commands.
        let options = try await device.options()
        #expect(options.status == 200)
        #expect(options.header("MS-ASProtocolVersions")?.contains("14.1") == true)
        #expect(options.header("MS-ASProtocolCommands")?.contains("Sync") == true)
        #expect(options.header("Content-Length") == "0")

        // Before provisioning a 14.1 device gets the in-band status 142.
        let early = try await device.send("FolderSync", EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
        #expect(early.element?.child(FH.status)?.text == "142")

        let (folderId, mailbox, uids) = try await Self.prepare(&device, log: log, count: 25)
        defer { Task { try? await Stack.session().deleteMailbox(mailbox) } }

        // Key 0: a key and nothing else.
        let first = try await device.send("Sync", Self.syncRequest("0", collection: folderId))
        log.record(first)
        var key = try #require(Self.collection(first)?.child(AS.syncKey)?.text)
        #expect(Self.collection(first)?.child(AS.commands) == nil)
        #expect(Self.collection(first)?.child(AS.class) == nil)

        // Batches of 10 until MoreAvailable goes away; every message exactly once, newest first.
        var seen: [String] = []
        var previous: (key: String, ids: [String])?
        for _ in 0..<10 {
            let answer = try await device.send("Sync", Self.syncRequest(key, collection: folderId, window: 10))
            log.record(answer)
            let collection = try #require(Self.collection(answer))
            #expect(collection.child(AS.status)?.text == "1")
            let adds = collection.child(AS.commands)?.children(AS.add) ?? []
            #expect(adds.count <= 10)
            let ids = adds.compactMap { $0.child(AS.serverId)?.text }
            for add in adds {
                let data = try #require(add.child(AS.applicationData))
                #expect(data.child(EASTag.Email.subject)?.text?.hasPrefix("message ") == true)
                #expect(data.child(EASTag.AirSyncBase.body)?.child(EASTag.AirSyncBase.data)?.text?.contains("Body of message") == true)
            }
            seen += ids
            previous = (key, ids)
            key = try #require(collection.child(AS.syncKey)?.text)
            if collection.child(AS.moreAvailable) == nil { break }
        }
        #expect(seen.count == 25)
        #expect(Set(seen).count == 25)
        #expect(seen.first == "\(folderId):\(uids.last!)")

        // The client lost the last answer and asks again with the previous key: the same items.
        let replay = try await device.send("Sync", Self.syncRequest(try #require(previous?.key), collection: folderId, window: 10))
        log.record(replay)
        let replayed = (Self.collection(replay)?.child(AS.commands)?.children(AS.add) ?? []).compactMap { $0.child(AS.serverId)?.text }
        #expect(replayed == previous?.ids)
        key = try #require(Self.collection(replay)?.child(AS.syncKey)?.text)

        // Nothing changed: an empty 200 with the WBXML content type.
        let idle = try await device.send("Sync", Self.syncRequest(key, collection: folderId, window: 10))
        #expect(idle.status == 200 && idle.http.body.isEmpty)
        #expect(idle.http.header("Content-Type") == "application/vnd.ms-sync.wbxml")
        #expect(idle.http.header("Content-Length") == "0")

        // Another client flags one, deletes one and adds one: Change, Delete, Add, once each.
        try await Stack.python(Stack.imaplibLogin + """
            m.select(sys.argv[1])
            m.uid("STORE", sys.argv[2], "+FLAGS", "(\\\\Flagged \\\\Seen)")
            m.uid("STORE", sys.argv[3], "+FLAGS", "(\\\\Deleted)")
            m.expunge()
            m.append(sys.argv[1], None, None, b"From: late@example.net\\r\\nSubject: late arrival\\r\\n\\r\\nnew\\r\\n")
            m.logout()
            """, [mailbox.wireName, String(uids[1]), String(uids[2])])
        let changes = try await device.send("Sync", Self.syncRequest(key, collection: folderId, window: 10))
        log.record(changes)
        let commands = try #require(Self.collection(changes)?.child(AS.commands))
        #expect(commands.children(AS.change).compactMap { $0.child(AS.serverId)?.text } == ["\(folderId):\(uids[1])"])
        #expect(commands.children(AS.change).first?.child(AS.applicationData)?.child(EASTag.Email.read)?.text == "1")
        #expect(commands.children(AS.delete).compactMap { $0.child(AS.serverId)?.text } == ["\(folderId):\(uids[2])"])
        let late = commands.children(AS.add)
        #expect(late.count == 1)
        #expect(late.first?.child(AS.applicationData)?.child(EASTag.Email.subject)?.text == "late arrival")
        key = try #require(Self.collection(changes)?.child(AS.syncKey)?.text)
        let after = try await device.send("Sync", Self.syncRequest(key, collection: folderId, window: 10))
        #expect(after.http.body.isEmpty)

        // An unknown key: Status 3.
        let unknown = try await device.send("Sync", Self.syncRequest("99-deadbeef", collection: folderId))
        log.record(unknown)
        #expect(Self.collection(unknown)?.child(AS.status)?.text == "3")

        // A collection that is not a folder of this account: Status 12.
        let stranger = try await device.send("Sync", Self.syncRequest(key, collection: "9999"))
        log.record(stranger)
        #expect(Self.collection(stranger)?.child(AS.status)?.text == "12")

        try log.validate()
    }

    @Test func answersStayWithinTheByteBudgetAndCarryEveryMessageOnce() async throws {
        // Bodies from nothing to 33 KB, sent whole (truncation 51,200): the 50 KB budget, not
        // the window, cuts the answers; only a message that is alone may go over it.
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device()
        let (folderId, mailbox, _) = try await Self.prepare(&device, log: log, count: 24) { index in
            String(repeating: "line \(index) of a longer body, with <markup> & such\r\n", count: index * 30)
        }
        defer { Task { try? await Stack.session().deleteMailbox(mailbox) } }
        var key = try #require(Self.collection(try await device.send("Sync", Self.syncRequest("0", collection: folderId)))?
            .child(AS.syncKey)?.text)
        var seen: [String] = []
        var answers = 0
        for _ in 0..<30 {
            let answer = try await device.send("Sync", Self.syncRequest(key, collection: folderId, window: 100, truncation: 51_200))
            log.record(answer)
            let collection = try #require(Self.collection(answer))
            let adds = collection.child(AS.commands)?.children(AS.add) ?? []
            #expect(adds.count == 1 || answer.http.body.count <= 51_200, "\(adds.count) adds in \(answer.http.body.count) bytes")
            seen += adds.compactMap { $0.child(AS.serverId)?.text }
            answers += 1
            key = try #require(collection.child(AS.syncKey)?.text)
            if collection.child(AS.moreAvailable) == nil { break }
        }
        #expect(seen.count == 24 && Set(seen).count == 24)
        // About 400 KB of bodies: the budget made several answers, not one per message.
        #expect(answers > 4 && answers < 24)
        try log.validate()
    }

    @Test func answersOfAnInitialSyncComeNearTheByteBudget() async throws {
        // 150 messages of about 1.5 KB, shown as HTML: the budget cuts the answers. Once the
        // messages are fetched ahead, their Adds count with their real size, and an answer
        // takes about as many as fit, not a fifth fewer (the estimate runs high).
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device()
        let (folderId, mailbox, _) = try await Self.prepare(&device, log: log, count: 150) { index in
            String(repeating: "line \(index) of a body that is plain text, <shown> as HTML & cut nowhere\r\n", count: 20)
        }
        defer { Task { try? await Stack.session().deleteMailbox(mailbox) } }
        var key = try #require(Self.collection(try await device.send("Sync", Self.syncRequest("0", collection: folderId)))?
            .child(AS.syncKey)?.text)
        var sizes: [Int] = []
        var seen: [String] = []
        for _ in 0..<40 {
            let answer = try await device.send("Sync", Self.syncRequest(key, collection: folderId, window: 512, truncation: 51_200))
            log.record(answer)
            let collection = try #require(Self.collection(answer))
            seen += (collection.child(AS.commands)?.children(AS.add) ?? []).compactMap { $0.child(AS.serverId)?.text }
            sizes.append(answer.http.body.count)
            key = try #require(collection.child(AS.syncKey)?.text)
            if collection.child(AS.moreAvailable) == nil { break }
        }
        #expect(seen.count == 150 && Set(seen).count == 150)
        #expect(sizes.allSatisfy { $0 <= 51_200 }, "\(sizes)")
        // The first answer has nothing fetched ahead (estimated), the last takes what is left.
        let middle = sizes.dropFirst().dropLast()
        #expect(middle.count >= 2 && middle.allSatisfy { $0 >= 51_200 * 85 / 100 }, "\(sizes)")
        try log.validate()
    }

    @Test func clientChangesReachIMAPAndAreNotEchoed() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device()
        let (folderId, mailbox, uids) = try await Self.prepare(&device, log: log, count: 4)
        defer { Task { try? await Stack.session().deleteMailbox(mailbox) } }
        let first = try await device.send("Sync", Self.syncRequest("0", collection: folderId))
        var key = try #require(Self.collection(first)?.child(AS.syncKey)?.text)
        let all = try await device.send("Sync", Self.syncRequest(key, collection: folderId, window: 50))
        log.record(all)
        key = try #require(Self.collection(all)?.child(AS.syncKey)?.text)
        let trashSubjectCount = try await Stack.session().search(in: IMAPMailboxName(wire: "Trash"), MailSearch(subject: "message 3 —")).count

        func id(_ uid: UInt32) -> String { "\(folderId):\(uid)" }
        let commands = EASElement(AS.commands, children: [
            EASElement(AS.change, children: [EASElement(AS.serverId, text: id(uids[1])), EASElement(AS.applicationData, children: [
                EASElement(EASTag.Email.read, text: "1"),
            ])]),
            EASElement(AS.change, children: [EASElement(AS.serverId, text: id(uids[2])), EASElement(AS.applicationData, children: [
                EASElement(EASTag.Email.flag, children: [
                    EASElement(EASTag.Email.status, text: "2"), EASElement(EASTag.Email.flagType, text: "Flag for follow up"),
                ]),
            ])]),
            EASElement(AS.delete, children: [EASElement(AS.serverId, text: id(uids[3]))]),
            EASElement(AS.fetch, children: [EASElement(AS.serverId, text: id(uids[0]))]),
            EASElement(AS.change, children: [EASElement(AS.serverId, text: "9999:1"), EASElement(AS.applicationData, children: [
                EASElement(EASTag.Email.read, text: "1"),
            ])]),
        ])
        var request = Self.syncRequest(key, collection: folderId, window: 50)
        // Put the commands into the collection, after its Options.
        var collectionElement = try #require(request.child(AS.collections)?.child(AS.collection))
        collectionElement = EASElement(AS.collection, children: collectionElement.children + [commands])
        request = EASElement(AS.sync, children: [EASElement(AS.collections, children: [collectionElement])])
        let answer = try await device.send("Sync", request)
        log.record(answer)
        let collection = try #require(Self.collection(answer))
        #expect(collection.child(AS.commands) == nil, "the client's own changes came back: \(String(describing: collection.child(AS.commands)))")
        let responses = try #require(collection.child(AS.responses))
        #expect(responses.child(AS.fetch)?.child(AS.applicationData)?.child(EASTag.Email.subject)?.text?.hasPrefix("message 0") == true)
        #expect(responses.children(AS.change).first { $0.child(AS.serverId)?.text == "9999:1" }?.child(AS.status)?.text == "8")
        key = try #require(collection.child(AS.syncKey)?.text)

        let session = Stack.session()
        let flags = Dictionary(try await session.summaries(in: mailbox, uids: UIDSet(uids: uids)).map { ($0.uid, $0.flags) },
                               uniquingKeysWith: { first, _ in first })
        #expect(flags[uids[1]]?.contains("\\Seen") == true)
        #expect(flags[uids[2]]?.contains("\\Flagged") == true)
        #expect(flags[uids[3]] == nil)
        let trash = try await session.search(in: IMAPMailboxName(wire: "Trash"), MailSearch(subject: "message 3 —"))
        #expect(trash.count == trashSubjectCount + 1)

        // Nothing to echo on the next Sync either.
        let next = try await device.send("Sync", Self.syncRequest(key, collection: folderId, window: 50))
        log.record(next)
        #expect(Self.collection(next)?.child(AS.commands) == nil)
        try log.validate()
    }
}
