import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import MailUpstream
import Testing

/// A device of one user sends every command with another user's folder ids, item ids and
/// attachment references: nothing of the other mailbox comes back, and nothing in it changes
/// (checked with an IMAP session of its own owner).
@Suite struct CrossAccountTests {
    typealias AS = EASTag.AirSync
    typealias FH = EASTag.FolderHierarchy
    typealias IO = EASTag.ItemOperations

    @Test func anotherUsersIdsNameNothing() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()

        // Folder ids are numbered per account, so another user's id may happen to name one of
        // the intruder's own folders (and then it is the intruder's own folder it acts on). To
        // test what matters, the victim's folder gets an id the intruder does not have.
        var intruder = gateway.device(version: .v16_1, user: Stack["AWAY_USER"], password: Stack["AWAY_PASSWORD"])
        try await intruder.provision()
        let ownFolders = try await intruder.send("FolderSync", EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
        var hierarchyKey = try #require(ownFolders.element?.child(FH.syncKey)?.text)
        let ownAdds = ownFolders.element?.child(FH.changes)?.children(FH.add) ?? []
        let ownIds = Set(ownAdds.compactMap { $0.child(FH.serverId)?.text })
        let inbox = try #require(ownAdds.first { $0.child(FH.type)?.text == "2" }?.child(FH.serverId)?.text)

        // The victim: folders (as many as the intruder has, plus one), one holding a message and
        // an attachment that carry a marker.
        let marker = "secret-\(UUID().uuidString)"
        let victimSession = Stack.session(Stack["OTHER_USER"], Stack["OTHER_PASSWORD"])
        let prefix = "Private-\(UUID().uuidString.prefix(8))"
        let mailboxes = (0...ownIds.count).map { IMAPMailboxName(display: "\(prefix)-\($0)") }
        for mailbox in mailboxes { try await victimSession.createTestMailbox(mailbox) }
        defer { Task { for mailbox in mailboxes { try? await victimSession.deleteMailbox(mailbox) } } }
        var victim = gateway.device(user: Stack["OTHER_USER"], password: Stack["OTHER_PASSWORD"])
        try await victim.provision()
        let victimFolders = try await victim.send("FolderSync", EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
        let candidates = (victimFolders.element?.child(FH.changes)?.children(FH.add) ?? []).compactMap { add -> (String, IMAPMailboxName)? in
            guard let id = add.child(FH.serverId)?.text, !ownIds.contains(id),
                  let mailbox = mailboxes.first(where: { $0.displayName == add.child(FH.displayName)?.text }) else { return nil }
            return (id, mailbox)
        }
        let (folderId, mailbox) = try #require(candidates.first)
        let uid = try #require(try await victimSession.append(to: mailbox, message: Array("""
            From: a@example.net\r
            Subject: \(marker)\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b"\r
            \r
            --b\r
            Content-Type: text/plain\r
            \r
            \(marker) body\r
            --b\r
            Content-Type: application/octet-stream; name="\(marker).bin"\r
            Content-Disposition: attachment; filename="\(marker).bin"\r
            \r
            \(marker) attachment\r
            --b--\r

            """.utf8), flags: [], internalDate: nil))
        let first = try await victim.send("Sync", SyncEndToEndTests.syncRequest("0", collection: folderId))
        let key = try #require(SyncEndToEndTests.collection(first)?.child(AS.syncKey)?.text)
        let sync = try await victim.send("Sync", SyncEndToEndTests.syncRequest(key, collection: folderId, window: 10))
        let item = try #require(SyncEndToEndTests.collection(sync)?.child(AS.commands)?.child(AS.add))
        let serverId = try #require(item.child(AS.serverId)?.text)
        let reference = try #require(item.child(AS.applicationData)?.child(EASTag.AirSyncBase.attachments)?
            .child(EASTag.AirSyncBase.attachment)?.child(EASTag.AirSyncBase.fileReference)?.text)

        // The intruder sends every command with those ids.
        var answers: [EASDevice.Answer] = []
        func send(_ command: String, _ body: EASElement) async throws {
            let answer = try await intruder.send(command, body)
            #expect(answer.status != 500, "\(command) answered 500")
            answers.append(answer)
            log.record(answer)
        }
        try await send("Sync", SyncEndToEndTests.syncRequest("0", collection: folderId))
        try await send("GetItemEstimate", EASElement(EASTag.GetItemEstimate.getItemEstimate, children: [
            EASElement(EASTag.GetItemEstimate.collections, children: [EASElement(EASTag.GetItemEstimate.collection, children: [
                EASElement(AS.syncKey, text: "1"), EASElement(EASTag.GetItemEstimate.collectionId, text: folderId),
            ])]),
        ]))
        try await send("ItemOperations", EASElement(IO.itemOperations, children: [
            EASElement(IO.fetch, children: [EASElement(IO.store, text: "Mailbox"), EASElement(AS.collectionId, text: folderId),
                                            EASElement(AS.serverId, text: serverId)]),
            EASElement(IO.fetch, children: [EASElement(IO.store, text: "Mailbox"),
                                            EASElement(EASTag.AirSyncBase.fileReference, text: reference)]),
            EASElement(IO.emptyFolderContents, children: [EASElement(AS.collectionId, text: folderId)]),
        ]))
        try await send("MoveItems", EASElement(EASTag.Move.moveItems, children: [EASElement(EASTag.Move.move, children: [
            EASElement(EASTag.Move.srcMsgId, text: serverId), EASElement(EASTag.Move.srcFldId, text: folderId),
            EASElement(EASTag.Move.dstFldId, text: inbox),
        ])]))
        try await send("Search", EASElement(EASTag.Search.search, children: [EASElement(EASTag.Search.store, children: [
            EASElement(EASTag.Search.name, text: "Mailbox"),
            EASElement(EASTag.Search.query, children: [EASElement(EASTag.Search.and, children: [
                EASElement(AS.class, text: "Email"), EASElement(AS.collectionId, text: folderId),
                EASElement(EASTag.Search.freeText, text: marker),
            ])]),
        ])]))
        try await send("Ping", EASElement(EASTag.Ping.ping, children: [
            EASElement(EASTag.Ping.heartbeatInterval, text: "60"),
            EASElement(EASTag.Ping.folders, children: [EASElement(EASTag.Ping.folder, children: [
                EASElement(EASTag.Ping.id, text: folderId), EASElement(EASTag.Ping.class, text: "Email"),
            ])]),
        ]))
        try await send("MeetingResponse", EASElement(EASTag.MeetingResponse.meetingResponse, children: [
            EASElement(EASTag.MeetingResponse.request, children: [
                EASElement(EASTag.MeetingResponse.userResponse, text: "1"), EASElement(EASTag.MeetingResponse.collectionId, text: folderId),
                EASElement(EASTag.MeetingResponse.requestId, text: serverId),
            ]),
        ]))
        for root in [FH.folderUpdate, FH.folderDelete] {
            var children = [EASElement(FH.syncKey, text: hierarchyKey), EASElement(FH.serverId, text: folderId)]
            if root == FH.folderUpdate { children += [EASElement(FH.parentId, text: "0"), EASElement(FH.displayName, text: "Taken")] }
            let answer = try await intruder.send(root == FH.folderUpdate ? "FolderUpdate" : "FolderDelete", EASElement(root, children: children))
            #expect(answer.element?.child(FH.status)?.text != "1")
            hierarchyKey = answer.element?.child(FH.syncKey)?.text ?? hierarchyKey
            answers.append(answer)
            log.record(answer)
        }
        // Change and Delete of the other user's item inside the intruder's own Inbox collection.
        let own = try await intruder.send("Sync", SyncEndToEndTests.syncRequest("0", collection: inbox))
        let ownKey = try #require(SyncEndToEndTests.collection(own)?.child(AS.syncKey)?.text)
        try await send("Sync", EASElement(AS.sync, children: [EASElement(AS.collections, children: [EASElement(AS.collection, children: [
            EASElement(AS.syncKey, text: ownKey), EASElement(AS.collectionId, text: inbox),
            EASElement(AS.commands, children: [
                EASElement(AS.change, children: [EASElement(AS.serverId, text: serverId), EASElement(AS.applicationData, children: [
                    EASElement(EASTag.Email.read, text: "1"),
                ])]),
                EASElement(AS.delete, children: [EASElement(AS.serverId, text: serverId)]),
            ]),
        ])])]))

        // Nothing of the other mailbox came back...
        for answer in answers {
            let xml = answer.element?.xml() ?? ""
            #expect(!xml.contains(marker) && !String(decoding: answer.http.body, as: UTF8.self).contains(marker))
        }
        // ...and nothing in it changed.
        let after = try await victimSession.summaries(in: mailbox, uids: UIDSet(uids: [uid]))
        #expect(after.count == 1)
        #expect(after.first?.flags.contains("\\Seen") == false && after.first?.flags.contains("\\Deleted") == false)
        #expect(try await victimSession.listMailboxes().contains { $0.name == mailbox })
        try log.validate()
    }
}
