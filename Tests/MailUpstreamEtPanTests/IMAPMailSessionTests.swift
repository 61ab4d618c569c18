import AirgateTestSupport
import Foundation
import MailUpstream
import Testing

@testable import MailUpstreamEtPan

/// `IMAPMailSession` against the stack's Dovecot: every operation of `MailSession`, and
/// changes made by other clients reported exactly once. Each test works in mailboxes of its own.
@Suite struct IMAPMailSessionTests {
    static let adapter = IMAPAdapter(threads: 4)

    private func session(_ credentials: IMAPCredentials = MailStack.demoLogin) -> IMAPMailSession {
        IMAPMailSession(pool: Self.adapter.pool(endpoint: MailStack.imap(), credentials: credentials))
    }

    /// Creates a mailbox for the test and deletes it afterwards.
    private func withMailbox(_ session: IMAPMailSession, _ body: (IMAPMailboxName) async throws -> Void) async throws {
        let mailbox = MailStack.uniqueMailbox()
        try await session.createTestMailbox(mailbox)
        do {
            try await body(mailbox)
        } catch {
            try? await session.deleteMailbox(mailbox)
            throw error
        }
        try await session.deleteMailbox(mailbox)
    }

    @Test func listsSpecialUseMailboxes() async throws {
        guard MailStack.available() else { return }
        let listing = try await session().listMailboxes()
        let uses = Dictionary(listing.compactMap { entry in entry.specialUse.map { ($0, entry.name.wireName) } },
                              uniquingKeysWith: { first, _ in first })
        #expect(uses[.inbox] == "INBOX")
        #expect(uses[.sent] == "Sent")
        #expect(uses[.drafts] == "Drafts")
        #expect(uses[.trash] == "Trash")
        #expect(uses[.junk] == "Junk")
        #expect(listing.allSatisfy { $0.delimiter == "/" })
        let namespaces = try await session().namespaces()
        #expect(namespaces.personal == [.init(prefix: "", delimiter: "/")])
        #expect(!namespaces.isForeign(IMAPMailboxName(wire: "INBOX")))
    }

    @Test func nonASCIIMailboxNamesRoundTrip() async throws {
        guard MailStack.available() else { return }
        let session = session()
        let mailbox = IMAPMailboxName(display: "Tëst-Ordner-\(UUID().uuidString.prefix(6))")
        try await session.createTestMailbox(mailbox)
        let listed = try await session.listMailboxes().map(\.name)
        #expect(listed.contains(mailbox))
        let renamed = IMAPMailboxName(display: "Архив-\(UUID().uuidString.prefix(6))")
        try await session.renameMailbox(mailbox, to: renamed)
        let after = try await session.listMailboxes().map(\.name)
        #expect(after.contains(renamed) && !after.contains(mailbox))
        try await session.deleteMailbox(renamed)
        #expect(try await !session.listMailboxes().map(\.name).contains(renamed))
    }

    @Test func mailboxErrorsAreTyped() async throws {
        guard MailStack.available() else { return }
        let session = session()
        let missing = MailStack.uniqueMailbox("Missing")
        await expectCode(.mailboxNotFound) { _ = try await session.status(missing) }
        await expectCode(.mailboxNotFound) { try await session.deleteMailbox(missing) }
        await expectCode(.mailboxNotFound) { _ = try await session.append(to: missing, message: testMessage(subject: "x"), flags: [], internalDate: nil) }
        await expectCode(.mailboxExists) { try await session.createMailbox(IMAPMailboxName(wire: "INBOX")) }
    }

    @Test func appendStatusSummariesAndFetch() async throws {
        guard MailStack.available() else { return }
        let session = session()
        try await withMailbox(session) { mailbox in
            let subject = "=?UTF-8?B?" + Data("Grüße aus Köln ✓".utf8).base64EncodedString() + "?="
            let message = testMessage(subject: subject, from: "=?ISO-8859-1?Q?Andr=E9?= <andre@example.net>",
                                      body: String(repeating: "0123456789", count: 100) + "\r\n")
            let date: Int64 = 1_795_000_000_000
            let uid = try #require(try await session.append(to: mailbox, message: message, flags: ["\\Seen", "$Label1"],
                                                            internalDate: date))
            let status = try await session.status(mailbox)
            #expect(status.messages == 1)
            #expect(status.unseen == 0)
            #expect(status.state.uidNext == uid + 1)
            #expect(status.state.highestModSeq > 0)

