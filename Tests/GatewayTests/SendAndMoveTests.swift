import EASClient
import EASProtocol
import AirgateTestSupport
import Foundation
import GatewayHTTP
import MailUpstream
import NIOCore
import Testing

/// SendMail (both forms) through the stack's Postfix, once per ClientId, with the Sent copy;
/// MoveItems between the account's folders.
@Suite(.serialized) struct SendAndMoveTests {
    typealias CM = EASTag.ComposeMail
    typealias MV = EASTag.Move

    /// Waits (bounded) until `count` messages with `subject` are in the mailbox.
    static func count(_ subject: String, in mailbox: String, user: String, password: String, atLeast: Int) async throws -> Int {
        let session = Stack.session(user, password)
        var found = 0
        for _ in 0..<100 {
            found = try await session.search(in: IMAPMailboxName(wire: mailbox), MailSearch(subject: subject)).count
            if found >= atLeast { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return found
    }

    @Test func sendMailGoesOutOnceAndIsKeptInSent() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device()
        try await device.provision()
        _ = try await device.send("FolderSync", EASElement(EASTag.FolderHierarchy.folderSync, children: [
            EASElement(EASTag.FolderHierarchy.syncKey, text: "0"),
        ]))
        let subject = "eas-send-\(UUID().uuidString)"
        let mime = Array("""
            To: Other <\(Stack["OTHER_USER"])>\r
            Bcc: \(Stack["DEMO_USER"])\r
            Subject: \(subject)\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            Sent from a phone — grüße.\r

            """.utf8)
        let request = EASElement(CM.sendMail, children: [
            EASElement(CM.clientId, text: "client-\(subject)"),
            EASElement(CM.saveInSentItems),
            EASElement(CM.mime, .opaque(ByteBuffer(bytes: mime))),
        ])
        let answer = try await device.send("SendMail", request)
        log.record(answer)
        #expect(answer.status == 200 && answer.http.body.isEmpty)
        // The client repeats the request (it never saw the answer): nothing goes out twice.
        let again = try await device.send("SendMail", request)
        #expect(again.status == 200 && again.http.body.isEmpty)

        #expect(try await Self.count(subject, in: "INBOX", user: Stack["OTHER_USER"], password: Stack["OTHER_PASSWORD"], atLeast: 1) == 1)
        // The Bcc recipient got it too, without seeing the Bcc line.
        #expect(try await Self.count(subject, in: "INBOX", user: Stack["DEMO_USER"], password: Stack["DEMO_PASSWORD"], atLeast: 1) == 1)
        let demo = Stack.session()
        let uid = try #require(try await demo.search(in: IMAPMailboxName(wire: "INBOX"), MailSearch(subject: subject)).first)
        let delivered = try await demo.fetch(in: IMAPMailboxName(wire: "INBOX"), uid: uid, section: "HEADER", range: nil)
        #expect(!String(decoding: delivered, as: UTF8.self).lowercased().contains("\nbcc:"))
        #expect(try await Self.count(subject, in: "Sent", user: Stack["DEMO_USER"], password: Stack["DEMO_PASSWORD"], atLeast: 1) == 1)
        // Give a second delivery time to show up, then check there is none.
        try await Task.sleep(for: .seconds(1))
        #expect(try await Stack.session(Stack["OTHER_USER"], Stack["OTHER_PASSWORD"])
            .search(in: IMAPMailboxName(wire: "INBOX"), MailSearch(subject: subject)).count == 1)

        // No recipient: Status 119.
        let nobody = try await device.send("SendMail", EASElement(CM.sendMail, children: [
            EASElement(CM.clientId, text: "nobody-\(subject)"),
            EASElement(CM.mime, .opaque(ByteBuffer(bytes: Array("Subject: nobody\r\n\r\nx\r\n".utf8)))),
        ]))
        log.record(nobody)
        #expect(nobody.element?.child(CM.status)?.text == "119")
        try log.validate()
    }

