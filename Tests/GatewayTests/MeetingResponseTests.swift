import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import MailUpstream
import Testing

/// An invitation that arrives by mail: Sync shows it as a meeting request, MeetingResponse
/// answers the organizer through Postfix with an iTIP REPLY that Python's own email parser
/// reads back, and the invitation is marked answered on the IMAP side.
@Suite struct MeetingResponseTests {
    typealias AS = EASTag.AirSync
    typealias MR = EASTag.MeetingResponse

    static func invitation(uid: String, summary: String, organizer: String, attendee: String) -> [UInt8] {
        Array("""
            From: Other <\(organizer)>\r
            To: \(attendee)\r
            Subject: Invitation: \(summary)\r
            Date: Mon, 30 Nov 2026 10:00:00 +0000\r
            Message-ID: <\(uid)>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/alternative; boundary="b1"\r
            \r
            --b1\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            You are invited to \(summary).\r
            --b1\r
            Content-Type: text/calendar; charset=utf-8; method=REQUEST\r
            Content-Transfer-Encoding: 7bit\r
            \r
            BEGIN:VCALENDAR\r
            PRODID:-//Test//EN\r
            VERSION:2.0\r
            METHOD:REQUEST\r
            BEGIN:VEVENT\r
            UID:\(uid)\r
            DTSTAMP:20261130T100000Z\r
            DTSTART:20261203T143000Z\r
            DTEND:20261203T153000Z\r
            SUMMARY:\(summary)\r
            LOCATION:Room 4\r
            ORGANIZER;CN=Other:mailto:\(organizer)\r
            ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:\(attendee)\r
            SEQUENCE:0\r
            END:VEVENT\r
            END:VCALENDAR\r
            --b1--\r

            """.utf8)
    }

