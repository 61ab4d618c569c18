import Crypto
import Gateway
import MailUpstream

/// Turns Basic credentials into the account's mail side, checking them against the mail
/// server. Implementations must not keep passwords beyond what connecting needs.
public protocol AccountAuthenticator: Sendable {
    /// Throws `UpstreamError(.authenticationFailed)` for wrong credentials and
    /// `.unavailable` when the server cannot tell.
    func account(user: String, password: String) async throws -> MailAccount
}

/// Remembers successful logins for a short time, as a salted SHA-256 of user and password
/// (never the password, never on disk), so that every request does not cost an IMAP login.
public actor CredentialCache {
    private struct Entry {
        var digest: SHA256Digest
        var account: MailAccount
        var expires: ContinuousClock.Instant
    }

    private let salt: [UInt8]
    private let lifetime: Duration
    private var entries: [String: Entry] = [:]
    /// Logins remembered at most; the oldest are forgotten first.
    public static let capacity = 100_000

    public init(lifetime: Duration = .seconds(300)) {
        var generator = SystemRandomNumberGenerator()
        salt = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        self.lifetime = lifetime
    }

    func digest(_ user: String, _ password: String) -> SHA256Digest {
        var hasher = SHA256()
        hasher.update(data: salt)
        hasher.update(data: Array(user.utf8))
        hasher.update(data: [0])
        hasher.update(data: Array(password.utf8))
        return hasher.finalize()
    }

    /// The remembered account if these exact credentials succeeded recently.
    public func account(user: String, password: String) -> MailAccount? {
        guard let entry = entries[user], entry.expires > .now, entry.digest == digest(user, password) else { return nil }
        return entry.account
    }

    public func remember(_ account: MailAccount, user: String, password: String) {
        if entries.count >= Self.capacity {
            let now = ContinuousClock.now
            entries = entries.filter { $0.value.expires > now }
            if entries.count >= Self.capacity, let oldest = entries.min(by: { $0.value.expires < $1.value.expires })?.key {
                entries[oldest] = nil
            }
        }
        entries[user] = Entry(digest: digest(user, password), account: account, expires: .now + lifetime)
    }

    public func forget(user: String) {
        entries[user] = nil
    }
}