            let summaries = try await session.summaries(in: mailbox, uids: UIDSet(uids: [uid, uid + 50]))
            let summary = try #require(summaries.first)
            #expect(summaries.count == 1)
            #expect(summary.uid == uid)
            #expect(summary.flags == ["$Label1", "\\Seen"])
            #expect(summary.internalDate == date)
            #expect(summary.size == message.count)
            #expect(summary.modSeq > 0)
            #expect(summary.envelope.subject == "Grüße aus Köln ✓")
            #expect(summary.envelope.from == [MailAddress(name: "André", address: "andre@example.net")])
            #expect(summary.envelope.to == [MailAddress(address: "demo@airgate.test")])
            #expect(summary.envelope.messageId?.hasSuffix("@airgate.test>") == true)

            let whole = try await session.fetch(in: mailbox, uid: uid, section: nil, range: nil)
            #expect(whole == message)
            let text = try await session.fetch(in: mailbox, uid: uid, section: "TEXT", range: nil)
            #expect(String(decoding: text, as: UTF8.self).hasPrefix("0123456789"))
            let slice = try await session.fetch(in: mailbox, uid: uid, section: "1", range: 10..<25)
            #expect(slice == Array("0123456789012345".utf8.prefix(15)))
            let header = try await session.fetch(in: mailbox, uid: uid, section: "HEADER", range: nil)
            #expect(String(decoding: header, as: UTF8.self).contains("Subject: \(subject)"))
            // BODY.PEEK leaves \Seen alone.
            try await session.setFlags(in: mailbox, uids: UIDSet(uids: [uid]), add: [], remove: ["\\Seen"])
            _ = try await session.fetch(in: mailbox, uid: uid, section: nil, range: nil)
            #expect(try await session.status(mailbox).unseen == 1)
            await expectCode(.messageNotFound) { _ = try await session.fetch(in: mailbox, uid: uid + 7, section: nil, range: nil) }
            await expectCode(.refused) { _ = try await session.fetch(in: mailbox, uid: uid, section: "1.x", range: nil) }
        }
    }

    @Test func aStoreReportsTheFlagsItLeftWithTheirModSequence() async throws {
        guard MailStack.available() else { return }
        let session = session()
        let other = self.session()
        try await withMailbox(session) { mailbox in
            let uid = try #require(try await session.append(to: mailbox, message: testMessage(subject: "s"), flags: ["\\Seen"],
                                                            internalDate: nil))
            let flagged = try await session.setFlags(in: mailbox, uids: UIDSet(uids: [uid]), add: ["\\Flagged", "$Work"],
                                                     remove: ["\\Seen"])
            #expect(flagged.map(\.uid) == [uid])
            #expect(flagged.first?.flags == ["$Work", "\\Flagged"])
            let modSeq = try #require(flagged.first?.modSeq)
            #expect(modSeq > 0)
            // What another session sees afterwards is that state, unless it changed it since.
            #expect(try await other.summaries(in: mailbox, uids: UIDSet(uids: [uid])).first?.flags == ["$Work", "\\Flagged"])
            try await other.setFlags(in: mailbox, uids: UIDSet(uids: [uid]), add: ["\\Answered"], remove: [])
            let read = try await session.setFlags(in: mailbox, uids: UIDSet(uids: [uid]), add: ["\\Seen"], remove: [])
            #expect(read.first?.flags == ["$Work", "\\Answered", "\\Flagged", "\\Seen"])
            #expect(try #require(read.first?.modSeq) > modSeq)
            // A UID that is not there is not reported on.
            #expect(try await session.setFlags(in: mailbox, uids: UIDSet(uids: [uid + 50]), add: ["\\Seen"], remove: []).isEmpty)
        }
    }

    @Test func ownChangesAreReportedOnceThenNothing() async throws {
        guard MailStack.available() else { return }
        let session = session()
        try await withMailbox(session) { mailbox in
            let first = try #require(try await session.append(to: mailbox, message: testMessage(subject: "one"), flags: [], internalDate: nil))
            let (start, listing) = try await session.listing(of: mailbox)
            #expect(listing.map(\.uid) == [first])

            let second = try #require(try await session.append(to: mailbox, message: testMessage(subject: "two"), flags: [], internalDate: nil))
            try await session.setFlags(in: mailbox, uids: UIDSet(uids: [first]), add: ["\\Flagged"], remove: [])
            guard case .changes(let changes, let next) = try await session.changes(in: mailbox, since: start) else {
                Issue.record("expected changes")
                return
            }
            #expect(changes.count == 2)
            #expect(changes.contains { if case .flagsChanged(let m) = $0 { m.uid == first && m.flags == ["\\Flagged"] } else { false } })
            #expect(changes.contains { if case .added(let m) = $0 { m.uid == second } else { false } })
            #expect(next.uidNext == second + 1)
            #expect(try await session.changes(in: mailbox, since: next) == .changes([], next))

            try await session.expunge(in: mailbox, uids: UIDSet(uids: [first]))
            guard case .changes(let removed, let afterExpunge) = try await session.changes(in: mailbox, since: next) else {
                Issue.record("expected changes")
                return
            }
            #expect(removed == [.removed(uid: first)])
            #expect(try await session.changes(in: mailbox, since: afterExpunge) == .changes([], afterExpunge))
            #expect(try await session.listing(of: mailbox).1.map(\.uid) == [second])
        }
    }

    @Test func changesByAnotherClientAreReportedExactlyOnce() async throws {
        guard MailStack.available() else { return }
        let session = session()
        try await withMailbox(session) { mailbox in
            var uids: [UInt32] = []
            for index in 0..<3 {
                uids.append(try #require(try await session.append(to: mailbox, message: testMessage(subject: "m\(index)"),
                                                                  flags: [], internalDate: nil)))
            }
            let (start, _) = try await session.listing(of: mailbox)
            // Python's imaplib, a client that is not ours: flag one, delete one, add one.
            try await MailStack.python(MailStack.imaplibLogin + """
                box = sys.argv[1]
                m.select(box)
                m.uid("STORE", sys.argv[2], "+FLAGS", "(\\\\Seen \\\\Flagged)")
                m.uid("STORE", sys.argv[3], "+FLAGS", "(\\\\Deleted)")
                m.expunge()
                m.append(box, None, None, b"Subject: from python\\r\\n\\r\\nhi\\r\\n")
                m.logout()
                """, [mailbox.wireName, String(uids[0]), String(uids[1])])
            guard case .changes(let changes, let next) = try await session.changes(in: mailbox, since: start) else {
                Issue.record("expected changes")
                return
            }
            #expect(changes.count == 3, "\(changes)")
            #expect(changes.contains(.removed(uid: uids[1])))
            #expect(changes.contains { if case .flagsChanged(let m) = $0 { m.uid == uids[0] && m.flags == ["\\Flagged", "\\Seen"] } else { false } })
            #expect(changes.contains { if case .added(let m) = $0 { m.uid == uids[2] + 1 } else { false } })
            #expect(try await session.changes(in: mailbox, since: next) == .changes([], next))
        }
    }

    @Test func moveReturnsTheNewUIDsAndBothMailboxesReportIt() async throws {
        guard MailStack.available() else { return }
        let session = session()
        try await withMailbox(session) { source in
            try await withMailbox(session) { target in
                var uids: [UInt32] = []
                for index in 0..<3 {
                    uids.append(try #require(try await session.append(to: source, message: testMessage(subject: "mv\(index)"),
                                                                      flags: [], internalDate: nil)))
                }
                let (sourceStart, _) = try await session.listing(of: source)
                let (targetStart, _) = try await session.listing(of: target)
                let moved = try await session.move(from: source, uids: UIDSet(uids: uids[0...1]), to: target)
                #expect(moved.keys.sorted() == Array(uids[0...1]))
                let targetListing = try await session.listing(of: target).1.map(\.uid)
                #expect(Set(targetListing) == Set(moved.values))
                guard case .changes(let gone, _) = try await session.changes(in: source, since: sourceStart),
                      case .changes(let arrived, _) = try await session.changes(in: target, since: targetStart)
                else {
                    Issue.record("expected changes")
                    return
                }
                #expect(Set(gone) == Set(uids[0...1].map { MailboxChange.removed(uid: $0) }))
                #expect(arrived.count == 2 && arrived.allSatisfy { if case .added = $0 { true } else { false } })
                // Moving messages that are no longer there moves nothing.
                #expect(try await session.move(from: source, uids: UIDSet(uids: [uids[0]]), to: target).isEmpty)
            }
        }
    }

    @Test func recreatedMailboxAndModSeqGoingBackAskForAFullResync() async throws {
        guard MailStack.available() else { return }
        let session = session()
        let mailbox = MailStack.uniqueMailbox()
        try await session.createTestMailbox(mailbox)
        _ = try await session.append(to: mailbox, message: testMessage(subject: "a"), flags: [], internalDate: nil)
        let (state, _) = try await session.listing(of: mailbox)
        var ahead = state
        ahead.highestModSeq += 1000
        guard case .fullResync(.modSeqWentBack, _) = try await session.changes(in: mailbox, since: ahead) else {
            Issue.record("HIGHESTMODSEQ below a known one was not detected")
            return
        }
        try await session.deleteMailbox(mailbox)
        try await session.createTestMailbox(mailbox)
        defer { Task { try? await session.deleteMailbox(mailbox) } }
        let outcome = try await session.changes(in: mailbox, since: state)
        guard case .fullResync(.uidValidityChanged(let from, let to), _) = outcome else {
            Issue.record("a recreated mailbox was not detected: \(outcome)")
            return
        }
        #expect(from == state.uidValidity && to != from)
    }

    @Test func deliveryThroughPostfixIsReportedInINBOX() async throws {
        guard MailStack.available() else { return }
        let session = session()
        let inbox = IMAPMailboxName(wire: "INBOX")
        let (start, _) = try await session.listing(of: inbox)
        let marker = "delivery-\(UUID().uuidString)"
        try await MailStack.python("""
            import os, smtplib, sys
            with smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ["SMTP_PLAIN_PORT"])) as s:
                s.sendmail("sender@example.net", [os.environ["DEMO_USER"]],
                           "From: sender@example.net\\r\\nTo: " + os.environ["DEMO_USER"] + "\\r\\nSubject: " + sys.argv[1] + "\\r\\n\\r\\nhello\\r\\n")
            """, [marker])
        // Delivery is asynchronous: wait for it, bounded.
        var found: MessageSummary?
        var state = start
        var seen: [UInt32] = []
        for _ in 0..<100 where found == nil {
            guard case .changes(let changes, let next) = try await session.changes(in: inbox, since: state) else {
                Issue.record("INBOX asked for a full resync")
                return
            }
            state = next
            let added = changes.compactMap { if case .added(let m) = $0 { m.uid } else { nil } }
            seen += added
            if !added.isEmpty {
                found = try await session.summaries(in: inbox, uids: UIDSet(uids: added)).first { $0.envelope.subject == marker }
            }
            if found == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let message = try #require(found, "the message never arrived")
        #expect(seen.filter { $0 == message.uid }.count == 1)
        try await session.expunge(in: inbox, uids: UIDSet(uids: [message.uid]))
    }

    @Test func aSelectedMailboxSeesMessagesDeliveredSinceItWasSelected() async throws {
        guard MailStack.available() else { return }
        let session = session()
        try await withMailbox(session) { mailbox in
            _ = try await session.append(to: mailbox, message: testMessage(subject: "before"), flags: [], internalDate: nil)
            #expect(try await session.search(in: mailbox, MailSearch()).count == 1)
            // Another client adds one while this session keeps the mailbox selected.
            try await MailStack.python(MailStack.imaplibLogin + """
                m.append(sys.argv[1], None, None, b"Subject: later\\r\\n\\r\\nhi\\r\\n")
                m.logout()
                """, [mailbox.wireName])
            let uids = try await session.search(in: mailbox, MailSearch())
            #expect(uids.count == 2)
            #expect(try await session.summaries(in: mailbox, uids: UIDSet(uids: uids)).map { $0.envelope.subject } == ["before", "later"])
        }
    }

    @Test func invalidFlagsAreRefusedWithoutReachingTheServer() async throws {
        guard MailStack.available() else { return }
        let session = session()
        try await withMailbox(session) { mailbox in
            let uid = try #require(try await session.append(to: mailbox, message: testMessage(subject: "f"), flags: [], internalDate: nil))
            for bad in ["a b", "x)", "\\", "", "inj\r\nA1 LOGOUT", "{5}"] {
                await expectCode(.refused) {
                    try await session.setFlags(in: mailbox, uids: UIDSet(uids: [uid]), add: [bad], remove: [])
                }
            }
            #expect(try await session.summaries(in: mailbox, uids: UIDSet(uids: [uid])).first?.flags == [])
        }
    }
}

