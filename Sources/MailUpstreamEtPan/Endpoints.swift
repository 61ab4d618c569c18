/// How a connection to a mail server is protected.
public enum TransportSecurity: String, Sendable, Hashable, CaseIterable {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    case implicitTLS = "tls"
    /// Plain connection upgraded with STARTTLS before any credential is sent; refused if the
    /// server does not offer it.
    case startTLS = "starttls"
    /// No encryption. Only sensible on loopback.
    case plain = "plain"
}

/// Where a mail server is and how to reach it.
public struct ServerEndpoint: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var security: TransportSecurity
    /// Verify the server's certificate chain and host name (the default).
    public var verifyCertificate: Bool
    /// Extra trusted roots (PEM), added to the system's.
    public var caFile: String?
    /// The name to send as SNI and check the certificate against; defaults to `host`.
    public var serverName: String?
    /// How long one read or write may wait, and the connect timeout.
    public var timeout: Duration

    public init(host: String, port: Int, security: TransportSecurity, verifyCertificate: Bool = true,
                caFile: String? = nil, serverName: String? = nil, timeout: Duration = .seconds(30)) {
        self.host = host
        self.port = port
        self.security = security
        self.verifyCertificate = verifyCertificate
        self.caFile = caFile
        self.serverName = serverName
        self.timeout = timeout
    }

    var timeoutMilliseconds: Int32 {
        let (seconds, attoseconds) = timeout.components
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}

/// How the gateway logs in to IMAP for one account.
public enum IMAPCredentials: Sendable, Hashable {
    /// LOGIN with the user's own password.
    case login(user: String, password: String)
    /// AUTHENTICATE PLAIN with the user's own password ([RFC 4616]).
    case plain(user: String, password: String)
    /// Dovecot master-user login: background work for `user` without their password
    /// (`user*master`, the separator as configured in Dovecot).
    case master(user: String, masterUser: String, masterPassword: String, separator: String = "*")
    /// AUTHENTICATE XOAUTH2 with a bearer token.
    case xoauth2(user: String, token: String)

    /// The mailbox owner these credentials act for.
    public var user: String {
        switch self {
        case .login(let user, _), .plain(let user, _), .xoauth2(let user, _): user
        case .master(let user, _, _, _): user
        }
    }
}

/// How the adapter uses an IMAP server beyond what it advertises.
public struct IMAPOptions: Sendable, Hashable {
    /// Capabilities to act as if the server lacked (e.g. `QRESYNC` on a server whose
    /// implementation is broken). Without QRESYNC and CONDSTORE, changes are found by comparing
    /// UIDs and flags, which costs a full listing per check.
    public var ignoredCapabilities: Set<String>

    public init(ignoredCapabilities: Set<String> = []) {
        self.ignoredCapabilities = Set(ignoredCapabilities.map { $0.uppercased() })
    }
}
