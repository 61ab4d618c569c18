import MailUpstream
import Testing

/// The in-memory server keeps the IMAP rules the gateway's unit tests rely on.
@Suite("InMemoryMailSession")
struct InMemoryMailSessionTests {
    let inbox = IMAPMailboxName(wire: "INBOX")
    let trash = IMAPMailboxName(wire: "Trash")

    func message(_ subject: String) -> InMemoryMailSession.Message {
        InMemoryMailSession.Message(
            raw: Array("Subject: \(subject)\r\nFrom: a@example.test\r\n\r\nHello \(subject)\r\n".utf8),
            envelope: Envelope(subject: subject, from: [MailAddress(address: "a@example.test")]))
    }

    @Test("deliveries, flag changes, moves and expunges each show up once in changes(since:)")
    func changes() async throws {
        let server = InMemoryMailSession()
        let one = try await server.deliver(message("one"))
        let two = try await server.deliver(message("two"))
        let (start, listed) = try await server.listing(of: inbox)
        #expect(listed.map(\.uid) == [one, two])

        let three = try await server.deliver(message("three"))
        try await server.setFlags(in: inbox, uids: UIDSet(uids: [one]), add: ["\\Seen"], remove: [])
        let moved = try await server.move(from: inbox, uids: UIDSet(uids: [two]), to: trash)
        guard case .changes(let changes, let now) = try await server.changes(in: inbox, since: start) else {
            Issue.record("expected incremental changes")
            return
        }
        #expect(changes.count == 3)
        #expect(changes.contains(.removed(uid: two)))
        #expect(changes.contains { if case .added(let m) = $0 { m.uid == three } else { false } })
        #expect(changes.contains { if case .flagsChanged(let m) = $0 { m.uid == one && m.flags == ["\\Seen"] } else { false } })
        #expect(moved.count == 1 && moved[two] != nil)
        // Nothing new since then.
        #expect(try await server.changes(in: inbox, since: now) == .changes([], now))
        // Setting a flag that is already set changes nothing.
        try await server.setFlags(in: inbox, uids: UIDSet(uids: [one]), add: ["\\Seen"], remove: [])
        #expect(try await server.changes(in: inbox, since: now) == .changes([], now))
    }

    @Test("a recreated mailbox asks for a full resync; without CONDSTORE every call does")
    func fullResync() async throws {
        let server = InMemoryMailSession()
        let (start, _) = try await server.listing(of: inbox)
        try await server.recreate(inbox)
        guard case .fullResync(.uidValidityChanged, _) = try await server.changes(in: inbox, since: start) else {
            Issue.record("expected a UIDVALIDITY change")
            return
        }
        let plain = InMemoryMailSession(condStore: false)
        let (state, _) = try await plain.listing(of: inbox)
        #expect(state.highestModSeq == 0)
        #expect(!(try await plain.capabilities()).contains("CONDSTORE"))
        guard case .fullResync(.noModSeq, _) = try await plain.changes(in: inbox, since: state) else {
            Issue.record("expected NOMODSEQ")
            return
        }
        // The slower mode: compare listings.
        try await plain.deliver(message("new"))
        let (_, after) = try await plain.listing(of: inbox)
        #expect(ChangeTracking.changes(from: [:], to: after).count == 1)
    }