    @Test func anInvitationIsShownAnsweredAndTheOrganizerGetsTheReply() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device(version: .v16_1)
        let (folderId, mailbox, plainUIDs) = try await SyncEndToEndTests.prepare(&device, log: log, count: 1)
        let marker = UUID().uuidString
        let summary = "Budget review \(marker.prefix(8))"
        let uid = try #require(try await Stack.session().append(
            to: mailbox, message: Self.invitation(uid: "\(marker)@airgate.test", summary: summary, organizer: Stack["OTHER_USER"],
                                                  attendee: Stack["DEMO_USER"]),
            flags: [], internalDate: nil))

        // Sync: the invitation carries MeetingRequest with the event's times; the plain
        // message does not.
        let first = try await device.send("Sync", SyncEndToEndTests.syncRequest("0", collection: folderId))
        let key = try #require(SyncEndToEndTests.collection(first)?.child(AS.syncKey)?.text)
        let full = try await device.send("Sync", SyncEndToEndTests.syncRequest(key, collection: folderId, window: 50))
        let adds = SyncEndToEndTests.collection(full)?.child(AS.commands)?.children(AS.add) ?? []
        let item = try #require(adds.first { $0.child(AS.serverId)?.text == "\(folderId):\(uid)" }?.child(AS.applicationData))
        #expect(item.child(EASTag.Email.messageClass)?.text == "IPM.Schedule.Meeting.Request")
        let meeting = try #require(item.child(EASTag.Email.meetingRequest))
        #expect(meeting.child(EASTag.Email.startTime)?.text == "2026-12-03T14:30:00.000Z")
        #expect(meeting.child(EASTag.Email.endTime)?.text == "2026-12-03T15:30:00.000Z")
        #expect(meeting.child(EASTag.Calendar.uid)?.text == "\(marker)@airgate.test")
        #expect(meeting.child(EASTag.AirSyncBase.location)?.child(EASTag.AirSyncBase.displayName)?.text == "Room 4")
        let plain = try #require(adds.first { $0.child(AS.serverId)?.text == "\(folderId):\(plainUIDs[0])" }?.child(AS.applicationData))
        #expect(plain.child(EASTag.Email.meetingRequest) == nil)
        // libwbxml names Email:DtStamp "DTStamp": checked with the names mapped back.
        log.record(mappingLibwbxmlNames: full)

        // Accept, asking the server to tell the organizer (16.x).
        let answer = try await device.send("MeetingResponse", EASElement(MR.meetingResponse, children: [
            EASElement(MR.request, children: [
                EASElement(MR.userResponse, text: "1"), EASElement(MR.collectionId, text: folderId),
                EASElement(MR.requestId, text: "\(folderId):\(uid)"),
                EASElement(MR.sendResponse, children: [EASElement(EASTag.AirSyncBase.body, children: [
                    EASElement(EASTag.AirSyncBase.type, text: "1"), EASElement(EASTag.AirSyncBase.data, text: "See you there."),
                ])]),
            ]),
            // Not an invitation, and not an item at all.
            EASElement(MR.request, children: [
                EASElement(MR.userResponse, text: "3"), EASElement(MR.collectionId, text: folderId),
                EASElement(MR.requestId, text: "\(folderId):\(plainUIDs[0])"),
            ]),
            EASElement(MR.request, children: [
                EASElement(MR.userResponse, text: "2"), EASElement(MR.collectionId, text: "nope"),
                EASElement(MR.requestId, text: "nope:1"),
            ]),
        ]))
        log.record(answer)
        let statuses = answer.element?.children(MR.result).map { $0.child(MR.status)?.text }
        #expect(statuses == ["1", "2", "2"])
        #expect(answer.element?.children(MR.result).first?.child(MR.requestId)?.text == "\(folderId):\(uid)")

        // The organizer's INBOX: an iTIP REPLY with PARTSTAT=ACCEPTED for this UID, read by
        // Python's email package.
        let subject = "Accepted: \(summary)"
        #expect(try await SendAndMoveTests.count(subject, in: "INBOX", user: Stack["OTHER_USER"], password: Stack["OTHER_PASSWORD"],
                                                 atLeast: 1) == 1)
        let other = Stack.session(Stack["OTHER_USER"], Stack["OTHER_PASSWORD"])
        let replyUID = try #require(try await other.search(in: IMAPMailboxName(wire: "INBOX"), MailSearch(subject: subject)).first)
        let raw = try await other.fetch(in: IMAPMailboxName(wire: "INBOX"), uid: replyUID, section: nil, range: nil)
        let parsed = try await Stack.python("""
            import email, sys
            message = email.message_from_bytes(open(sys.argv[1], "rb").read())
            for part in message.walk():
                if part.get_content_type() == "text/calendar":
                    print(part.get_param("method"))
                    text = part.get_payload(decode=True).decode()
                    unfolded = text.replace("\\r\\n ", "")
                    print([l for l in unfolded.split("\\r\\n") if l.startswith("METHOD:")][0])
                    print([l for l in unfolded.split("\\r\\n") if l.startswith("UID:")][0])
                    print([l for l in unfolded.split("\\r\\n") if l.startswith("ATTENDEE")][0])
                elif part.get_content_type() == "text/plain":
                    print(part.get_payload(decode=True).decode().splitlines()[0])
            """, [try Self.temporaryFile(raw)])
        let lines = parsed.split(separator: "\n").map(String.init)
        #expect(lines.contains("See you there."))
        #expect(lines.contains("REPLY"))
        #expect(lines.contains("METHOD:REPLY"))
        #expect(lines.contains("UID:\(marker)@airgate.test"))
        #expect(lines.contains("ATTENDEE;PARTSTAT=ACCEPTED:mailto:\(Stack["DEMO_USER"])"))

        // The invitation is answered and read on the IMAP side.
        let flags = try await Stack.session().summaries(in: mailbox, uids: UIDSet(uids: [uid])).first?.flags ?? []
        #expect(flags.contains("\\Answered") && flags.contains("\\Seen"))

        // A malformed request (no Request, or a UserResponse outside 1–3): 400, nothing done.
        #expect(try await device.send("MeetingResponse", EASElement(MR.meetingResponse)).status == 400)
        #expect(try await device.send("MeetingResponse", EASElement(MR.meetingResponse, children: [
            EASElement(MR.request, children: [
                EASElement(MR.userResponse, text: "9"), EASElement(MR.collectionId, text: folderId),
                EASElement(MR.requestId, text: "\(folderId):\(uid)"),
            ]),
        ])).status == 400)

        // Before 16.0 the client sends its own answer: the server sends none.
        var old = gateway.device(version: .v14_1)
        try await old.provision()
        let quiet = try await old.send("MeetingResponse", EASElement(MR.meetingResponse, children: [
            EASElement(MR.request, children: [
                EASElement(MR.userResponse, text: "3"), EASElement(MR.collectionId, text: folderId),
                EASElement(MR.requestId, text: "\(folderId):\(uid)"),
            ]),
        ]))
        log.record(quiet)
        #expect(quiet.element?.child(MR.result)?.child(MR.status)?.text == "1")
        try await Task.sleep(for: .seconds(1))
        #expect(try await other.search(in: IMAPMailboxName(wire: "INBOX"), MailSearch(subject: "Declined: \(summary)")).isEmpty)
        try log.validate()
    }

    static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-reply-\(UUID().uuidString).eml")
        try Data(bytes).write(to: url)
        return url.path
    }
}
