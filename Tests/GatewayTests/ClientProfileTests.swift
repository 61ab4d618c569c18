import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import MailUpstream
import Testing

/// Each client profile against the real stack: from a fresh device through its set-up to the
/// initial Sync of a 2,000-message Inbox (with a lost answer, a timeout, a duplicated request
/// and an answer cut off mid-way), then flag and move round trips, a push through Ping, SendMail, and a
/// steady state where nothing is sent twice or skipped.
@Suite(.serialized) struct ClientProfileTests {
    static var user: String { Stack["PROFILES_USER"] }
    static var password: String { Stack["PROFILES_PASSWORD"] }

    /// The profiles user's Inbox, emptied and filled with 2,000 messages once per test run;
    /// each profile syncs it as a new device.
    actor BigInbox {
        static let shared = BigInbox()
        static let count = 2_000
        private var prepared: Task<Void, any Error>?

        func prepare() async throws {
            if let prepared { return try await prepared.value }
            let task = Task<Void, any Error> {
                // A mix: plain and HTML, long and short, every tenth with an attachment.
                _ = try await Stack.python(LocalStack.imaplibLogin(as: "PROFILES") + """
                    import base64
                    _, existing = m.select("INBOX")
                    if int(existing[0]) > 0:
                        m.store("1:*", "+FLAGS.SILENT", "(\\\\Deleted)")
                        m.expunge()
                    for i in range(int(sys.argv[2])):
                        if i % 10 == 0:
                            body = ("Content-Type: multipart/mixed; boundary=b\\r\\n\\r\\n--b\\r\\nContent-Type: text/plain\\r\\n\\r\\n"
                                    "see attached %d\\r\\n--b\\r\\nContent-Type: application/octet-stream; name=f%d.bin\\r\\n"
                                    "Content-Transfer-Encoding: base64\\r\\n\\r\\n%s\\r\\n--b--\\r\\n"
                                    % (i, i, base64.b64encode(bytes(range(256)) * 8).decode()))
                        elif i % 3 == 0:
                            body = "Content-Type: text/html; charset=utf-8\\r\\n\\r\\n<p>" + ("message %d " % i) * 50 + "</p>\\r\\n"
                        else:
                            body = "Content-Type: text/plain; charset=utf-8\\r\\n\\r\\nmessage %d\\r\\n" % i
                        message = ("From: sender%d@example.net\\r\\nTo: profiles@airgate.test\\r\\nSubject: profile message %d\\r\\n"
                                   "Message-ID: <p%d@example.net>\\r\\nMIME-Version: 1.0\\r\\n" % (i, i, i)) + body
                        m.append(sys.argv[1], "(\\\\Seen)" if i % 2 else None, None, message.encode())
                    m.logout()
                    """, ["INBOX", String(Self.count)])
            }
            prepared = task
            return try await task.value
        }
    }

    static func uid(_ serverId: String) -> UInt32? { serverId.split(separator: ":").last.flatMap { UInt32($0) } }

