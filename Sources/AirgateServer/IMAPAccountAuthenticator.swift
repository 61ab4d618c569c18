import Crypto
import Gateway
import GatewayHTTP
import MailUpstream
import MailUpstreamEtPan

/// Checks Basic credentials by logging in to IMAP with them, and keeps one connection pool and
/// one IDLE watcher per account for as long as the process runs.
public actor IMAPAccountAuthenticator: AccountAuthenticator {
    private struct Account {
        var credentialDigest: SHA256Digest
        var mail: MailAccount
    }

    private let adapter: IMAPAdapter
    private let endpoint: ServerEndpoint
    /// The submission server SendMail uses, with the same credentials; nil: sending is refused.
    private let smtp: ServerEndpoint?
    /// ManageSieve for out-of-office, with the same credentials; nil: Settings Oof is refused.
    private let sieve: ServerEndpoint?
    /// Appended to logins without a domain to make the account's address.
    private let defaultDomain: String?
    private var accounts: [String: Account] = [:]
    private let salt: [UInt8]

    public init(adapter: IMAPAdapter, endpoint: ServerEndpoint, smtp: ServerEndpoint? = nil, sieve: ServerEndpoint? = nil,
                defaultDomain: String? = nil) {
        self.adapter = adapter
        self.endpoint = endpoint
        self.smtp = smtp
        self.sieve = sieve
        self.defaultDomain = defaultDomain
        var generator = SystemRandomNumberGenerator()
        salt = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    public func account(user: String, password: String) async throws -> MailAccount {
        let digest = SHA256.hash(data: salt + Array(user.utf8) + [0] + Array(password.utf8))
        if let known = accounts[user], known.credentialDigest == digest { return known.mail }
        let credentials = IMAPCredentials.login(user: user, password: password)
        let pool = adapter.pool(endpoint: endpoint, credentials: credentials)
        let session = IMAPMailSession(pool: pool)
        do {
            // The login itself is the check; the connection stays in the pool for the requests.
            _ = try await session.capabilities()
        } catch {
            await pool.close()
            throw error
        }
        if let old = accounts[user] {
            // The password changed: the old credentials' connections go.
            await (old.mail.session as? IMAPMailSession)?.pool.close()
            await old.mail.watcher?.stop()
        }
        let address = user.contains("@") ? user : defaultDomain.map { "\(user)@\($0)" } ?? user
        let submitter = smtp.map {
            SMTPMailSubmitter(adapter: adapter, endpoint: $0, credentials: .plain(user: user, password: password))
        }
        let outOfOffice = sieve.map {
            ManageSieveOutOfOffice(adapter: adapter, endpoint: $0, user: user, password: password, address: address)
        }
        let mail = MailAccount(user: user, emailAddress: address, session: session,
                               watcher: adapter.watcher(endpoint: endpoint, credentials: credentials), submitter: submitter,
                               outOfOffice: outOfOffice)
        accounts[user] = Account(credentialDigest: digest, mail: mail)
        return mail
    }
}
