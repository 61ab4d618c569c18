import EASProtocol
import Foundation
import Gateway
import GatewayHTTP
import MailUpstreamEtPan

/// `airgate serve`'s settings from the configuration file, the environment and the command line
/// (docs/configuration.md describes every key). Everything is checked before anything starts:
/// a mistake names the key and where it was set.
extension ServerConfiguration {
    /// Every key, with its type. Anything else in a file is an error (a typo must not pass
    /// silently).
    public static let keys: [String: ConfigurationKind] = [
        "server.listen": .string, "server.public_url": .string, "server.allow_plain_http": .boolean,
        "server.tls_cert": .string, "server.tls_key": .string, "server.default_domain": .string,
        "server.address_book": .string, "server.trusted_proxies": .strings, "server.tls_reload_seconds": .integer,
        "server.idle_timeout_seconds": .integer, "server.min_upload_rate": .integer,
        "imap.host": .string, "imap.port": .integer, "imap.security": .string, "imap.ca_file": .string,
        "imap.server_name": .string, "imap.master_user": .string, "imap.master_password": .string,
        "imap.master_separator": .string, "imap.verify_certificate": .boolean, "imap.timeout_seconds": .integer,
        "imap.threads": .integer, "imap.connections_per_account": .integer, "imap.connections_total": .integer,
        "smtp.host": .string, "smtp.port": .integer, "smtp.security": .string,
        "sieve.host": .string, "sieve.port": .integer, "sieve.security": .string,
        "store.sqlite": .string, "store.postgres": .string,
        "eas.protocol_ceiling": .string, "eas.protocol_ceiling_users": .strings, "eas.require_provisioning": .boolean, "eas.heartbeat_min": .integer,
        "eas.heartbeat_max": .integer, "eas.max_ping_folders": .integer, "eas.sync_response_budget": .integer,
        "eas.max_request_bytes": .integer,
        "policy.device_password": .boolean, "policy.alphanumeric_password": .boolean, "policy.min_password_length": .integer,
        "policy.max_inactivity_lock_seconds": .integer, "policy.max_failed_attempts": .integer,
        "policy.require_encryption": .boolean, "policy.attachments": .boolean, "policy.max_attachment_size": .integer,
        "policy.html_email": .boolean, "policy.camera": .boolean, "policy.simple_password": .boolean,
        "autodiscover.public_imap": .string, "autodiscover.public_smtp": .string,
        "limits.failed_logins_per_user": .integer, "limits.failed_logins_per_address": .integer,
        "limits.failed_login_window_seconds": .integer, "limits.requests_per_device_per_minute": .integer,
        "limits.requests_per_user_per_minute": .integer, "limits.concurrent_syncs": .integer,
        "access.default": .string, "access.rules": .strings, "access.exemptions": .strings,
        "access.max_devices_per_user": .integer, "access.quarantine_notice": .boolean,
        "log.level": .string,
        "cluster.node_name": .string, "cluster.tracker_lease_seconds": .integer, "cluster.folder_poll_seconds": .integer,
        "push.dovecot_secret": .string,
    ]

    /// The keys a `[domain."NAME"]` section may set (docs/configuration.md, "Domains").
    public static let domainKeys: [String: ConfigurationKind] = {
        var domainKeys: [String: ConfigurationKind] = [
            "aliases": .strings, "login": .string, "public_url": .string,
            "check.user": .string, "check.password": .string,
            "features.out_of_office": .boolean, "features.send_mail": .boolean,
        ]
        for (path, kind) in keys where path.hasPrefix("imap.") || path.hasPrefix("smtp.") || path.hasPrefix("sieve.")
            || path.hasPrefix("policy.") || path.hasPrefix("autodiscover.")
        {
            domainKeys[path] = kind
        }
        for path in ["imap.threads", "imap.connections_per_account", "imap.connections_total"] { domainKeys[path] = nil }
        for path in ["eas.protocol_ceiling", "eas.require_provisioning", "access.max_devices_per_user",
                     "limits.requests_per_device_per_minute", "limits.requests_per_user_per_minute"] {
            domainKeys[path] = keys[path]
        }
        return domainKeys
    }()

    /// `domain."NAME".KEY` (or `domain.NAME.KEY`) split into the name as written in the path
    /// (quotes kept), the name itself and the key.
    static func domainPath(_ path: String) -> (written: String, name: String, key: String)? {
        guard path.hasPrefix("domain.") else { return nil }
        let rest = path.dropFirst("domain.".count)
        let written: Substring
        if rest.first == "\"" {
            guard let close = rest.dropFirst().firstIndex(of: "\"") else { return nil }
            written = rest[...close]
        } else {
            written = rest.prefix { $0 != "." }
        }
        let after = rest.dropFirst(written.count)
        guard after.first == ".", after.count > 1 else { return nil }
        return (String(written), String(written.filter { $0 != "\"" }), String(after.dropFirst()))
    }