    @Test(arguments: ClientProfile.all)
    func aFreshDeviceReachesSteadyStateWithoutLosingOrDoublingMail(_ profile: ClientProfile) async throws {
        guard Stack.available() else { return }
        try await BigInbox.shared.prepare()
        let session = Stack.session(Self.user, Self.password)
        // A small folder of its own for the changes, and one to move into.
        let work = IMAPMailboxName(display: "Work-\(UUID().uuidString.prefix(8))")
        let archive = IMAPMailboxName(display: "Archive-\(UUID().uuidString.prefix(8))")
        try await session.createTestMailbox(work)
        try await session.createTestMailbox(archive)
        for index in 0..<5 {
            _ = try await session.append(to: work, message: Array("Subject: work \(index)\r\nFrom: a@example.net\r\n\r\nwork \(index)\r\n".utf8),
                                         flags: [], internalDate: nil)
        }
        let gateway = try await RunningGateway.start { $0.gateway.heartbeatBounds = 5...3540 }
        defer { Task { await gateway.stop() } }
        var device = ProfiledDevice(profile: profile, host: "127.0.0.1", port: gateway.port, user: Self.user,
                                    password: Self.password, deviceId: "P" + UUID().uuidString.prefix(12).replacing("-", with: ""))
        try await device.setUp()
        let bigFolder = try #require(device.folder(type: 2))
        let workFolder = try #require(device.folder(named: work.displayName))
        let archiveFolder = try #require(device.folder(named: archive.displayName))
        #expect(device.folder(type: 2) != nil && device.folder(type: 3) != nil && device.folder(type: 6) != nil)

        // The initial Sync of 2,000 messages, through a lost answer, a timeout, a duplicate
        // request and an answer cut off in the middle.
        let initial = try await device.syncToEnd(bigFolder.serverId,
                                                 faults: [1: .lostAnswer, 2: .timeout, 3: .cutResponse, 4: .duplicateRequest])
        #expect(device.held[bigFolder.serverId]?.count == BigInbox.count, "\(profile): \(initial.added.count) added")
        #expect(Set(initial.added.compactMap(Self.uid)).count == BigInbox.count)
        // Steady state: nothing more comes, and a heartbeat Sync (Android) does not fail.
        let quiet = try await device.syncOnce(bigFolder.serverId)
        #expect(quiet.added.isEmpty && quiet.changed.isEmpty && quiet.deleted.isEmpty)
        if profile.emptyHeartbeatSyncs { #expect(try await device.emptySync() == 200) }

        // Flags both ways: read on the device → \Seen on IMAP; \Seen set on IMAP → a Change.
        _ = try await device.syncToEnd(workFolder.serverId)
        let items = Array(device.held[workFolder.serverId] ?? []).sorted()
        #expect(items.count == 5)
        try await device.setRead(items[0], in: workFolder.serverId, read: true)
        let (_, flags) = try await session.listing(of: work)
        #expect(flags.first { $0.uid == Self.uid(items[0]) }?.flags.contains("\\Seen") == true)
        try await session.setFlags(in: work, uids: UIDSet(uids: [Self.uid(items[1])!]), add: ["\\Seen"], remove: [])
        let flagged = try await device.syncToEnd(workFolder.serverId)
        #expect(flagged.changed == [items[1]], "\(profile): \(flagged)")

        // Move both ways: by the device (IMAP follows, no echo), then on IMAP (the device follows).
        _ = try await device.syncToEnd(archiveFolder.serverId)
        let moved = try await device.move(items[2], from: workFolder.serverId, to: archiveFolder.serverId)
        #expect(try await session.listing(of: archive).1.count == 1)
        let afterMove = try await device.syncToEnd(workFolder.serverId)
        #expect(afterMove.deleted.isEmpty && afterMove.added.isEmpty, "\(profile): \(afterMove)")
        let arrived = try await device.syncToEnd(archiveFolder.serverId)
        #expect(arrived.added.isEmpty, "\(profile): the moved item came back as an Add: \(arrived)")
        _ = moved
        _ = try await session.move(from: work, uids: UIDSet(uids: [Self.uid(items[3])!]), to: archive)
        let serverMove = try await device.syncToEnd(workFolder.serverId)
        #expect(serverMove.deleted == [items[3]])
        #expect(try await device.syncToEnd(archiveFolder.serverId).added.count == 1)

        // Push: a Ping on the folders waits; a new message ends it; the next Sync carries it.
        let delivery = Task.detached {
            try await Task.sleep(for: .milliseconds(1500))
            _ = try await Stack.session(Self.user, Self.password).append(to: work, message: Array("Subject: pushed\r\nFrom: a@example.net\r\n\r\nnew\r\n".utf8),
                                                 flags: [], internalDate: nil)
        }
        let ping = try await device.ping([workFolder.serverId, archiveFolder.serverId], heartbeat: 60)
        try await delivery.value
        #expect(ping.status == "2" && ping.folders == [workFolder.serverId], "\(profile): \(ping)")
        #expect(try await device.syncToEnd(workFolder.serverId).added.count == 1)

        // SendMail, kept in Sent.
        let subject = "profile-send-\(UUID().uuidString)"
        try await device.sendMail(Array("From: \(Self.user)\r\nTo: \(Stack["OTHER_USER"])\r\nSubject: \(subject)\r\n\r\nsent\r\n".utf8),
                                  clientId: UUID().uuidString)
        let sent = try await session.search(in: IMAPMailboxName(wire: "Sent"), MailSearch(subject: subject))
        #expect(sent.count == 1)

        // Steady state again, and every message held exactly once; the answers pass libwbxml.
        #expect(device.held[bigFolder.serverId]?.count == BigInbox.count)
        #expect(device.resets == 0, "\(profile): sent back to key 0 \(device.resets) times")
        let log = ResponseLog()
        for answer in device.answers.suffix(40) { log.record(bytes: answer.body) }
        try log.validate()
        try? await session.deleteMailbox(work)
        try? await session.deleteMailbox(archive)
    }
}