    @Test("fetching whole messages, header, text and byte ranges; errors are typed")
    func fetch() async throws {
        let server = InMemoryMailSession()
        let uid = try await server.deliver(message("parts"))
        let text = try await server.fetch(in: inbox, uid: uid, section: "TEXT", range: nil)
        #expect(String(decoding: text, as: UTF8.self) == "Hello parts\r\n")
        let header = try await server.fetch(in: inbox, uid: uid, section: "HEADER", range: nil)
        #expect(String(decoding: header, as: UTF8.self).hasSuffix("\r\n\r\n"))
        let slice = try await server.fetch(in: inbox, uid: uid, section: "TEXT", range: 0..<5)
        #expect(String(decoding: slice, as: UTF8.self) == "Hello")
        let beyond = try await server.fetch(in: inbox, uid: uid, section: nil, range: 10_000..<20_000)
        #expect(beyond.isEmpty)
        let summary = try await server.summaries(in: inbox, uids: UIDSet(uids: [uid, 999]))
        #expect(summary.map(\.envelope.subject) == ["parts"])
        await #expect { try await server.fetch(in: inbox, uid: 999, section: nil, range: nil) } throws: {
            ($0 as? UpstreamError)?.code == .messageNotFound
        }
        await #expect { try await server.status(IMAPMailboxName(wire: "Nope")) } throws: {
            ($0 as? UpstreamError)?.code == .mailboxNotFound
        }
        await #expect { try await server.createMailbox(inbox) } throws: {
            ($0 as? UpstreamError)?.code == .mailboxExists
        }
    }

    @Test("LIST reports special use; STATUS counts unseen")
    func listAndStatus() async throws {
        let server = InMemoryMailSession()
        let listing = try await server.listMailboxes()
        #expect(listing.first { $0.specialUse == .sent }?.name.wireName == "Sent")
        #expect(SpecialUse(attribute: "\\Junk") == .junk && SpecialUse(attribute: "\\HasChildren") == nil)
        try await server.deliver(message("a"))
        let read = try await server.deliver(message("b"))
        try await server.setFlags(in: inbox, uids: UIDSet(uids: [read]), add: ["\\Seen"], remove: [])
        let status = try await server.status(inbox)
        #expect(status.messages == 2 && status.unseen == 1)
        try await server.createMailbox(IMAPMailboxName(display: "Reçus"))
        #expect(try await server.listMailboxes().contains { $0.name.displayName == "Reçus" })
    }

    @Test("search matches like the IMAP server; batched and streamed fetches agree with fetch")
    func searchAndParts() async throws {
        let server = InMemoryMailSession()
        let one = try await server.deliver(message("Quarterly report"))
        let two = try await server.deliver(message("Holiday"))
        try await server.setFlags(in: inbox, uids: UIDSet(uids: [one]), add: ["\\Seen"], remove: [])
        #expect(try await server.search(in: inbox, MailSearch(subject: "quarterly")) == [one])
        #expect(try await server.search(in: inbox, MailSearch(text: "hello")) == [one, two])
        #expect(try await server.search(in: inbox, MailSearch(unseenOnly: true)) == [two])
        #expect(try await server.search(in: inbox, MailSearch(from: "nobody@example.test")).isEmpty)

        let requests = [PartRequest(uid: one, section: "TEXT", range: 0..<5), PartRequest(uid: 999, section: nil)]
        let parts = try await server.fetchParts(in: inbox, requests)
        #expect(parts == [requests[0]: Array("Hello".utf8)])

        var streamed: [UInt8] = []
        for try await chunk in server.fetchChunks(in: inbox, uid: two, section: nil, range: nil) { streamed += chunk }
        #expect(try await streamed == server.fetch(in: inbox, uid: two, section: nil, range: nil))
    }

    @Test("a watcher wakes on delivery, times out on silence, and ends when cancelled")
    func watching() async throws {
        let server = InMemoryMailSession()
        let waiting = Task { try await server.waitForActivity(in: inbox, timeout: .seconds(30)) }
        while await server.waitingWatchers == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try await server.deliver(message("wake"))
        #expect(try await waiting.value == .activity)
        #expect(try await server.waitForActivity(in: inbox, timeout: .milliseconds(20)) == .timedOut)
        // A change elsewhere is not activity here.
        let other = Task { try await server.waitForActivity(in: inbox, timeout: .milliseconds(300)) }
        while await server.waitingWatchers == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try await server.deliver(message("elsewhere"), to: trash)
        #expect(try await other.value == .timedOut)
        let cancelled = Task { try await server.waitForActivity(in: inbox, timeout: .seconds(30)) }
        while await server.waitingWatchers == 0 { try await Task.sleep(for: .milliseconds(5)) }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        // What happens once the watcher listens is reported, even before the wait proper.
        #expect(try await server.waitForActivity(in: inbox, timeout: .seconds(30)) {
            _ = try? await server.deliver(message("while starting"))
        } == .activity)
    }
}
