import Gateway
import MailUpstreamEtPan

/// What the gateway sends to IMAP (and SMTP, ManageSieve) as the login name.
public enum LoginFormat: String, Sendable, Hashable, CaseIterable {
    /// What the user typed (without a `DOMAIN\` prefix).
    case asTyped = "as_typed"
    /// `local@domain`, with the default domain added to a login without one.
    case address
    /// Only the part before `@`: the mail server knows one domain.
    case localPart = "local_part"
}

/// Where one domain's mail lives and how its users log in there.
public struct MailRoute: Sendable, Hashable {
    /// The IMAP server the domain's mailboxes are on (a Dovecot proxy/director counts as one).
    public var imap: ServerEndpoint
    /// Submission for SendMail; nil refuses sending.
    public var smtp: ServerEndpoint?
    /// ManageSieve for out-of-office replies; nil refuses Settings Oof.
    public var sieve: ServerEndpoint?
    /// A Dovecot master login for the account's sessions (after the user's own password was
    /// checked with their own login).
    public var master: IMAPMasterLogin?
    /// What the user's login becomes on these servers.
    public var login: LoginFormat

    public init(imap: ServerEndpoint, smtp: ServerEndpoint? = nil, sieve: ServerEndpoint? = nil, master: IMAPMasterLogin? = nil,
                login: LoginFormat = .asTyped) {
        self.imap = imap
        self.smtp = smtp
        self.sieve = sieve
        self.master = master
        self.login = login
    }
}

/// A mail domain a hosting provider serves: its names and its mail servers.
public struct MailDomain: Sendable {
    /// Lower-cased.
    public var name: String
    /// Other names routed the same way (lower-cased).
    public var aliases: [String]
    /// The domain's mail servers and login format.
    public var route: MailRoute
    /// The EAS URL Autodiscover gives this domain's users; nil: the global one.
    public var publicURL: String?
    /// A test account `airgate domains check` logs in with.
    public var checkAccount: (user: String, password: String)?

    public init(name: String, aliases: [String] = [], route: MailRoute, publicURL: String? = nil,
                checkAccount: (user: String, password: String)? = nil) {
        self.name = name.lowercased()
        self.aliases = aliases.map { $0.lowercased() }
        self.route = route
        self.publicURL = publicURL
        self.checkAccount = checkAccount
    }

    /// The name and the aliases.
    public var names: [String] { [name] + aliases }
}

/// Which mail servers serve which login: the configured domains, and the fallback for logins
/// of any other domain (none: those logins are refused).
public struct MailRoutes: Sendable {
    /// For logins whose domain is not configured, and logins without a domain when no default
    /// domain is set.
    public var fallback: MailRoute?
    public private(set) var domains: [MailDomain] = []
    /// Added to logins without `@` to find their domain and make their address.
    public var defaultDomain: String?
    private var byName: [String: Int] = [:]

    public init(fallback: MailRoute?, domains: [MailDomain] = [], defaultDomain: String? = nil) {
        self.fallback = fallback
        self.defaultDomain = defaultDomain?.lowercased()
        for domain in domains { add(domain) }
    }

    /// Adds a domain; false when one of its names is taken already.
    @discardableResult
    public mutating func add(_ domain: MailDomain) -> Bool {
        guard domain.names.allSatisfy({ byName[$0] == nil }) else { return false }
        for name in domain.names { byName[name] = domains.count }
        domains.append(domain)
        return true
    }

    /// The configured domain a name (or alias) belongs to.
    public func domain(named name: String) -> MailDomain? {
        byName[name.lowercased()].map { domains[$0] }
    }

    /// Where a login goes: the route, the name to log in with there, the account's address
    /// and its configured domain (nil on the fallback). Nil: no server serves it, or the login
    /// is not a plausible one (more than one `@`, control characters). A login with one of a
    /// domain's aliases logs in and gets its address under the domain's own name.
    public func resolve(login typed: String) -> ResolvedLogin? {
        guard typed.count(where: { $0 == "@" }) <= 1, !typed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { return nil }
        let local = typed.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? typed
        let domainName = GatewayConfiguration.domain(ofUser: typed, defaultDomain: defaultDomain)
        let domain = domainName.flatMap { self.domain(named: $0) }
        guard let route = domain?.route ?? fallback else { return nil }
        let address = (domain?.name ?? domainName).map { "\(local)@\($0)" } ?? typed
        let imapUser = switch route.login {
        case .asTyped: typed
        case .address: address
        case .localPart: local
        }
        return ResolvedLogin(route: route, imapUser: imapUser, address: address, domain: domain)
    }

    /// A login's way to its mail server.
    public struct ResolvedLogin: Sendable {
        public var route: MailRoute
        /// The name IMAP, SMTP and ManageSieve are logged in to with.
        public var imapUser: String
        /// The account's address (Settings UserInformation, From of sent mail).
        public var address: String
        /// The configured domain; nil when the fallback serves the login.
        public var domain: MailDomain?
    }
}
