import Foundation
import MailUpstream
import Testing

@testable import MailUpstreamEtPan

/// Submission through the stack's Postfix (STARTTLS, AUTH via Dovecot), checked by reading
/// the recipient's INBOX over IMAP.
@Suite struct SMTPSubmitterTests {
    static let adapter = IMAPAdapter(threads: 2)

    private var submission: ServerEndpoint {
        ServerEndpoint(host: MailStack["SMTP_HOST"], port: Int(MailStack["SMTP_PORT"]) ?? 0, security: .startTLS,
                       caFile: MailStack["TLS_CA_FILE"], serverName: "localhost", timeout: .seconds(10))
    }

    private func submitter(_ credentials: SMTPCredentials? = nil) -> SMTPMailSubmitter {
        SMTPMailSubmitter(adapter: Self.adapter, endpoint: submission,
                          credentials: credentials ?? .plain(user: MailStack.demoUser, password: MailStack.demoPassword))
    }

    /// Waits (bounded) for a message with this subject in the demo INBOX; returns its UID.
    private func arrival(of subject: String) async throws -> MessageSummary? {
        let session = IMAPMailSession(pool: Self.adapter.pool(endpoint: MailStack.imap(), credentials: MailStack.demoLogin))
        let inbox = IMAPMailboxName(wire: "INBOX")
        for _ in 0..<100 {
            let status = try await session.status(inbox)
            let next = max(1, status.state.uidNext)
            let recent = UIDSet([(next > 50 ? next - 50 : 1)...next])
            if let found = try await session.summaries(in: inbox, uids: recent).first(where: { $0.envelope.subject == subject }) {
                try await session.expunge(in: inbox, uids: UIDSet(uids: [found.uid]))
                return found
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    @Test func submittedMessageArrivesWithEightBitBody() async throws {
        guard MailStack.available() else { return }
        let subject = "smtp-\(UUID().uuidString)"
        let message = testMessage(subject: subject, from: MailStack.demoUser, body: "Grüße — 8-bit body\r\n")
        let result = try await submitter().submit(Submission(sender: MailStack.demoUser, recipients: [MailStack.demoUser], message: message))
        #expect(result.accepted == [MailStack.demoUser])
        #expect(result.rejected.isEmpty)
        let arrived = try #require(try await arrival(of: subject))
        #expect(arrived.envelope.from.first?.address == MailStack.demoUser)
    }

    @Test func masterUserCanSubmitForAUser() async throws {
        guard MailStack.available() else { return }
        let subject = "smtp-master-\(UUID().uuidString)"
        let credentials = SMTPCredentials.plain(user: MailStack.demoUser + "*" + MailStack["MASTER_USER"],
                                                password: MailStack["MASTER_PASSWORD"])
        _ = try await submitter(credentials).submit(Submission(
            sender: MailStack.demoUser, recipients: [MailStack.demoUser], message: testMessage(subject: subject)))
        #expect(try await arrival(of: subject) != nil)
    }

    @Test func refusedRecipientsAreReportedOneByOne() async throws {
        guard MailStack.available() else { return }
        let subject = "smtp-partial-\(UUID().uuidString)"
        // The stack never relays: a foreign domain gets a 5xx, the local user gets the message.
        let result = try await submitter().submit(Submission(
            sender: MailStack.demoUser, recipients: ["someone@elsewhere.invalid", MailStack.demoUser],
            message: testMessage(subject: subject)))
        #expect(result.accepted == [MailStack.demoUser])
        let rejection = try #require(result.rejected.first)
        #expect(rejection.recipient == "someone@elsewhere.invalid")
        #expect((500..<600).contains(rejection.code))
        #expect(try await arrival(of: subject) != nil)

        await expectCode(.refused) {
            _ = try await submitter().submit(Submission(sender: MailStack.demoUser, recipients: ["a@elsewhere.invalid"],
                                                        message: testMessage(subject: "nobody")))
        }
    }

    @Test func wrongPasswordAndBadAddressesAreTyped() async throws {
        guard MailStack.available() else { return }
        await expectCode(.authenticationFailed) {
            _ = try await submitter(.plain(user: MailStack.demoUser, password: "wrong")).submit(Submission(
                sender: MailStack.demoUser, recipients: [MailStack.demoUser], message: testMessage(subject: "x")))
        }
        await expectCode(.refused) {
            _ = try await submitter().submit(Submission(sender: MailStack.demoUser,
                                                        recipients: ["a@b>\r\nRCPT TO:<c@d"], message: testMessage(subject: "x")))
        }
    }

    @Test func messageAboveTheServerSizeLimitIsRefusedBeforeSending() async throws {
        guard MailStack.available() else { return }
        // Postfix advertises SIZE 52428800 in the stack.
        let big = testMessage(subject: "big") + Array(repeating: UInt8(ascii: "a"), count: 52_428_800)
        await expectCode(.messageTooLarge) {
            _ = try await submitter().submit(Submission(sender: MailStack.demoUser, recipients: [MailStack.demoUser], message: big))
        }
    }

    @Test func nothingListeningIsUnavailable() async {
        let submitter = SMTPMailSubmitter(adapter: Self.adapter,
                                          endpoint: ServerEndpoint(host: "127.0.0.1", port: 9, security: .startTLS),
                                          credentials: .none)
        await expectCode(.unavailable) {
            _ = try await submitter.submit(Submission(sender: "a@b.c", recipients: ["d@e.f"], message: testMessage(subject: "x")))
        }
    }
}