func expectCode(_ code: UpstreamError.Code, _ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async {
    do {
        try await body()
        Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
    } catch let error as UpstreamError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
}

/// BODYSTRUCTURE into `MIMEPart`.
@Suite struct IMAPBodyStructureTests {
    static let adapter = IMAPAdapter(threads: 2)

    static let structured = Array("""
        From: a@example.net\r
        To: demo@airgate.test\r
        Subject: structure\r
        MIME-Version: 1.0\r
        Content-Type: multipart/mixed; boundary="outer"\r
        \r
        --outer\r
        Content-Type: multipart/alternative; boundary="alt"\r
        \r
        --alt\r
        Content-Type: text/plain; charset=iso-8859-1\r
        Content-Transfer-Encoding: quoted-printable\r
        \r
        Gr=FC=DFe\r
        --alt\r
        Content-Type: text/html; charset=utf-8\r
        \r
        <p>Grüße</p>\r
        --alt--\r
        --outer\r
        Content-Type: application/pdf; name="=?UTF-8?B?UmVjaG51bmcucGRm?="\r
        Content-Disposition: attachment; filename*=utf-8''%C3%9Cbersicht%20%E2%82%AC.pdf\r
        Content-Transfer-Encoding: base64\r
        Content-ID: <att1@example.net>\r
        \r
        JVBERi0xLjQK\r
        --outer\r
        Content-Type: message/rfc822\r
        \r
        From: b@example.net\r
        Subject: inner\r
        Content-Type: text/plain\r
        \r
        inner body\r
        --outer--\r

        """.utf8)

    @Test func partsSectionsAndDecodedNames() async throws {
        guard MailStack.available() else { return }
        let session = IMAPMailSession(pool: Self.adapter.pool(endpoint: MailStack.imap(), credentials: MailStack.demoLogin))
        let mailbox = MailStack.uniqueMailbox("Mime")
        try await session.createTestMailbox(mailbox)
        defer { Task { try? await session.deleteMailbox(mailbox) } }
        let uid = try #require(try await session.append(to: mailbox, message: Self.structured, flags: [], internalDate: nil))
        let summary = try #require(try await session.summaries(in: mailbox, uids: UIDSet(uids: [uid])).first)
        let root = try #require(summary.structure)
        #expect(root.mediaType == "multipart/mixed" && root.section == "")
        #expect(root.allParts.map(\.section) == ["", "1", "1.1", "1.2", "2", "3", "3.1"])
        let plain = try #require(root.part("1.1"))
        #expect(plain.mediaType == "text/plain" && plain.charset == "iso-8859-1" && plain.encoding == "quoted-printable")
        #expect(root.part("1.2")?.mediaType == "text/html")
        let attachment = try #require(root.part("2"))
        #expect(attachment.disposition == "attachment")
        #expect(attachment.fileName == "Übersicht €.pdf")
        #expect(attachment.parameters["name"] == "Rechnung.pdf")
        #expect(attachment.contentId == "<att1@example.net>")
        #expect(attachment.encoding == "base64" && attachment.size == 12)
        let attached = try #require(root.part("3"))
        #expect(attached.mediaType == "message/rfc822")
        #expect(attached.envelope?.subject == "inner")
        #expect(root.part("3.1")?.mediaType == "text/plain")

        #expect(try await session.fetch(in: mailbox, uid: uid, section: "2", range: nil) == Array("JVBERi0xLjQK".utf8))
        #expect(try await session.fetch(in: mailbox, uid: uid, section: "3.1", range: nil) == Array("inner body".utf8))
        let html = try await session.fetch(in: mailbox, uid: uid, section: "1.2", range: nil)
        #expect(String(decoding: html, as: UTF8.self) == "<p>Grüße</p>")
    }

    @Test func singlePartMessageBodyIsSectionOne() async throws {
        guard MailStack.available() else { return }
        let session = IMAPMailSession(pool: Self.adapter.pool(endpoint: MailStack.imap(), credentials: MailStack.demoLogin))
        let mailbox = MailStack.uniqueMailbox("Mime")
        try await session.createTestMailbox(mailbox)
        defer { Task { try? await session.deleteMailbox(mailbox) } }
        let uid = try #require(try await session.append(to: mailbox, message: testMessage(subject: "s"), flags: [], internalDate: nil))
        let root = try #require(try await session.summaries(in: mailbox, uids: UIDSet(uids: [uid])).first?.structure)
        #expect(root.section == "1" && root.mediaType == "text/plain" && root.charset == "utf-8")
    }
}

/// A server without CONDSTORE/QRESYNC (simulated by ignoring them): changes are found by
/// comparing listings.
@Suite struct IMAPWithoutModSeqTests {
    static let adapter = IMAPAdapter(threads: 2)

    @Test func listingComparisonFindsEveryChange() async throws {
        guard MailStack.available() else { return }
        let session = IMAPMailSession(pool: Self.adapter.pool(
            endpoint: MailStack.imap(), credentials: MailStack.demoLogin,
            options: IMAPOptions(ignoredCapabilities: ["QRESYNC", "CONDSTORE"])))
        #expect(try await !session.capabilities().contains("CONDSTORE"))
        let mailbox = MailStack.uniqueMailbox("Slow")
        try await session.createTestMailbox(mailbox)
        defer { Task { try? await session.deleteMailbox(mailbox) } }
        var uids: [UInt32] = []
        for index in 0..<3 {
            uids.append(try #require(try await session.append(to: mailbox, message: testMessage(subject: "s\(index)"),
                                                              flags: [], internalDate: nil)))
        }
        let (state, before) = try await session.listing(of: mailbox)
        #expect(state.highestModSeq == 0)
        guard case .fullResync(.noModSeq, _) = try await session.changes(in: mailbox, since: state) else {
            Issue.record("without CONDSTORE the caller must be sent to the listing comparison")
            return
        }
        try await MailStack.python(MailStack.imaplibLogin + """
            m.select(sys.argv[1])
            m.uid("STORE", sys.argv[2], "+FLAGS", "(\\\\Flagged)")
            m.uid("STORE", sys.argv[3], "+FLAGS", "(\\\\Deleted)")
            m.expunge()
            m.append(sys.argv[1], None, None, b"Subject: new\\r\\n\\r\\nhi\\r\\n")
            m.logout()
            """, [mailbox.wireName, String(uids[0]), String(uids[2])])
        let (_, after) = try await session.listing(of: mailbox)
        let changes = ChangeTracking.changes(from: Dictionary(uniqueKeysWithValues: before.map { ($0.uid, $0.flags) }), to: after)
        #expect(changes.count == 3)
        #expect(changes.contains(.removed(uid: uids[2])))
        #expect(changes.contains(.flagsChanged(MessageFlags(uid: uids[0], flags: ["\\Flagged"]))))
        #expect(changes.contains { if case .added(let m) = $0 { m.uid == uids[2] + 1 } else { false } })
    }
}