    /// What a file sets, checked against `keys` (and `domainKeys` in domain sections).
    public static func check(_ file: ConfigurationFile) throws(ConfigurationFile.Failure) {
        for (path, entry) in file.entries {
            let known = domainPath(path).map { domainKeys[$0.key] } ?? keys[path]
            guard let kind = known else {
                throw ConfigurationFile.Failure(description: "\(entry.origin): unknown key \(path)")
            }
            let fits: Bool
            switch (kind, entry.value) {
            case (.string, .string), (.integer, .integer), (.boolean, .boolean): fits = true
            case (.strings, .array(let values)): fits = values.allSatisfy { if case .string = $0 { true } else { false } }
            default: fits = false
            }
            guard fits else { throw ConfigurationFile.Failure(description: "\(entry.origin): \(path) takes \(kind), not \(entry.value)") }
        }
    }

    /// The server configuration the settings describe, with the log level.
    /// Without `requiringStore` (commands that only look at the mail servers), a missing store
    /// is `.memory`.
    public static func make(from file: ConfigurationFile, requiringStore: Bool = true) throws(ConfigurationFile.Failure)
        -> (configuration: ServerConfiguration, logLevel: String)
    {
        try check(file)
        let reader = Reader(file: file)
        func fail(_ text: String) -> ConfigurationFile.Failure { ConfigurationFile.Failure(description: text) }

        let listen = reader.string("server.listen") ?? "127.0.0.1:8080"
        guard let colon = listen.lastIndex(of: ":"), let listenPort = Int(listen[listen.index(after: colon)...]),
              (0...65535).contains(listenPort)
        else { throw fail("\(reader.origin("server.listen")): server.listen is HOST:PORT, not \(listen)") }
        let listenHost = String(listen[..<colon]).trimmingCharacters(in: "[]")

        let domainNames = try domainSections(file)
        let fallback = try route(reader, prefix: "")
        if fallback == nil, domainNames.isEmpty {
            throw fail("imap.host is required (the IMAP server to front); set it in the file, AIRGATE_IMAP_HOST or --imap-host")
        }
        if fallback == nil {
            // Without a top-level server these would be ignored: say so rather than lose them.
            let unused = ["imap.port", "imap.security", "imap.master_user", "imap.master_password", "imap.master_separator",
                          "smtp.host", "smtp.port", "smtp.security", "sieve.host", "sieve.port", "sieve.security"]
            if let path = unused.first(where: { file.entries[$0] != nil }) {
                throw fail("\(reader.origin(path)): \(path) applies to the top-level server, and imap.host is not set; "
                           + "set it in each domain's section instead")
            }
        }

        let store: Store
        switch (reader.string("store.sqlite"), reader.string("store.postgres")) {
        case (let path?, nil): store = .sqlite(path: path)
        case (nil, let url?): store = .postgres(url: url)
        case (nil, nil):
            guard !requiringStore else { throw fail("store.sqlite or store.postgres is required") }
            store = .memory
        default: throw fail("\(reader.origin("store.postgres")): set store.sqlite or store.postgres, not both")
        }

        let ceilingText = reader.string("eas.protocol_ceiling") ?? "16.1"
        guard let ceiling = EASProtocolVersion(headerValue: ceilingText), ceiling >= .v12_0 else {
            throw fail("\(reader.origin("eas.protocol_ceiling")): eas.protocol_ceiling is one of 12.0, 12.1, 14.0, 14.1, 16.0, 16.1")
        }
        var gateway = GatewayConfiguration(protocolCeiling: ceiling)
        for text in reader.strings("eas.protocol_ceiling_users") {
            let parts = text.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, let version = EASProtocolVersion(headerValue: String(parts[1])), version >= .v12_0 else {
                throw fail("\(reader.origin("eas.protocol_ceiling_users")): \"\(text)\" is not USER VERSION (e.g. \"ana@example.org 14.1\")")
            }
            gateway.protocolCeilingByUser[parts[0].lowercased()] = version
        }
        gateway.allowNonProvisionableDevices = !(reader.boolean("eas.require_provisioning") ?? false)
        let heartbeatMin = try reader.integer("eas.heartbeat_min", in: 30...3540) ?? gateway.heartbeatBounds.lowerBound
        let heartbeatMax = try reader.integer("eas.heartbeat_max", in: 60...3540) ?? gateway.heartbeatBounds.upperBound
        guard heartbeatMin <= heartbeatMax else { throw fail("eas.heartbeat_min is above eas.heartbeat_max") }
        gateway.heartbeatBounds = heartbeatMin...heartbeatMax
        gateway.maxPingFolders = try reader.integer("eas.max_ping_folders", in: 1...5000) ?? gateway.maxPingFolders
        gateway.syncResponseBudget = try reader.integer("eas.sync_response_budget", in: 4096...(64 << 20)) ?? gateway.syncResponseBudget
        gateway.maxRequestBytes = try reader.integer("eas.max_request_bytes", in: 65536...(1 << 30)) ?? gateway.maxRequestBytes
        if let name = reader.string("cluster.node_name") {
            guard !name.isEmpty, name.utf8.count <= 64, !name.contains(where: \.isWhitespace) else {
                throw fail("\(reader.origin("cluster.node_name")): cluster.node_name is 1 to 64 characters without spaces")
            }
            gateway.nodeName = name
        }
        if let lease = try reader.integer("cluster.tracker_lease_seconds", in: 3...600) {
            gateway.trackerLease = .seconds(lease)
        }
        if let poll = try reader.integer("cluster.folder_poll_seconds", in: 1...3600) {
            gateway.pingPollInterval = .seconds(poll)
        }
        let policy = try Self.policy(reader, prefix: "", base: gateway.policy)
        gateway.policy = policy
        var access = DeviceAccessPolicy()
        if let level = reader.string("access.default") {
            guard let state = DeviceAccessPolicy.access(named: level) else {
                throw fail("\(reader.origin("access.default")): access.default is allow, block or quarantine")
            }
            access.defaultAccess = state
        }
        for text in reader.strings("access.rules") {
            guard let rule = DeviceAccessPolicy.Rule(text) else {
                throw fail("\(reader.origin("access.rules")): \"\(text)\" is not ACCESS FIELD=PATTERN "
                           + "(allow|block|quarantine, type|model|os|agent)")
            }
            access.rules.append(rule)
        }
        for text in reader.strings("access.exemptions") {
            let words = text.split(separator: " ").map(String.init)
            guard words.count == 3, let state = DeviceAccessPolicy.access(named: words[0]), state != .quarantined else {
                throw fail("\(reader.origin("access.exemptions")): \"\(text)\" is not allow|block USER DEVICEID")
            }
            access.exemptions[words[1].lowercased(), default: [:]][words[2]] = state
        }
        access.maxDevicesPerUser = try reader.integer("access.max_devices_per_user", in: 1...10_000) ?? access.maxDevicesPerUser
        access.quarantineNotice = reader.boolean("access.quarantine_notice") ?? access.quarantineNotice
        gateway.access = access
        if let path = reader.string("server.address_book") {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw fail("\(reader.origin("server.address_book")): cannot read the address book \(path)")
            }
            gateway.addressBook = AddressBook(text: text)
        }

