import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import MailUpstream
import Testing

/// Ids a client controls — CollectionId, ServerId, FileReference, folder ServerId, DeviceId,
/// AttachmentName — carrying SQL meta-characters, path tricks, numbers out of range and
/// oversized strings: every command answers with a status (never 500, never a hang), and
/// neither the mailbox nor the device's state changes.
@Suite struct HostileIdsTests {
    typealias AS = EASTag.AirSync
    typealias FH = EASTag.FolderHierarchy
    typealias IO = EASTag.ItemOperations

    static let hostile = [
        "1' OR '1'='1", "1; DROP TABLE devices; --", "1:1' OR '1'='1", "\"); DELETE FROM folders; --", "../../../etc/passwd",
        "..\\..\\boot.ini", "1:../../x", "%2e%2e%2f", "1:99999999999999999999", "-1:-1", ":", "1:", ":1", "1:1:1",
        "0x41:0x41", "１:１", "\u{202E}1:1", String(repeating: "9", count: 4_000), "*", "1:*", "1,2:3", "NIL", "{5}\r\nabc",
    ]

    @Test func hostileIdsGetStatusesAndChangeNothing() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        let user = Stack["AWAY_USER"], password = Stack["AWAY_PASSWORD"]
        let session = Stack.session(user, password)
        let mailbox = IMAPMailboxName(display: "Hostile-\(UUID().uuidString.prefix(8))")
        try await session.createTestMailbox(mailbox)
        _ = try await session.append(to: mailbox, message: Array("Subject: keep me\r\nFrom: a@example.net\r\n\r\nkeep\r\n".utf8),
                                     flags: [], internalDate: nil)
        let before = try await session.listing(of: mailbox).1

        // A DeviceId is letters and digits ([MS-ASHTTP]): anything else is refused outright.
        let odd = gateway.device("x';DROP--", version: .v14_1, user: user, password: password)
        #expect(try await odd.send("FolderSync", EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")])).status == 400)
        var device = gateway.device(version: .v14_1, user: user, password: password)
        try await device.provision()
        let folders = try await device.send("FolderSync", EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
        let hierarchyKey = try #require(folders.element?.child(FH.syncKey)?.text)
        let folderId = try #require(folders.element?.child(FH.changes)?.children(FH.add)
            .first { $0.child(FH.displayName)?.text == mailbox.displayName }?.child(FH.serverId)?.text)
        let (key, ids) = try await PingAndFetchTests.syncToEnd(device, folderId, log: log)
        #expect(ids.count == 1)

        func expectAnswered(_ answer: EASDevice.Answer, _ what: String) {
            // A status in the body or a 4xx; not 500, and not 503 (an upstream asked to act on it).
            #expect(answer.status < 500, "\(what) answered \(answer.status)")
            if answer.element != nil { log.record(answer) }
        }
        for id in Self.hostile {
            let itemId = id, collectionId = id
            // Sync: a hostile CollectionId, then hostile ServerIds in the real collection.
            expectAnswered(try await device.send("Sync", SyncEndToEndTests.syncRequest("0", collection: collectionId)), "Sync \(id)")
            expectAnswered(try await device.send("Sync", EASElement(AS.sync, children: [EASElement(AS.collections, children: [
                EASElement(AS.collection, children: [
                    EASElement(AS.syncKey, text: key), EASElement(AS.collectionId, text: folderId),
                    EASElement(AS.commands, children: [
                        EASElement(AS.change, children: [EASElement(AS.serverId, text: itemId), EASElement(AS.applicationData, children: [
                            EASElement(EASTag.Email.read, text: "1"),
                        ])]),
                        EASElement(AS.delete, children: [EASElement(AS.serverId, text: itemId)]),
                        EASElement(AS.fetch, children: [EASElement(AS.serverId, text: itemId)]),
                    ]),
                ]),
            ])])), "Sync commands \(id)")
            expectAnswered(try await device.send("ItemOperations", EASElement(IO.itemOperations, children: [
                EASElement(IO.fetch, children: [EASElement(IO.store, text: "Mailbox"), EASElement(AS.collectionId, text: collectionId),
                                                EASElement(AS.serverId, text: itemId)]),
                EASElement(IO.fetch, children: [EASElement(IO.store, text: "Mailbox"),
                                                EASElement(EASTag.AirSyncBase.fileReference, text: id)]),
                EASElement(IO.emptyFolderContents, children: [EASElement(AS.collectionId, text: collectionId)]),
            ])), "ItemOperations \(id)")
            expectAnswered(try await device.send("MoveItems", EASElement(EASTag.Move.moveItems, children: [
                EASElement(EASTag.Move.move, children: [
                    EASElement(EASTag.Move.srcMsgId, text: itemId), EASElement(EASTag.Move.srcFldId, text: folderId),
                    EASElement(EASTag.Move.dstFldId, text: collectionId),
                ]),
            ])), "MoveItems \(id)")
            expectAnswered(try await device.send("GetItemEstimate", EASElement(EASTag.GetItemEstimate.getItemEstimate, children: [
                EASElement(EASTag.GetItemEstimate.collections, children: [EASElement(EASTag.GetItemEstimate.collection, children: [
                    EASElement(AS.syncKey, text: id), EASElement(EASTag.GetItemEstimate.collectionId, text: collectionId),
                ])]),
            ])), "GetItemEstimate \(id)")
            for root in [FH.folderUpdate, FH.folderDelete] {
                var children = [EASElement(FH.syncKey, text: hierarchyKey), EASElement(FH.serverId, text: id)]
                if root == FH.folderUpdate { children += [EASElement(FH.parentId, text: id), EASElement(FH.displayName, text: id)] }
                let answer = try await device.send(root == FH.folderUpdate ? "FolderUpdate" : "FolderDelete", EASElement(root, children: children))
                expectAnswered(answer, "\(root) \(id)")
                #expect(answer.element?.child(FH.status)?.text != "1", "\(root) \(id) succeeded")
            }
            // GetAttachment names the attachment in the query.
            let name = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "x"
            let attachment = try await device.exchange.send(
                method: .POST, path: device.query("GetAttachment") + "&AttachmentName=\(name)",
                headers: device.basicAuthorization + [("MS-ASProtocolVersion", "14.1"), ("X-MS-PolicyKey", device.policyKey ?? "")],
                body: [])
            #expect(attachment.status != 500 && attachment.status != 200, "GetAttachment \(id) answered \(attachment.status)")
        }

        // Nothing changed: the message is there with its flags, the folder too, and the
        // device's collection still answers its key.
        #expect(try await session.listing(of: mailbox).1 == before)
        let still = try await device.send("Sync", SyncEndToEndTests.syncRequest(key, collection: folderId))
        #expect(still.status == 200)
        try log.validate()
        try? await session.deleteMailbox(mailbox)
    }
}