/// UID SEARCH and batched part fetches against Dovecot.
@Suite struct IMAPSearchAndPartsTests {
    static let adapter = IMAPAdapter(threads: 2)

    @Test func searchCombinesCriteria() async throws {
        guard MailStack.available() else { return }
        let session = IMAPMailSession(pool: Self.adapter.pool(endpoint: MailStack.imap(), credentials: MailStack.demoLogin))
        let mailbox = MailStack.uniqueMailbox("Search")
        try await session.createTestMailbox(mailbox)
        defer { Task { try? await session.deleteMailbox(mailbox) } }
        let day: Int64 = 86_400_000
        let base: Int64 = 1_790_000_000_000 / day * day
        let first = try #require(try await session.append(
            to: mailbox, message: testMessage(subject: "Quarterly report", from: "Ann <ann@example.net>", body: "numbers inside"),
            flags: ["\\Seen"], internalDate: base))
        let second = try #require(try await session.append(
            to: mailbox, message: testMessage(subject: "Grüße aus Köln", from: "Bob <bob@example.org>", body: "holiday photos"),
            flags: [], internalDate: base + 10 * day))
        let third = try #require(try await session.append(
            to: mailbox, message: testMessage(subject: "Re: Quarterly report", from: "Bob <bob@example.org>", body: "thanks"),
            flags: [], internalDate: base + 20 * day))

        #expect(try await session.search(in: mailbox, MailSearch(subject: "quarterly")) == [first, third])
        #expect(try await session.search(in: mailbox, MailSearch(from: "bob@example.org")) == [second, third])
        #expect(try await session.search(in: mailbox, MailSearch(text: "photos")) == [second])
        #expect(try await session.search(in: mailbox, MailSearch(subject: "Grüße")) == [second])
        #expect(try await session.search(in: mailbox, MailSearch(since: base + 5 * day, before: base + 15 * day)) == [second])
        #expect(try await session.search(in: mailbox, MailSearch(from: "bob", unseenOnly: true)) == [second, third])
        #expect(try await session.search(in: mailbox, MailSearch(subject: "Quarterly", unseenOnly: true)) == [third])
        #expect(try await session.search(in: mailbox, MailSearch(text: "no such words anywhere")).isEmpty)
        // Quotes and parentheses are data, not syntax.
        #expect(try await session.search(in: mailbox, MailSearch(subject: "a\" OR ALL (")).isEmpty)
        // A line break cannot end the command early: the term is searched for as one line, and
        // the session goes on.
        #expect(try await session.search(in: mailbox, MailSearch(text: "x\r\nA1 LOGOUT")).isEmpty)
        #expect(try await session.search(in: mailbox, MailSearch(text: "photos")) == [second])
    }

    @Test func partsOfManyMessagesInFewCommands() async throws {
        guard MailStack.available() else { return }
        let session = IMAPMailSession(pool: Self.adapter.pool(endpoint: MailStack.imap(), credentials: MailStack.demoLogin))
        let mailbox = MailStack.uniqueMailbox("Parts")
        try await session.createTestMailbox(mailbox)
        defer { Task { try? await session.deleteMailbox(mailbox) } }
        let plain = try #require(try await session.append(to: mailbox, message: testMessage(subject: "p", body: "plain body text"),
                                                          flags: [], internalDate: nil))
        let structured = try #require(try await session.append(to: mailbox, message: IMAPBodyStructureTests.structured,
                                                               flags: [], internalDate: nil))
        let requests = [
            PartRequest(uid: plain, section: "1", range: 0..<5),
            PartRequest(uid: structured, section: "1.2", range: 0..<5),
            PartRequest(uid: structured, section: "2"),
            PartRequest(uid: plain + 100, section: "1", range: 0..<5),
        ]
        let parts = try await session.fetchParts(in: mailbox, requests)
        #expect(parts.count == 3)
        #expect(parts[requests[0]] == Array("plain".utf8))
        #expect(parts[requests[1]] == Array("<p>Gr".utf8))
        #expect(parts[requests[2]] == Array("JVBERi0xLjQK".utf8))
    }
}

