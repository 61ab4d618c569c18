internal import CEtPan
internal import CEtPanStream
import MailUpstream

#if canImport(Glibc)
import Glibc
#endif

/// One logged-in IMAP connection through libetpan. Every method blocks on the network: call
/// them from the adapter's thread pool, never from an event loop.
///
/// After a stream or parse error the connection is `broken` and must be discarded; after a
/// NO or BAD it stays usable.
final class IMAPConnection: @unchecked Sendable {
    // @unchecked Sendable: libetpan's session is not thread-safe. The pool lends a connection
    // to one task at a time, and that task runs it on one thread at a time. Only `cancel()` may
    // be called concurrently: it writes to the stream driver's self-pipe and sets an atomic.
    private let session: UnsafeMutablePointer<mailimap>
    private let low: OpaquePointer?
    let user: String
    let endpoint: ServerEndpoint
    private(set) var capabilities: Set<String> = []
    private(set) var qresyncEnabled = false
    private(set) var condstoreEnabled = false
    private(set) var selected: (name: String, readOnly: Bool)?
    private(set) var broken = false
    /// Commands sent past libetpan so far (`IMAPConnection+RawCommand`), for their tags.
    var rawCommandCount = 0
    private var closed = false
    /// Capabilities configured away (`IMAPOptions`).
    fileprivate(set) var ignored: Set<String> = []

    private init(session: UnsafeMutablePointer<mailimap>, user: String, endpoint: ServerEndpoint) {
        self.session = session
        self.user = user
        self.endpoint = endpoint
        self.low = OpaquePointer(mailstream_get_low(session.pointee.imap_stream))
    }

    deinit {
        close()
    }

    // MARK: Connecting

    /// Connects, protects the connection as configured, logs in and enables QRESYNC (or
    /// CONDSTORE) when offered.
    static func open(_ endpoint: ServerEndpoint, _ credentials: IMAPCredentials, options: IMAPOptions = IMAPOptions())
        throws -> IMAPConnection
    {
        let session = mailimap_new(0, nil)!
        mailimap_set_timeout(session, time_t(max(1, endpoint.timeoutMilliseconds / 1000)))
        let stream: UnsafeMutablePointer<mailstream>
        do {
            stream = try openStream(endpoint, implicitTLS: endpoint.security == .implicitTLS, service: "IMAP")
        } catch {
            mailimap_free(session)
            throw error
        }
        let greeting = mailimap_connect(session, stream)
        guard greeting == MAILIMAP_NO_ERROR || greeting == MAILIMAP_NO_ERROR_AUTHENTICATED
            || greeting == MAILIMAP_NO_ERROR_NON_AUTHENTICATED
        else {
            // mailimap_connect has closed the stream.
            mailimap_free(session)
            throw UpstreamError(.unavailable, "IMAP \(endpoint.host):\(endpoint.port): no greeting (error \(greeting))")
        }
        let connection = IMAPConnection(session: session, user: credentials.user, endpoint: endpoint)
        connection.ignored = options.ignoredCapabilities
        try connection.refreshCapabilities()
        if endpoint.security == .startTLS {
            try connection.startTLS()
        }
        if greeting != MAILIMAP_NO_ERROR_AUTHENTICATED {
            try connection.logIn(credentials)
        }
        try connection.refreshCapabilities()
        try connection.enableChangeTracking()
        return connection
    }

    /// A TCP connection wrapped in Airgate's stream driver, TLS-protected if asked.
    static func openStream(_ endpoint: ServerEndpoint, implicitTLS: Bool, service: String) throws
        -> UnsafeMutablePointer<mailstream>
    {
        var detail = [CChar](repeating: 0, count: 512)
        let where_ = "\(service) \(endpoint.host):\(endpoint.port)"
        let fd = airgate_tcp_connect(endpoint.host, String(endpoint.port), endpoint.timeoutMilliseconds, &detail,
                                     detail.count)
        guard fd >= 0 else { throw UpstreamError(.unavailable, "\(where_): \(text(detail))") }
        guard let low = airgate_stream_new(fd, endpoint.timeoutMilliseconds) else {
            Glibc.close(fd)
            throw UpstreamError(.unavailable, "\(where_): out of memory")
        }
        if implicitTLS {
            do {
                try startTLS(on: low, endpoint, where_)
            } catch {
                mailstream_low_free(low)
                throw error
            }
        }
        guard let stream = mailstream_new(low, 65536) else {
            mailstream_low_free(low)
            throw UpstreamError(.unavailable, "\(where_): out of memory")
        }
        return stream
    }

