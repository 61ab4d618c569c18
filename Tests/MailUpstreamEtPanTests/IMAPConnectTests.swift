import MailUpstream
import Testing

@testable import MailUpstreamEtPan

/// Connecting, TLS and logging in against the stack's Dovecot.
@Suite struct IMAPConnectTests {
    static let adapter = IMAPAdapter(threads: 2)

    /// Blocking libetpan calls run on the adapter's threads, as in the gateway.
    private func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await Self.adapter.run(body)
    }

    private func open(_ endpoint: ServerEndpoint, _ credentials: IMAPCredentials = MailStack.demoLogin) async throws
        -> IMAPConnection
    {
        try await blocking { try IMAPConnection.open(endpoint, credentials) }
    }

    @Test func startTLSVerifiedLoginEnablesQRESYNC() async throws {
        guard MailStack.available() else { return }
        let connection = try await open(MailStack.imap(.startTLS))
        #expect(connection.capabilities.isSuperset(of: ["IMAP4REV1", "QRESYNC", "CONDSTORE", "IDLE", "UIDPLUS", "MOVE"]))
        #expect(connection.qresyncEnabled)
        #expect(connection.condstoreEnabled)
        #expect(try await blocking { connection.isAlive() })
        try await blocking { connection.close() }
    }

    @Test func implicitTLSVerifiedAgainstTheStackCA() async throws {
        guard MailStack.available() else { return }
        let connection = try await open(MailStack.imap(.implicitTLS))
        #expect(try await blocking { connection.isAlive() })
    }

    @Test func untrustedCertificateIsRefusedBeforeAnyCredentialIsSent() async {
        guard MailStack.available() else { return }
        // The system store does not hold the stack's self-signed certificate.
        await expectCode(.tlsFailed) { _ = try await open(MailStack.imap(.implicitTLS, caFile: "")) }
        await expectCode(.tlsFailed) { _ = try await open(MailStack.imap(.startTLS, caFile: "")) }
    }

    @Test func certificateForAnotherNameIsRefused() async {
        guard MailStack.available() else { return }
        await expectCode(.tlsFailed) { _ = try await open(MailStack.imap(.implicitTLS, serverName: "mail.example.org")) }
    }

    @Test func verificationCanBeTurnedOffExplicitly() async throws {
        guard MailStack.available() else { return }
        let connection = try await open(MailStack.imap(.implicitTLS, verify: false, caFile: "", serverName: "mail.example.org"))
        #expect(try await blocking { connection.isAlive() })
    }

    @Test func wrongPasswordIsAnAuthenticationFailure() async {
        guard MailStack.available() else { return }
        await expectCode(.authenticationFailed) {
            _ = try await open(MailStack.imap(), .login(user: MailStack.demoUser, password: "not-the-password"))
        }
        await expectCode(.authenticationFailed) {
            _ = try await open(MailStack.imap(), .plain(user: MailStack.demoUser, password: "not-the-password"))
        }
    }

    @Test func authenticatePlainAndMasterUserLogins() async throws {
        guard MailStack.available() else { return }
        let plain = try await open(MailStack.imap(), .plain(user: MailStack.demoUser, password: MailStack.demoPassword))
        let plainState = try await blocking { try plain.status("INBOX").state }
        #expect(plainState.uidValidity != 0)
        let master = try await open(MailStack.imap(), .master(
            user: MailStack.demoUser, masterUser: MailStack["MASTER_USER"], masterPassword: MailStack["MASTER_PASSWORD"]))
        // The master login lands in the user's own mailbox.
        #expect(try await blocking { try master.status("INBOX").state.uidValidity } == plainState.uidValidity)
        await expectCode(.authenticationFailed) {
            _ = try await open(MailStack.imap(), .master(user: MailStack.demoUser, masterUser: MailStack["MASTER_USER"],
                                                        masterPassword: "wrong"))
        }
    }

    @Test func nothingListeningIsUnavailable() async {
        var endpoint = MailStack.imap(.plain)
        endpoint.host = "127.0.0.1"
        endpoint.port = 9  // discard: nothing listens on loopback
        await expectCode(.unavailable) { _ = try await open(endpoint) }
    }

    @Test func cancellingABlockedCallBreaksTheConnectionAtOnce() async throws {
        guard MailStack.available() else { return }
        let connection = try await open(MailStack.imap())
        connection.cancel()
        #expect(try await blocking { connection.isAlive() } == false)
        #expect(connection.broken)
        try await blocking { connection.close() }
    }
}