    @Test func version121SendsRawMIMEWithSaveInSent() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        var device = gateway.device(type: "SAMSUNGSMG991B", version: .v12_1)
        try await device.provision()
        let subject = "eas-send-12-\(UUID().uuidString)"
        let mime = Array("To: \(Stack["OTHER_USER"])\r\nSubject: \(subject)\r\n\r\nhello from 12.1\r\n".utf8)
        let response = try await device.exchange.send(method: .POST, path: device.query("SendMail") + "&SaveInSent=T", headers: [
            ("Authorization", "Basic " + Base64.encode(Array("\(device.user):\(device.password)".utf8))),
            ("MS-ASProtocolVersion", "12.1"), ("X-MS-PolicyKey", device.policyKey ?? ""), ("Content-Type", "message/rfc822"),
        ], body: mime)
        #expect(response.status == 200)
        #expect(try await Self.count(subject, in: "INBOX", user: Stack["OTHER_USER"], password: Stack["OTHER_PASSWORD"], atLeast: 1) == 1)
        #expect(try await Self.count(subject, in: "Sent", user: Stack["DEMO_USER"], password: Stack["DEMO_PASSWORD"], atLeast: 1) == 1)
    }

    @Test func moveItemsAnswersNewServerIdsAndRefusesForeignFolders() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device()
        let session = Stack.session()
        let target = IMAPMailboxName(display: "EAS-Target-\(UUID().uuidString.prefix(6))")
        try await session.createTestMailbox(target)
        defer { Task { try? await session.deleteMailbox(target) } }
        let (folderId, mailbox, uids) = try await SyncEndToEndTests.prepare(&device, log: log, count: 2)
        defer { Task { try? await session.deleteMailbox(mailbox) } }
        let folders = try await device.send("FolderSync", EASElement(EASTag.FolderHierarchy.folderSync, children: [
            EASElement(EASTag.FolderHierarchy.syncKey, text: "0"),
        ]))
        let targetId = try #require(folders.element?.child(EASTag.FolderHierarchy.changes)?.children(EASTag.FolderHierarchy.add)
            .first { $0.child(EASTag.FolderHierarchy.displayName)?.text == target.displayName }?.child(EASTag.FolderHierarchy.serverId)?.text)
        func move(_ message: String, from source: String, to destination: String) -> EASElement {
            EASElement(MV.move, children: [
                EASElement(MV.srcMsgId, text: message), EASElement(MV.srcFldId, text: source), EASElement(MV.dstFldId, text: destination),
            ])
        }
        let answer = try await device.send("MoveItems", EASElement(MV.moveItems, children: [
            move("\(folderId):\(uids[0])", from: folderId, to: targetId),
            move("\(folderId):\(uids[1])", from: folderId, to: "9999"),
            move("\(folderId):424242", from: folderId, to: targetId),
        ]))
        log.record(answer)
        let responses = answer.element?.children(MV.response) ?? []
        #expect(responses.count == 3)
        #expect(responses[0].child(MV.status)?.text == "3")
        let newId = try #require(responses[0].child(MV.dstMsgId)?.text)
        #expect(newId.hasPrefix("\(targetId):"))
        #expect(responses[1].child(MV.status)?.text == "2")
        #expect(responses[2].child(MV.status)?.text == "1")
        #expect(try await session.status(target).messages == 1)
        #expect(try await session.status(mailbox).messages == 1)
        try log.validate()
    }

    @Test func smartReplyQuotesSmartForwardAttachesAndTheOriginalIsMarked() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device()
        let (folderId, mailbox, uids) = try await SyncEndToEndTests.prepare(&device, log: log, count: 1)
        defer { Task { try? await Stack.session().deleteMailbox(mailbox) } }
        let demo = Stack.session()
        let other = Stack.session(Stack["OTHER_USER"], Stack["OTHER_PASSWORD"])
        let inbox = IMAPMailboxName(wire: "INBOX")
        let originalId = try #require(try await demo.summaries(in: mailbox, uids: UIDSet(uids: uids)).first?.envelope.messageId)

        func smart(_ tag: EASTag, subject: String, text: String, replace: Bool = false) async throws -> EASDevice.Answer {
            var children = [
                EASElement(CM.clientId, text: "c-\(subject)"),
                EASElement(CM.source, children: [
                    EASElement(CM.folderId, text: folderId), EASElement(CM.itemId, text: "\(folderId):\(uids[0])"),
                ]),
            ]
            if replace { children.append(EASElement(CM.replaceMime)) }
            children.append(EASElement(CM.mime, .opaque(ByteBuffer(bytes: Array(
                "To: \(Stack["OTHER_USER"])\r\nSubject: \(subject)\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\(text)\r\n".utf8)))))
            return try await device.send(tag == CM.smartReply ? "SmartReply" : "SmartForward", EASElement(tag, children: children))
        }
        func delivered(_ subject: String) async throws -> (MessageSummary, [UInt8]) {
            #expect(try await Self.count(subject, in: "INBOX", user: Stack["OTHER_USER"], password: Stack["OTHER_PASSWORD"], atLeast: 1) == 1)
            let uid = try #require(try await other.search(in: inbox, MailSearch(subject: subject)).first)
            let summary = try #require(try await other.summaries(in: inbox, uids: UIDSet(uids: [uid])).first)
            return (summary, try await other.fetch(in: inbox, uid: uid, section: nil, range: nil))
        }

        let replySubject = "Re: eas-\(UUID().uuidString)"
        let reply = try await smart(CM.smartReply, subject: replySubject, text: "My answer.")
        #expect(reply.status == 200 && reply.http.body.isEmpty)
        let (replied, replyBytes) = try await delivered(replySubject)
        let replyText = String(decoding: replyBytes, as: UTF8.self)
        #expect(replyText.contains("My answer."))
        #expect(replyText.contains("> Body of message 0."))
        #expect(replied.envelope.inReplyTo == originalId)

        let forwardSubject = "Fwd: eas-\(UUID().uuidString)"
        let forward = try await smart(CM.smartForward, subject: forwardSubject, text: "See below.")
        #expect(forward.status == 200)
        let (forwarded, _) = try await delivered(forwardSubject)
        #expect(forwarded.structure?.mediaType == "multipart/mixed")
        #expect(forwarded.structure?.part("2")?.mediaType == "message/rfc822")
        #expect(forwarded.structure?.part("2")?.envelope?.subject?.hasPrefix("message 0") == true)

        let replacedSubject = "Re: replaced-\(UUID().uuidString)"
        _ = try await smart(CM.smartReply, subject: replacedSubject, text: "Only this.", replace: true)
        let (_, replacedBytes) = try await delivered(replacedSubject)
        #expect(!String(decoding: replacedBytes, as: UTF8.self).contains("> Body of message"))

        let flags = try #require(try await demo.summaries(in: mailbox, uids: UIDSet(uids: uids)).first?.flags)
        #expect(flags.contains("\\Answered") && flags.contains("$Forwarded"))

        // A source that is not this account's item: Status 150.
        let missing = try await device.send("SmartReply", EASElement(CM.smartReply, children: [
            EASElement(CM.clientId, text: "missing-\(UUID().uuidString)"),
            EASElement(CM.source, children: [EASElement(CM.folderId, text: "9999"), EASElement(CM.itemId, text: "9999:1")]),
            EASElement(CM.mime, .opaque(ByteBuffer(bytes: Array("To: a@b.c\r\n\r\nx\r\n".utf8)))),
        ]))
        log.record(missing)
        #expect(missing.element?.child(CM.status)?.text == "150")
        try log.validate()
    }

    @Test func folderCommandsChangeDovecotsMailboxes() async throws {
        guard Stack.available() else { return }
        typealias FH = EASTag.FolderHierarchy
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device()
        try await device.provision()
        let sync = try await device.send("FolderSync", EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
        var key = try #require(sync.element?.child(FH.syncKey)?.text)
        let name = "Größe-\(UUID().uuidString.prefix(6))"
        let created = try await device.send("FolderCreate", EASElement(FH.folderCreate, children: [
            EASElement(FH.syncKey, text: key), EASElement(FH.parentId, text: "0"), EASElement(FH.displayName, text: name),
            EASElement(FH.type, text: "12"),
        ]))
        log.record(created)
        #expect(created.element?.child(FH.status)?.text == "1")
        let id = try #require(created.element?.child(FH.serverId)?.text)
        key = try #require(created.element?.child(FH.syncKey)?.text)
        let session = Stack.session()
        #expect(try await session.listMailboxes().contains { $0.name.displayName == name })

        let renamed = try await device.send("FolderUpdate", EASElement(FH.folderUpdate, children: [
            EASElement(FH.syncKey, text: key), EASElement(FH.serverId, text: id), EASElement(FH.parentId, text: "0"),
            EASElement(FH.displayName, text: name + " neu"),
        ]))
        log.record(renamed)
        #expect(renamed.element?.child(FH.status)?.text == "1")
        key = try #require(renamed.element?.child(FH.syncKey)?.text)
        #expect(try await session.listMailboxes().contains { $0.name.displayName == name + " neu" })

        let deleted = try await device.send("FolderDelete", EASElement(FH.folderDelete, children: [
            EASElement(FH.syncKey, text: key), EASElement(FH.serverId, text: id),
        ]))
        log.record(deleted)
        #expect(deleted.element?.child(FH.status)?.text == "1")
        #expect(try await !session.listMailboxes().contains { $0.name.displayName.hasPrefix(name) })
        try log.validate()
    }

    @Test func mailboxSearchFindsByTextWithRangeAndTotal() async throws {
        guard Stack.available() else { return }
        typealias S = EASTag.Search
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device()
        let (folderId, mailbox, _) = try await SyncEndToEndTests.prepare(&device, log: log, count: 5)
        defer { Task { try? await Stack.session().deleteMailbox(mailbox) } }
        func search(_ text: String, range: String = "0-1") async throws -> EASDevice.Answer {
            try await device.send("Search", EASElement(S.search, children: [EASElement(S.store, children: [
                EASElement(S.name, text: "Mailbox"),
                EASElement(S.query, children: [EASElement(S.and, children: [
                    EASElement(EASTag.AirSync.collectionId, text: folderId), EASElement(S.freeText, text: text),
                ])]),
                EASElement(S.options, children: [EASElement(S.range, text: range), EASElement(S.rebuildResults), EASElement(S.deepTraversal)]),
            ])]))
        }
        let found = try await search("Body of message")
        log.record(found)
        let store = try #require(found.element?.child(S.response)?.child(S.store))
        #expect(store.child(S.total)?.text == "5")
        #expect(store.child(S.range)?.text == "0-1")
        let results = store.children(S.result)
        #expect(results.count == 2)
        // Newest first.
        #expect(results.first?.child(S.properties)?.child(EASTag.Email.subject)?.text?.hasPrefix("message 4") == true)
        #expect(results.first?.child(S.longId)?.text?.hasPrefix("\(folderId):") == true)
        let none = try await search("no such text anywhere \(UUID().uuidString)")
        log.record(none)
        #expect(none.element?.child(S.response)?.child(S.store)?.child(S.total)?.text == "0")
        try log.validate()
    }

    @Test func autodiscoverTellsThePhoneWhereEASIs() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let device = gateway.device()
        func ask(_ schema: String, password: String) async throws -> HTTPExchangeResponse {
            let body = """
                <?xml version="1.0" encoding="utf-8"?>
                <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006">
                  <Request><EMailAddress>\(device.user)</EMailAddress><AcceptableResponseSchema>\(schema)</AcceptableResponseSchema></Request>
                </Autodiscover>
                """
            return try await device.exchange.send(method: .POST, path: "/autodiscover/autodiscover.xml", headers: [
                ("Authorization", "Basic " + Base64.encode(Array("\(device.user):\(password)".utf8))), ("Content-Type", "text/xml"),
            ], body: Array(body.utf8))
        }
        let mobile = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
        let answer = try await ask(mobile, password: device.password)
        #expect(answer.status == 200)
        let xml = String(decoding: answer.body, as: UTF8.self)
        #expect(xml.contains("<Type>MobileSync</Type>"))
        #expect(xml.contains("<Url>http://127.0.0.1:\(gateway.port)/Microsoft-Server-ActiveSync</Url>"))
        #expect(xml.contains("<EMailAddress>\(device.user)</EMailAddress>"))
        // The XML is well-formed for a parser that is not ours.
        let parsed = try await Stack.python("""
            import sys, xml.dom.minidom
            print(xml.dom.minidom.parseString(sys.argv[1]).getElementsByTagName("Url")[0].firstChild.data)
            """, [xml])
        #expect(parsed == "http://127.0.0.1:\(gateway.port)/Microsoft-Server-ActiveSync")
        #expect(try await ask(mobile, password: "wrong").status == 401)
        // Microsoft's Autodiscover response schema accepts the answer and the error form.
        let outlookSchema = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
        let outlook = String(decoding: try await ask(outlookSchema, password: device.password).body, as: UTF8.self)
        #expect(outlook.contains("<ErrorCode>601</ErrorCode>"))
        let unknown = String(decoding: try await ask("urn:nothing", password: device.password).body, as: UTF8.self)
        for document in [xml, outlook, unknown] {
            #expect(try await Self.autodiscoverSchemaErrors(document) == "")
        }

        // With the public IMAP/SMTP endpoints configured, Outlook is told about them.
        let configured = try await RunningGateway.start {
            $0.http.outlookMailSettings = OutlookMailSettings(
                imap: .init(host: "mail.airgate.test", port: 993, security: .tls),
                smtp: .init(host: "mail.airgate.test", port: 587, security: .starttls))
        }
        defer { Task { await configured.stop() } }
        let outlookDevice = configured.device()
        let settings = try await Stack.python("""
            import base64, sys, urllib.request, xml.dom.minidom
            body = ('<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">'
                    '<Request><EMailAddress>%s</EMailAddress><AcceptableResponseSchema>%s</AcceptableResponseSchema></Request></Autodiscover>'
                    % (sys.argv[2], sys.argv[4]))
            request = urllib.request.Request("http://127.0.0.1:%s/AutoDiscover/AutoDiscover.xml" % sys.argv[1], data=body.encode(),
                headers={"Content-Type": "text/xml", "Authorization": "Basic " + base64.b64encode(("%s:%s" % (sys.argv[2], sys.argv[3])).encode()).decode()})
            document = xml.dom.minidom.parseString(urllib.request.urlopen(request, timeout=20).read())
            for protocol in document.getElementsByTagName("Protocol"):
                values = {n.tagName: n.firstChild.data for n in protocol.childNodes if n.nodeType == n.ELEMENT_NODE and n.firstChild}
                print(values["Type"], values["Server"], values["Port"], values["SSL"], values["Encryption"], values["LoginName"])
            """, [String(configured.port), outlookDevice.user, outlookDevice.password, outlookSchema])
        #expect(settings.split(separator: "\n") == [
            "IMAP mail.airgate.test 993 on SSL \(outlookDevice.user)", "SMTP mail.airgate.test 587 on TLS \(outlookDevice.user)",
        ])
    }

    /// Autodiscover v2: JSON without credentials, read by Python's own JSON parser.
    @Test func autodiscoverV2AnswersInJSON() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start { $0.http.publicURL = "https://eas.airgate.test/Microsoft-Server-ActiveSync" }
        defer { Task { await gateway.stop() } }
        let answers = try await Stack.python("""
            import json, sys, urllib.error, urllib.request
            base = "http://127.0.0.1:%s" % sys.argv[1]
            for path in ["/autodiscover/autodiscover.json/v1.0/demo%40airgate.test?Protocol=ActiveSync",
                         "/AutoDiscover/AutoDiscover.json?Email=demo@airgate.test&Protocol=AutodiscoverV1",
                         "/autodiscover/autodiscover.json/v1.0/demo@airgate.test?Protocol=Ews",
                         "/autodiscover/autodiscover.json/v1.0/nobody?Protocol=ActiveSync"]:
                try:
                    response = urllib.request.urlopen(base + path, timeout=20)
                    status, body = response.status, response.read()
                except urllib.error.HTTPError as error:
                    status, body = error.code, error.read()
                document = json.loads(body)
                print(status, document.get("Url") or document.get("ErrorCode"))
            """, [String(gateway.port)])
        #expect(answers.split(separator: "\n") == [
            "200 https://eas.airgate.test/Microsoft-Server-ActiveSync",
            "200 https://eas.airgate.test/autodiscover/autodiscover.xml",
            "400 InvalidProtocol",
            "400 InvalidUser",
        ])
    }

    /// Errors lxml finds validating an Autodiscover answer against Microsoft's published schema.
    static func autodiscoverSchemaErrors(_ document: String) async throws -> String {
        try await Stack.python("""
            import sys
            from lxml import etree
            # The published file refers to the mobile-sync namespace without importing it.
            tree = etree.parse(sys.argv[1] + "/AutodiscoverResponse.xsd")
            xs = "{http://www.w3.org/2001/XMLSchema}"
            tree.getroot().insert(0, etree.Element(xs + "import",
                namespace="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006",
                schemaLocation=sys.argv[1] + "/AutodiscoverMobileSync.xsd"))
            schema = etree.XMLSchema(tree)
            document = etree.fromstring(sys.argv[2].encode())
            if not schema.validate(document):
                print("; ".join(e.message for e in schema.error_log))
            """, [ResponseLog.schemaDirectory, document])
    }

    @Test func aDraftFromA161ClientLandsInDovecotsDrafts() async throws {
        guard Stack.available() else { return }
        typealias AS = EASTag.AirSync
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device(version: .v16_1)
        try await device.provision()
        let folders = try await device.send("FolderSync", EASElement(EASTag.FolderHierarchy.folderSync, children: [
            EASElement(EASTag.FolderHierarchy.syncKey, text: "0"),
        ]))
        let drafts = try #require(folders.element?.child(EASTag.FolderHierarchy.changes)?.children(EASTag.FolderHierarchy.add)
            .first { $0.child(EASTag.FolderHierarchy.type)?.text == "3" }?.child(EASTag.FolderHierarchy.serverId)?.text)
        let first = try await device.send("Sync", SyncEndToEndTests.syncRequest("0", collection: drafts))
        var key = try #require(SyncEndToEndTests.collection(first)?.child(AS.syncKey)?.text)
        // Let the initial enumeration of Drafts finish first.
        for _ in 0..<20 {
            let answer = try await device.send("Sync", SyncEndToEndTests.syncRequest(key, collection: drafts, window: 512))
            guard let collection = SyncEndToEndTests.collection(answer) else { break }
            key = try #require(collection.child(AS.syncKey)?.text)
            if collection.child(AS.moreAvailable) == nil { break }
        }
        let subject = "draft-\(UUID().uuidString)"
        let add = EASElement(AS.sync, children: [EASElement(AS.collections, children: [EASElement(AS.collection, children: [
            EASElement(AS.syncKey, text: key), EASElement(AS.collectionId, text: drafts),
            EASElement(AS.commands, children: [EASElement(AS.add, children: [
                EASElement(AS.clientId, text: "c-\(subject)"),
                EASElement(AS.applicationData, children: [
                    EASElement(EASTag.Email.to, text: Stack["OTHER_USER"]),
                    EASElement(EASTag.Email.subject, text: subject),
                    EASElement(EASTag.AirSyncBase.body, children: [
                        EASElement(EASTag.AirSyncBase.type, text: "1"), EASElement(EASTag.AirSyncBase.data, text: "Not done yet — später."),
                    ]),
                ]),
            ])]),
        ])])])
        let answer = try await device.send("Sync", add)
        log.record(answer)
        let response = try #require(SyncEndToEndTests.collection(answer)?.child(AS.responses)?.child(AS.add))
        #expect(response.child(AS.status)?.text == "1")
        let session = Stack.session()
        let found = try await session.search(in: IMAPMailboxName(wire: "Drafts"), MailSearch(subject: subject))
        #expect(found.count == 1)
        let summary = try #require(try await session.summaries(in: IMAPMailboxName(wire: "Drafts"), uids: UIDSet(uids: found)).first)
        #expect(summary.flags.contains("\\Draft"))
        #expect(response.child(AS.serverId)?.text == "\(drafts):\(summary.uid)")

        // The phone edits the draft: stored anew with the new text, the old message gone.
        func change(_ key: String, _ serverId: String, _ fields: [EASElement]) -> EASElement {
            EASElement(AS.sync, children: [EASElement(AS.collections, children: [EASElement(AS.collection, children: [
                EASElement(AS.syncKey, text: key), EASElement(AS.collectionId, text: drafts),
                EASElement(AS.commands, children: [EASElement(AS.change, children: [
                    EASElement(AS.serverId, text: serverId), EASElement(AS.applicationData, children: fields),
                ])]),
            ])])])
        }
        let edited = "\(subject) edited"
        let changed = try await device.send("Sync", change(try #require(SyncEndToEndTests.collection(answer)?.child(AS.syncKey)?.text),
                                                           "\(drafts):\(summary.uid)", [
            EASElement(EASTag.Email.subject, text: edited),
            EASElement(EASTag.AirSyncBase.body, children: [
                EASElement(EASTag.AirSyncBase.type, text: "1"), EASElement(EASTag.AirSyncBase.data, text: "Ready now."),
            ]),
        ]))
        log.record(changed)
        #expect(SyncEndToEndTests.collection(changed)?.child(AS.responses) == nil)
        let versions = try await session.search(in: IMAPMailboxName(wire: "Drafts"), MailSearch(subject: subject))
        #expect(versions.count == 1 && versions.first != summary.uid)
        let newUID = try #require(versions.first)
        let text = String(decoding: try await session.fetch(in: IMAPMailboxName(wire: "Drafts"), uid: newUID, section: nil, range: nil),
                          as: UTF8.self)
        #expect(text.contains("Subject: \(edited)") && text.contains("Ready now.") && text.contains("To: \(Stack["OTHER_USER"])"))
        // The phone learns (in that answer or the next) that the old id goes and the new one comes.
        key = try #require(SyncEndToEndTests.collection(changed)?.child(AS.syncKey)?.text)
        var commands = SyncEndToEndTests.collection(changed)?.child(AS.commands)?.children ?? []
        let next = try await device.send("Sync", SyncEndToEndTests.syncRequest(key, collection: drafts, window: 50))
        log.record(next)
        commands += SyncEndToEndTests.collection(next)?.child(AS.commands)?.children ?? []
        #expect(commands.contains { $0.tag == AS.delete && $0.child(AS.serverId)?.text == "\(drafts):\(summary.uid)" })
        #expect(commands.contains { $0.tag == AS.add && $0.child(AS.serverId)?.text == "\(drafts):\(newUID)" })
        key = SyncEndToEndTests.collection(next)?.child(AS.syncKey)?.text ?? key

        // Send (Email2:Send): it goes out, is filed in Sent and leaves Drafts.
        let sent = try await device.send("Sync", change(key, "\(drafts):\(newUID)", [EASElement(EASTag.Email2.send)]))
        log.record(sent)
        #expect(SyncEndToEndTests.collection(sent)?.child(AS.responses) == nil)
        #expect(try await Self.count(edited, in: "INBOX", user: Stack["OTHER_USER"], password: Stack["OTHER_PASSWORD"], atLeast: 1) == 1)
        #expect(try await Self.count(edited, in: "Sent", user: Stack["DEMO_USER"], password: Stack["DEMO_PASSWORD"], atLeast: 1) == 1)
        #expect(try await session.search(in: IMAPMailboxName(wire: "Drafts"), MailSearch(subject: subject)).isEmpty)
        try log.validate()
    }
}
