import MailUpstream
import Testing

@testable import MailUpstreamEtPan

/// Connecting, TLS and logging in against the stack's Dovecot.
@Suite struct IMAPConnectTests {
    private func open(_ endpoint: ServerEndpoint, _ credentials: IMAPCredentials = MailStack.demoLogin) throws -> IMAPConnection {
        try IMAPConnection.open(endpoint, credentials)
    }

    private func expectCode(_ code: UpstreamError.Code, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected \(code), got success")
        } catch let error as UpstreamError {
            #expect(error.code == code, "\(error)")
        } catch {
            Issue.record("expected \(code), got \(error)")
        }
    }

    @Test func startTLSVerifiedLoginEnablesQRESYNC() throws {
        guard MailStack.available() else { return }
        let connection = try open(MailStack.imap(.startTLS))
        #expect(connection.capabilities.isSuperset(of: ["IMAP4REV1", "QRESYNC", "CONDSTORE", "IDLE", "UIDPLUS", "MOVE"]))
        #expect(connection.qresyncEnabled)
        #expect(connection.condstoreEnabled)
        #expect(connection.isAlive())
        connection.close()
    }

    @Test func implicitTLSVerifiedAgainstTheStackCA() throws {
        guard MailStack.available() else { return }
        let connection = try open(MailStack.imap(.implicitTLS))
        #expect(connection.isAlive())
    }

    @Test func untrustedCertificateIsRefusedBeforeAnyCredentialIsSent() {
        guard MailStack.available() else { return }
        // The system store does not hold the stack's self-signed certificate.
        expectCode(.tlsFailed) { _ = try open(MailStack.imap(.implicitTLS, caFile: "")) }
        expectCode(.tlsFailed) { _ = try open(MailStack.imap(.startTLS, caFile: "")) }
    }

    @Test func certificateForAnotherNameIsRefused() {
        guard MailStack.available() else { return }
        expectCode(.tlsFailed) { _ = try open(MailStack.imap(.implicitTLS, serverName: "mail.example.org")) }
    }

    @Test func verificationCanBeTurnedOffExplicitly() throws {
        guard MailStack.available() else { return }
        let connection = try open(MailStack.imap(.implicitTLS, verify: false, caFile: "", serverName: "mail.example.org"))
        #expect(connection.isAlive())
    }

    @Test func wrongPasswordIsAnAuthenticationFailure() {
        guard MailStack.available() else { return }
        expectCode(.authenticationFailed) {
            _ = try open(MailStack.imap(), .login(user: MailStack.demoUser, password: "not-the-password"))
        }
        expectCode(.authenticationFailed) {
            _ = try open(MailStack.imap(), .plain(user: MailStack.demoUser, password: "not-the-password"))
        }
    }

    @Test func authenticatePlainAndMasterUserLogins() throws {
        guard MailStack.available() else { return }
        let plain = try open(MailStack.imap(), .plain(user: MailStack.demoUser, password: MailStack.demoPassword))
        #expect(try plain.status("INBOX").state.uidValidity != 0)
        let master = try open(MailStack.imap(), .master(
            user: MailStack.demoUser, masterUser: MailStack["MASTER_USER"], masterPassword: MailStack["MASTER_PASSWORD"]))
        // The master login lands in the user's own mailbox.
        #expect(try master.status("INBOX").state == plain.status("INBOX").state)
        expectCode(.authenticationFailed) {
            _ = try open(MailStack.imap(), .master(user: MailStack.demoUser, masterUser: MailStack["MASTER_USER"],
                                                  masterPassword: "wrong"))
        }
    }

    @Test func nothingListeningIsUnavailable() {
        var endpoint = MailStack.imap(.plain)
        endpoint.host = "127.0.0.1"
        endpoint.port = 9  // discard: nothing listens on loopback
        expectCode(.unavailable) { _ = try open(endpoint) }
    }

    @Test func cancellingABlockedCallBreaksTheConnectionAtOnce() async throws {
        guard MailStack.available() else { return }
        let connection = try open(MailStack.imap())
        connection.cancel()
        #expect(!connection.isAlive())
        #expect(connection.broken)
        connection.close()
    }
}
