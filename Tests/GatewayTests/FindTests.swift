import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import MailUpstream
import Testing

/// Find (16.1) against the real Dovecot: the same IMAP SEARCH as Search, a folder's subfolders
/// with DeepTraversal, the address book for GAL. libwbxml has no code page 25, so the answers
/// are read by our decoder and checked against Microsoft's FindResponse schema.
@Suite struct FindTests {
    typealias FD = EASTag.Find
    typealias FH = EASTag.FolderHierarchy

    static func find(_ text: String, collection: String?, deep: Bool) -> EASElement {
        var query = [EASElement(EASTag.AirSync.class, text: "Email")]
        if let collection { query.append(EASElement(EASTag.AirSync.collectionId, text: collection)) }
        query.append(EASElement(FD.freeText, text: text))
        var options = [EASElement(FD.range, text: "0-49")]
        if deep { options.append(EASElement(FD.deepTraversal)) }
        return EASElement(FD.find, children: [
            EASElement(FD.searchId, text: UUID().uuidString),
            EASElement(FD.executeSearch, children: [EASElement(FD.mailBoxSearchCriterion, children: [
                EASElement(FD.query, children: query), EASElement(FD.options, children: options),
            ])]),
        ])
    }

    @Test func findSearchesAFolderAndItsSubfolders() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device(version: .v16_1)
        let (folderId, mailbox, _) = try await SyncEndToEndTests.prepare(&device, log: log, count: 2)
        let hierarchy = try await device.send("FolderSync", EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
        let marker = "find\(UUID().uuidString.prefix(8))"
        let created = try await device.send("FolderCreate", EASElement(FH.folderCreate, children: [
            EASElement(FH.syncKey, text: try #require(hierarchy.element?.child(FH.syncKey)?.text)),
            EASElement(FH.parentId, text: folderId), EASElement(FH.displayName, text: "sub-\(marker)"), EASElement(FH.type, text: "12"),
        ]))
        let subId = try #require(created.element?.child(FH.serverId)?.text)
        let session = Stack.session()
        let sub = try #require(try await session.listMailboxes().first { $0.name.displayName.hasSuffix("sub-\(marker)") }?.name)
        func message(_ subject: String) -> [UInt8] {
            Array("From: Ana <ana@example.org>\r\nTo: demo@airgate.test\r\nCc: Bo <bo@example.org>\r\nSubject: \(subject)\r\n\r\nThe \(marker) plan, first line.\r\n".utf8)
        }
        let parentUID = try #require(try await session.append(to: mailbox, message: message("\(marker) in the folder"), flags: ["\\Seen"],
                                                              internalDate: 1_796_000_000_000))
        let childUID = try #require(try await session.append(to: sub, message: message("\(marker) in the subfolder"), flags: [],
                                                             internalDate: 1_796_100_000_000))

        let deep = try await device.send("Find", Self.find(marker, collection: folderId, deep: true))
        try log.record(decodingOurselves: deep)
        let response = try #require(deep.element?.child(FD.response))
        #expect(deep.element?.child(FD.status)?.text == "1")
        #expect(response.child(EASTag.ItemOperations.store)?.text == "Mailbox")
        #expect(response.child(FD.total)?.text == "2")
        #expect(response.child(FD.range)?.text == "0-1")
        let results = response.children(FD.result)
        // Newest first: the subfolder's message was received later.
        #expect(results.map { $0.child(EASTag.AirSync.serverId)?.text } == ["\(subId):\(childUID)", "\(folderId):\(parentUID)"])
        let properties = try #require(results.last?.child(FD.properties))
        #expect(properties.child(EASTag.Email.subject)?.text == "\(marker) in the folder")
        #expect(properties.child(EASTag.Email.read)?.text == "1")
        #expect(properties.child(FD.displayCc)?.text == "Bo")
        #expect(properties.child(FD.preview)?.text?.hasPrefix("The \(marker) plan") == true)
        #expect(properties.child(FD.hasAttachments)?.text == "0")

        let shallow = try await device.send("Find", Self.find(marker, collection: folderId, deep: false))
        try log.record(decodingOurselves: shallow)
        #expect(shallow.element?.child(FD.response)?.child(FD.total)?.text == "1")

        // The address book: the account itself at least.
        let gal = try await device.send("Find", EASElement(FD.find, children: [
            EASElement(FD.searchId, text: UUID().uuidString),
            EASElement(FD.executeSearch, children: [EASElement(FD.galSearchCriterion, children: [
                EASElement(FD.query, text: "demo"), EASElement(FD.options, children: [EASElement(FD.range, text: "0-9")]),
            ])]),
        ]))
        try log.record(decodingOurselves: gal)
        #expect(gal.element?.child(FD.response)?.child(EASTag.ItemOperations.store)?.text == "GAL")
        #expect(gal.element?.child(FD.response)?.children(FD.result).contains {
            $0.child(FD.properties)?.child(EASTag.GAL.emailAddress)?.text == Stack["DEMO_USER"]
        } == true)

        // A hostile query: IMAP quoting, a literal marker, a line break and a SEARCH key. It is
        // searched for as text, finds nothing, and the session keeps working.
        let hostile = try await device.send("Find", Self.find("x\" {5}\r\n) OR ALL \\ UID 1:*", collection: folderId, deep: true))
        try log.record(decodingOurselves: hostile)
        #expect(hostile.element?.child(FD.status)?.text == "1")
        #expect(hostile.element?.child(FD.response)?.child(FD.total)?.text == "0")
        let tooLong = try await device.send("Find", Self.find(String(repeating: "a", count: 1025), collection: folderId, deep: false))
        try log.record(decodingOurselves: tooLong)
        #expect(tooLong.element?.child(FD.status)?.text == "2")
        let again = try await device.send("Find", Self.find(marker, collection: folderId, deep: false))
        #expect(again.element?.child(FD.response)?.child(FD.total)?.text == "1")

        // A folder the client does not know any more, and a request without a SearchId.
        let stale = try await device.send("Find", Self.find(marker, collection: "no-such-folder", deep: false))
        try log.record(decodingOurselves: stale)
        #expect(stale.element?.child(FD.status)?.text == "3")
        let bad = try await device.send("Find", EASElement(FD.find, children: [EASElement(FD.executeSearch)]))
        try log.record(decodingOurselves: bad)
        #expect(bad.element?.child(FD.status)?.text == "2")
        try log.validate()
    }
}
