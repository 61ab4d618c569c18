import Crypto
import Gateway
import GatewayHTTP
import MailUpstream
import MailUpstreamEtPan

/// A Dovecot master user: `USER*MASTER` with the master's password logs in as USER.
public struct IMAPMasterLogin: Sendable, Hashable {
    public var user: String
    public var password: String
    /// Dovecot's `auth_master_user_separator`.
    public var separator: String

    public init(user: String, password: String, separator: String = "*") {
        self.user = user
        self.password = password
        self.separator = separator
    }
}

/// Checks Basic credentials by logging in to IMAP with them, and keeps one connection pool and
/// one IDLE watcher per account for as long as the process runs. The login's domain picks the
/// mail servers (`MailRoutes`); a login no route serves is refused like a wrong password.
///
/// With a master login, the user's own login only checks the password (that connection is
/// closed at once); the account's sessions and IDLE then log in as the master, so they keep
/// working when the user changes the password until their devices present the new one.
public actor IMAPAccountAuthenticator: AccountAuthenticator {
    private struct Account {
        var credentialDigest: SHA256Digest
        var mail: MailAccount
    }

    private let adapter: IMAPAdapter
    private let routes: MailRoutes
    private var accounts: [String: Account] = [:]
    /// Logins under way: a device's first requests often come together, and each starting
    /// its own login would replace (and close) the pool another one is already using.
    private var logins: [String: (digest: SHA256Digest, task: Task<MailAccount, any Error>)] = [:]
    private let salt: [UInt8]

    public init(adapter: IMAPAdapter, routes: MailRoutes) {
        self.adapter = adapter
        self.routes = routes
        var generator = SystemRandomNumberGenerator()
        salt = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    public func account(user: String, password: String) async throws -> MailAccount {
        let digest = SHA256.hash(data: salt + Array(user.utf8) + [0] + Array(password.utf8))
        if let known = accounts[user], known.credentialDigest == digest { return known.mail }
        if let login = logins[user], login.digest == digest { return try await login.task.value }
        let task = Task { try await logIn(user: user, password: password, digest: digest) }
        logins[user] = (digest, task)
        let result = await task.result
        if logins[user]?.digest == digest { logins[user] = nil }
        return try result.get()
    }

    private func logIn(user: String, password: String, digest: SHA256Digest) async throws -> MailAccount {
        guard let resolved = routes.resolve(login: user) else {
            throw UpstreamError(.authenticationFailed, "no mail server serves the domain of \(user)")
        }
        let route = resolved.route
        let own = IMAPCredentials.login(user: resolved.imapUser, password: password)
        let ownPool = adapter.pool(endpoint: route.imap, credentials: own)
        do {
            // The login itself is the check; without a master login the connection stays in
            // the pool for the requests.
            _ = try await IMAPMailSession(pool: ownPool).capabilities()
        } catch {
            await ownPool.close()
            throw error
        }
        let credentials: IMAPCredentials
        let pool: IMAPConnectionPool
        if let master = route.master {
            await ownPool.close()
            credentials = .master(user: resolved.imapUser, masterUser: master.user, masterPassword: master.password,
                                  separator: master.separator)
            pool = adapter.pool(endpoint: route.imap, credentials: credentials)
            do {
                _ = try await IMAPMailSession(pool: pool).capabilities()
            } catch let error as UpstreamError where error.code == .authenticationFailed {
                // The user's password was right: a refused master login is the operator's to
                // fix, not a reason to ask the user for their password again.
                await pool.close()
                throw UpstreamError(.unavailable, "the IMAP server refused the master login (imap.master_user)",
                                    retryAfter: .seconds(300))
            } catch {
                await pool.close()
                throw error
            }
        } else {
            credentials = own
            pool = ownPool
        }
        let session = IMAPMailSession(pool: pool)
        if let old = accounts[user] {
            // The password changed: the old credentials' connections go.
            await (old.mail.session as? IMAPMailSession)?.pool.close()
            await old.mail.watcher?.stop()
        }
        let submitter = route.smtp.map {
            SMTPMailSubmitter(adapter: adapter, endpoint: $0, credentials: .plain(user: resolved.imapUser, password: password))
        }
        let outOfOffice = route.sieve.map {
            ManageSieveOutOfOffice(adapter: adapter, endpoint: $0, user: resolved.imapUser, password: password,
                                   address: resolved.address)
        }
        let mail = MailAccount(user: user, emailAddress: resolved.address, session: session,
                               watcher: adapter.watcher(endpoint: route.imap, credentials: credentials), submitter: submitter,
                               outOfOffice: outOfOffice)
        accounts[user] = Account(credentialDigest: digest, mail: mail)
        return mail
    }
}