/// The header fields fetched with every summary.
@Suite struct IMAPSummaryHeaderTests {
    static let adapter = IMAPAdapter(threads: 1)

    @Test func referencesAndExtraHeaders() async throws {
        guard MailStack.available() else { return }
        let session = IMAPMailSession(pool: Self.adapter.pool(endpoint: MailStack.imap(), credentials: MailStack.demoLogin))
        let mailbox = MailStack.uniqueMailbox("Headers")
        try await session.createTestMailbox(mailbox)
        defer { Task { try? await session.deleteMailbox(mailbox) } }
        let message = Array("""
            From: a@example.net\r
            Subject: Re: plans\r
            Message-ID: <c@example.net>\r
            In-Reply-To: <b@example.net>\r
            References: <a@example.net>\r
             <b@example.net>\r
            Importance: High\r
            X-Priority: 1 (Highest)\r
            Thread-Topic: =?UTF-8?Q?Pl=C3=A4ne?=\r
            \r
            body\r

            """.utf8)
        let uid = try #require(try await session.append(to: mailbox, message: message, flags: [], internalDate: nil))
        let plain = try #require(try await session.append(to: mailbox, message: testMessage(subject: "none"), flags: [], internalDate: nil))
        let summaries = try await session.summaries(in: mailbox, uids: UIDSet(uids: [uid, plain]))
        let threaded = try #require(summaries.first { $0.uid == uid })
        #expect(threaded.references == ["<a@example.net>", "<b@example.net>"])
        #expect(threaded.envelope.inReplyTo == "<b@example.net>")
        #expect(threaded.headers["importance"] == "High")
        #expect(threaded.headers["x-priority"] == "1 (Highest)")
        #expect(threaded.headers["thread-topic"] == "Pläne")
        let bare = try #require(summaries.first { $0.uid == plain })
        #expect(bare.references.isEmpty && bare.headers.isEmpty)
    }
}