        let outlook = try Self.outlookSettings(reader, prefix: "")
        var proxies: [IPNetwork] = []
        for text in reader.strings("server.trusted_proxies") {
            guard let network = IPNetwork(text) else {
                throw fail("\(reader.origin("server.trusted_proxies")): \"\(text)\" is not an IP address or ADDRESS/PREFIX")
            }
            proxies.append(network)
        }
        var http = GatewayHTTPConfiguration(allowPlainHTTPBasicAuth: reader.boolean("server.allow_plain_http") ?? false,
                                            publicURL: reader.string("server.public_url"), outlookMailSettings: outlook,
                                            trustedProxies: proxies)
        if let secret = reader.string("push.dovecot_secret") {
            guard secret.utf8.count >= 16 else {
                throw fail("\(reader.origin("push.dovecot_secret")): push.dovecot_secret needs at least 16 characters")
            }
            http.mailPushSecret = secret
            gateway.registersForMailPush = true
        }
        var limits = IMAPPoolLimits()
        limits.perAccount = try reader.integer("imap.connections_per_account", in: 1...50) ?? limits.perAccount
        limits.global = try reader.integer("imap.connections_total", in: 1...1_000_000) ?? limits.global
        var configuration = ServerConfiguration(
            host: listenHost, port: listenPort, routes: MailRoutes(fallback: fallback, defaultDomain: reader.string("server.default_domain")),
            store: store, gateway: gateway, http: http, imapThreads: try reader.integer("imap.threads", in: 1...512) ?? 16,
            imapLimits: limits)
        for written in domainNames {
            let domain = try Self.domain(reader, written: written, global: configuration)
            guard configuration.routes.add(domain.mail) else {
                throw fail("\(reader.origin("domain.\(written).aliases")): a name of domain \(domain.mail.name) "
                           + "is already another domain's name or alias")
            }
            for name in domain.mail.names {
                configuration.gateway.domainSettings[name] = domain.settings
                configuration.http.autodiscoverDomains[name] = domain.autodiscover
            }
        }
        configuration.gateway.defaultDomain = configuration.routes.defaultDomain
        configuration.http.autodiscoverOtherDomains = fallback != nil
        switch (reader.string("server.tls_cert"), reader.string("server.tls_key")) {
        case (nil, nil): break
        case let (cert?, key?):
            for path in [cert, key] where !FileManager.default.isReadableFile(atPath: path) {
                throw fail("cannot read \(path) (server.tls_cert / server.tls_key)")
            }
            configuration.tls = (cert, key)
        default: throw fail("server.tls_cert and server.tls_key go together")
        }
        if let seconds = try reader.integer("server.tls_reload_seconds", in: 0...86400) {
            configuration.tlsReloadInterval = seconds == 0 ? nil : .seconds(seconds)
        }
        if let rate = try reader.integer("server.min_upload_rate", in: 0...(1 << 30)) {
            configuration.minimumUploadRate = rate
        }
        if let seconds = try reader.integer("server.idle_timeout_seconds", in: 5...3600) {
            configuration.idleTimeout = .seconds(seconds)
        }
        var limitsConfig = ThrottleLimits()
        limitsConfig.failedLoginsPerUser = try reader.integer("limits.failed_logins_per_user", in: 1...100_000)
            ?? limitsConfig.failedLoginsPerUser
        limitsConfig.failedLoginsPerAddress = try reader.integer("limits.failed_logins_per_address", in: 1...1_000_000)
            ?? limitsConfig.failedLoginsPerAddress
        limitsConfig.failedLoginWindow = .seconds(try reader.integer("limits.failed_login_window_seconds", in: 10...86400) ?? 300)
        limitsConfig.requestsPerDeviceMinute = try reader.integer("limits.requests_per_device_per_minute", in: 10...100_000)
            ?? limitsConfig.requestsPerDeviceMinute
        limitsConfig.requestsPerUserMinute = try reader.integer("limits.requests_per_user_per_minute", in: 10...1_000_000)
            ?? limitsConfig.requestsPerUserMinute
        limitsConfig.concurrentSyncs = try reader.integer("limits.concurrent_syncs", in: 1...1_000_000) ?? limitsConfig.concurrentSyncs
        configuration.limits = limitsConfig
        let level = reader.string("log.level") ?? "info"
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
            throw fail("\(reader.origin("log.level")): log.level is trace, debug, info, notice, warning, error or critical")
        }
        return (configuration, level)
    }

    /// Typed access with range checks; errors name the key and its origin.
    struct Reader {
        let file: ConfigurationFile

        func origin(_ path: String) -> String { file.entries[path]?.origin ?? path }

        func string(_ path: String) -> String? {
            guard case .string(let text)? = file.entries[path]?.value, !text.isEmpty else { return nil }
            return text
        }

        func strings(_ path: String) -> [String] {
            guard case .array(let values)? = file.entries[path]?.value else { return [] }
            return values.compactMap { if case .string(let text) = $0 { text } else { nil } }
        }

        func boolean(_ path: String) -> Bool? {
            guard case .boolean(let flag)? = file.entries[path]?.value else { return nil }
            return flag
        }

        func integer(_ path: String, in range: ClosedRange<Int>) throws(ConfigurationFile.Failure) -> Int? {
            guard case .integer(let number)? = file.entries[path]?.value else { return nil }
            guard range.contains(number) else {
                throw ConfigurationFile.Failure(description: "\(origin(path)): \(path) must be in \(range.lowerBound)…\(range.upperBound)")
            }
            return number
        }

        func port(_ path: String, default value: Int) throws(ConfigurationFile.Failure) -> Int {
            try integer(path, in: 1...65535) ?? value
        }

        func security(_ path: String, default value: TransportSecurity) throws(ConfigurationFile.Failure) -> TransportSecurity {
            guard let text = string(path) else { return value }
            guard let security = TransportSecurity(rawValue: text) else {
                throw ConfigurationFile.Failure(description: "\(origin(path)): \(path) is tls, starttls or plain, not \(text)")
            }
            return security
        }
    }
}