    static func startTLS(on low: UnsafeMutablePointer<mailstream_low>, _ endpoint: ServerEndpoint, _ where_: String)
        throws
    {
        var detail = [CChar](repeating: 0, count: 512)
        let result = airgate_stream_start_tls(low, endpoint.serverName ?? endpoint.host, endpoint.caFile,
                                              endpoint.verifyCertificate ? 1 : 0, &detail, detail.count)
        guard result == 0 else {
            throw UpstreamError(.tlsFailed, "\(where_): \(text(detail))")
        }
    }

    private func startTLS() throws {
        guard capabilities.contains("STARTTLS") else {
            throw UpstreamError(.tlsFailed, "IMAP \(endpoint.host):\(endpoint.port) does not offer STARTTLS")
        }
        try check(mailimap_starttls(session), "STARTTLS")
        guard let low = mailstream_get_low(session.pointee.imap_stream) else { throw broke("STARTTLS: no stream") }
        do {
            try Self.startTLS(on: low, endpoint, "IMAP \(endpoint.host):\(endpoint.port)")
        } catch {
            broken = true
            throw error
        }
        // Capabilities seen before TLS cannot be trusted ([RFC 3501] 6.2.1).
        try refreshCapabilities()
    }

    private func logIn(_ credentials: IMAPCredentials) throws {
        guard endpoint.security != .plain || capabilities.contains("LOGINDISABLED") == false else {
            throw UpstreamError(.authenticationFailed, "the server refuses logins without TLS (LOGINDISABLED)")
        }
        let result: Int32
        switch credentials {
        case .login(let user, let password):
            result = mailimap_login(session, user, password)
        case .master(let user, let masterUser, let masterPassword, let separator):
            result = mailimap_login(session, user + separator + masterUser, masterPassword)
        case .plain(let user, let password):
            guard capabilities.contains("AUTH=PLAIN") else {
                throw UpstreamError(.authenticationFailed, "the server does not offer AUTHENTICATE PLAIN")
            }
            guard capabilities.contains("SASL-IR") else {
                result = mailimap_authenticate(session, "PLAIN", endpoint.host, nil, nil, user, user, password, nil)
                break
            }
            // [RFC 4616]: authzid NUL authcid NUL password, sent as an initial response ([RFC 4959]).
            let message = Array("\0\(user)\0\(password)".utf8)
            result = mailimap_custom_command(session, "AUTHENTICATE PLAIN " + Base64.encode(message))
            if result == MAILIMAP_NO_ERROR {
                // libetpan only tracks the state for the logins it sends itself.
                session.pointee.imap_state = Int32(MAILIMAP_STATE_AUTHENTICATED)
            }
        case .xoauth2(let user, let token):
            result = mailimap_oauth2_authenticate(session, user, token)
        }
        guard result == MAILIMAP_NO_ERROR else {
            if result == MAILIMAP_ERROR_STREAM || result == MAILIMAP_ERROR_PARSE {
                throw broke("login: connection lost")
            }
            // The server's text may say why (e.g. [UNAVAILABLE]); it never holds the password.
            if responseCode == "UNAVAILABLE" {
                throw UpstreamError(.unavailable, "login: \(responseText)")
            }
            throw UpstreamError(.authenticationFailed, "login as \(credentials.user) refused: \(responseText)")
        }
    }

    private func enableChangeTracking() throws {
        let wanted = capabilities.contains("QRESYNC") ? "QRESYNC" : capabilities.contains("CONDSTORE") ? "CONDSTORE" : nil
        guard let wanted, capabilities.contains("ENABLE") else {
            condstoreEnabled = capabilities.contains("CONDSTORE")
            return
        }
        let list = clist_new()!
        clist_insert_after(list, list.pointee.last, mailimap_capability_new(Int32(MAILIMAP_CAPABILITY_NAME), nil, cString(wanted)))
        let request = mailimap_capability_data_new(list)
        defer { mailimap_capability_data_free(request) }
        var enabled: UnsafeMutablePointer<mailimap_capability_data>?
        try check(mailimap_enable(session, request, &enabled), "ENABLE \(wanted)")
        defer { if let enabled { mailimap_capability_data_free(enabled) } }
        var names = Set<String>()
        forEach(in: enabled?.pointee.cap_list, as: mailimap_capability.self) { capability in
            if let name = string(capability.pointee.cap_data.cap_name) { names.insert(name.uppercased()) }
        }
        qresyncEnabled = names.contains("QRESYNC")
        // QRESYNC implies CONDSTORE ([RFC 7162] 3.2.3).
        condstoreEnabled = qresyncEnabled || names.contains("CONDSTORE")
    }

    func refreshCapabilities() throws {
        var data: UnsafeMutablePointer<mailimap_capability_data>?
        try check(mailimap_capability(session, &data), "CAPABILITY")
        defer { if let data { mailimap_capability_data_free(data) } }
        var names = Set<String>()
        forEach(in: data?.pointee.cap_list, as: mailimap_capability.self) { capability in
            if Int(capability.pointee.cap_type) == MAILIMAP_CAPABILITY_AUTH_TYPE {
                if let name = string(capability.pointee.cap_data.cap_auth_type) { names.insert("AUTH=" + name.uppercased()) }
            } else if let name = string(capability.pointee.cap_data.cap_name) {
                names.insert(name.uppercased())
            }
        }
        capabilities = names.subtracting(ignored)
    }

    // MARK: Closing and health

    /// Makes every blocked and later call fail at once. Safe from any thread.
    func cancel() {
        if let low { airgate_stream_cancel(UnsafeMutablePointer(low)) }
    }

    /// Logs out if the connection is healthy, then frees it.
    func close() {
        guard !closed else { return }
        closed = true
        if broken {
            // A dead server would hold LOGOUT for the whole timeout.
            cancel()
        } else {
            _ = mailimap_logout(session)
        }
        mailimap_free(session)
    }

    /// NOOP: true if the server still answers.
    func isAlive() -> Bool {
        guard !broken else { return false }
        return (try? check(mailimap_noop(session), "NOOP")) != nil
    }

    // MARK: Errors

    /// The resp-text-code of the last tagged answer (`NONEXISTENT`, `ALREADYEXISTS`, …).
    var responseCode: String? {
        guard let info = session.pointee.imap_response_info else { return nil }
        if info.pointee.rsp_trycreate != 0 { return "TRYCREATE" }
        return string(info.pointee.rsp_atom)?.uppercased()
    }

    var responseText: String {
        string(session.pointee.imap_response) ?? ""
    }

    func markBroken() {
        broken = true
    }

    func broke(_ message: String) -> UpstreamError {
        broken = true
        return UpstreamError(.unavailable, message)
    }

    /// Turns a libetpan result into nothing or a typed error, marking the connection broken
    /// when it can no longer be trusted.
    func check(_ result: Int32, _ command: @autoclosure () -> String) throws {
        switch Int(result) {
        case MAILIMAP_NO_ERROR, MAILIMAP_NO_ERROR_AUTHENTICATED, MAILIMAP_NO_ERROR_NON_AUTHENTICATED:
            return
        case MAILIMAP_ERROR_STREAM, MAILIMAP_ERROR_CONNECTION_REFUSED, MAILIMAP_ERROR_SSL:
            throw broke("\(command()): connection to \(endpoint.host):\(endpoint.port) lost or timed out")
        case MAILIMAP_ERROR_PARSE, MAILIMAP_ERROR_FATAL, MAILIMAP_ERROR_MEMORY, MAILIMAP_ERROR_BAD_STATE:
            broken = true
            if let low, airgate_stream_failed(UnsafeMutablePointer(low)) != 0 {
                // libetpan reports a connection closed mid-response as a parse error.
                throw UpstreamError(.unavailable, "\(command()): connection to \(endpoint.host):\(endpoint.port) lost")
            }
            throw UpstreamError(.protocolError, "\(command()): cannot follow the server (libetpan error \(result))")
        default:
            // The server answered NO or BAD; the connection stays usable.
            throw Self.refusal(code: responseCode, text: responseText, command: command())
        }
    }

    /// The error for a tagged NO or BAD with this resp-text-code (upper-case) and text.
    static func refusal(code: String?, text: String, command: String) -> UpstreamError {
        switch code {
        case "NONEXISTENT", "TRYCREATE":
            UpstreamError(.mailboxNotFound, "\(command): \(text)")
        case "ALREADYEXISTS":
            UpstreamError(.mailboxExists, "\(command): \(text)")
        case "UNAVAILABLE", "INUSE":
            UpstreamError(.unavailable, "\(command): \(text)")
        default:
            UpstreamError(.refused, "\(command): \(text)")
        }
    }

    // MARK: Raw access for the command files

    var rawSession: UnsafeMutablePointer<mailimap> { session }

    /// Remembers what is selected after a SELECT/EXAMINE, or that nothing is.
    func noteSelected(_ name: String?, readOnly: Bool) {
        selected = name.map { ($0, readOnly) }
    }
}

/// Base64 ([RFC 4648] 4) for SASL initial responses.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let n = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
            out += rest == 2 ? [alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")] : [UInt8(ascii: "="), UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
