import EASProtocol
import Gateway
import GatewayHTTP
import MailUpstreamEtPan

/// The parts of the settings a `[domain."NAME"]` section can set for itself: its mail servers,
/// login format, Autodiscover answers, policy, limits and features (docs/configuration.md,
/// "Domains"). Top-level `imap.*`, `smtp.*` and `sieve.*` are the fallback for other logins.
extension ServerConfiguration {
    /// One domain section, read.
    struct DomainSection {
        var mail: MailDomain
        var settings: DomainSettings
        var autodiscover: AutodiscoverDomain
    }

    /// The domain sections' names as written in their paths, sorted; two sections whose names
    /// differ only in case are an error.
    static func domainSections(_ file: ConfigurationFile) throws(ConfigurationFile.Failure) -> [String] {
        var byName: [String: (written: String, origin: String)] = [:]
        for (path, entry) in file.entries {
            guard let domain = domainPath(path) else { continue }
            guard isDomainName(domain.name) else {
                throw ConfigurationFile.Failure(description: "\(entry.origin): \(domain.name) is not a domain name")
            }
            let lowered = domain.name.lowercased()
            if let other = byName[lowered], other.written != domain.written {
                throw ConfigurationFile.Failure(description: "\(entry.origin): domain \(lowered) is configured twice "
                                                + "(also at \(other.origin))")
            }
            byName[lowered] = (domain.written, entry.origin)
        }
        return byName.sorted { $0.key < $1.key }.map(\.value.written)
    }

    /// Letters, digits, `-` and dots between labels; at most 253 characters.
    static func isDomainName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy {
                    ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
                }
        }
    }

    /// The mail servers under `prefix` (`""` for the top level, `domain."NAME".` for a domain);
    /// nil when its `imap.host` is not set. A domain takes the CA file, certificate check,
    /// certificate name and timeout from the top level unless it sets its own.
    static func route(_ reader: Reader, prefix: String) throws(ConfigurationFile.Failure) -> MailRoute? {
        func fail(_ text: String) -> ConfigurationFile.Failure { ConfigurationFile.Failure(description: text) }
        guard let imapHost = reader.string(prefix + "imap.host") else { return nil }
        // The top level's, also when it names no server of its own.
        let global = (caFile: reader.string("imap.ca_file"), verify: reader.boolean("imap.verify_certificate"),
                      timeout: try reader.integer("imap.timeout_seconds", in: 1...600), serverName: reader.string("imap.server_name"))
        let imapSecurity = try reader.security(prefix + "imap.security", default: .startTLS)
        let imapPort = try reader.port(prefix + "imap.port", default: imapSecurity == .implicitTLS ? 993 : 143)
        let timeout = Duration.seconds(try reader.integer(prefix + "imap.timeout_seconds", in: 1...600) ?? global.timeout ?? 30)
        let caFile = reader.string(prefix + "imap.ca_file") ?? global.caFile
        let serverName = reader.string(prefix + "imap.server_name") ?? global.serverName
        let verify = reader.boolean(prefix + "imap.verify_certificate") ?? global.verify ?? true
        func endpoint(_ host: String, _ port: Int, _ security: TransportSecurity) -> ServerEndpoint {
            ServerEndpoint(host: host, port: port, security: security, verifyCertificate: verify, caFile: caFile,
                           serverName: serverName, timeout: timeout)
        }
        let imap = endpoint(imapHost, imapPort, imapSecurity)
        let smtpSecurity = try reader.security(prefix + "smtp.security", default: .startTLS)
        var smtp: ServerEndpoint? = endpoint(reader.string(prefix + "smtp.host") ?? imapHost,
                                             try reader.port(prefix + "smtp.port", default: smtpSecurity == .implicitTLS ? 465 : 587),
                                             smtpSecurity)
        var sieve: ServerEndpoint?
        if let sieveHost = reader.string(prefix + "sieve.host") {
            sieve = endpoint(sieveHost, try reader.port(prefix + "sieve.port", default: 4190),
                             try reader.security(prefix + "sieve.security", default: .startTLS))
        }
        if reader.boolean(prefix + "features.send_mail") == false { smtp = nil }
        if reader.boolean(prefix + "features.out_of_office") == false { sieve = nil }

        var master: IMAPMasterLogin?
        switch (reader.string(prefix + "imap.master_user"), reader.string(prefix + "imap.master_password")) {
        case (let user?, let password?):
            let separator = reader.string(prefix + "imap.master_separator") ?? "*"
            guard !user.isEmpty, separator.count == 1 else {
                throw fail("\(reader.origin(prefix + "imap.master_separator")): \(prefix)imap.master_separator is one character")
            }
            master = IMAPMasterLogin(user: user, password: password, separator: separator)
        case (nil, nil): master = nil
        default: throw fail("\(prefix)imap.master_user and \(prefix)imap.master_password go together")
        }
        let login: LoginFormat
        if let text = reader.string(prefix + "login") {
            guard let format = LoginFormat(rawValue: text) else {
                throw fail("\(reader.origin(prefix + "login")): \(prefix)login is address, local_part or as_typed, not \(text)")
            }
            login = format
        } else {
            // A domain's server usually knows its users by address; the single-server setup
            // keeps what users type.
            login = prefix.isEmpty ? .asTyped : .address
        }
        return MailRoute(imap: imap, smtp: smtp, sieve: sieve, master: master, login: login)
    }

    /// One domain section.
    static func domain(_ reader: Reader, written: String, global: ServerConfiguration)
        throws(ConfigurationFile.Failure) -> DomainSection
    {
        func fail(_ text: String) -> ConfigurationFile.Failure { ConfigurationFile.Failure(description: text) }
        let prefix = "domain.\(written)."
        let name = written.filter { $0 != "\"" }.lowercased()
        guard let route = try route(reader, prefix: prefix) else {
            throw fail("domain \(name) has no mail server: set imap.host in its section [domain.\(written)]")
        }
        var aliases: [String] = []
        for alias in reader.strings(prefix + "aliases") {
            guard isDomainName(alias) else { throw fail("\(reader.origin(prefix + "aliases")): \(alias) is not a domain name") }
            aliases.append(alias.lowercased())
        }
        var check: (user: String, password: String)?
        switch (reader.string(prefix + "check.user"), reader.string(prefix + "check.password")) {
        case let (user?, password?):
            // The test account must be one of this domain's: it is logged in here.
            let domainOfUser = GatewayConfiguration.domain(ofUser: user, defaultDomain: reader.string("server.default_domain"))
            guard let domainOfUser, ([name] + aliases).contains(domainOfUser) else {
                throw fail("\(reader.origin(prefix + "check.user")): check.user \(user) is not an address of domain \(name)")
            }
            check = (user, password)
        case (nil, nil): check = nil
        default: throw fail("\(prefix)check.user and \(prefix)check.password go together")
        }
        var settings = DomainSettings(name: name)
        if let text = reader.string(prefix + "eas.protocol_ceiling") {
            guard let ceiling = EASProtocolVersion(headerValue: text), ceiling >= .v12_0 else {
                throw fail("\(reader.origin(prefix + "eas.protocol_ceiling")): eas.protocol_ceiling is one of 12.0, 12.1, 14.0, 14.1, 16.0, 16.1")
            }
            settings.protocolCeiling = ceiling
        }
        if let require = reader.boolean(prefix + "eas.require_provisioning") { settings.allowNonProvisionableDevices = !require }
        if reader.file.entries.keys.contains(where: { $0.hasPrefix(prefix + "policy.") }) {
            settings.policy = try policy(reader, prefix: prefix, base: global.gateway.policy)
        }
        settings.maxDevicesPerUser = try reader.integer(prefix + "access.max_devices_per_user", in: 1...10_000)
        settings.requestsPerDeviceMinute = try reader.integer(prefix + "limits.requests_per_device_per_minute", in: 10...100_000)
        settings.requestsPerUserMinute = try reader.integer(prefix + "limits.requests_per_user_per_minute", in: 10...1_000_000)
        let publicURL = reader.string(prefix + "public_url")
        let autodiscover = AutodiscoverDomain(publicURL: publicURL, outlookMailSettings: try outlookSettings(reader, prefix: prefix))
        let mail = MailDomain(name: name, aliases: aliases, route: route, publicURL: publicURL, checkAccount: check)
        return DomainSection(mail: mail, settings: settings, autodiscover: autodiscover)
    }

    /// `policy.*` under `prefix` over `base`.
    static func policy(_ reader: Reader, prefix: String, base: ProvisioningPolicy) throws(ConfigurationFile.Failure)
        -> ProvisioningPolicy
    {
        var policy = base
        let p = prefix + "policy."
        policy.devicePasswordEnabled = reader.boolean(p + "device_password") ?? policy.devicePasswordEnabled
        policy.alphanumericDevicePasswordRequired = reader.boolean(p + "alphanumeric_password")
            ?? policy.alphanumericDevicePasswordRequired
        policy.minDevicePasswordLength = try reader.integer(p + "min_password_length", in: 1...16) ?? policy.minDevicePasswordLength
        policy.maxInactivityTimeDeviceLock = try reader.integer(p + "max_inactivity_lock_seconds", in: 60...9999)
            ?? policy.maxInactivityTimeDeviceLock
        policy.maxDevicePasswordFailedAttempts = try reader.integer(p + "max_failed_attempts", in: 4...16)
            ?? policy.maxDevicePasswordFailedAttempts
        policy.requireDeviceEncryption = reader.boolean(p + "require_encryption") ?? policy.requireDeviceEncryption
        policy.attachmentsEnabled = reader.boolean(p + "attachments") ?? policy.attachmentsEnabled
        policy.maxAttachmentSize = try reader.integer(p + "max_attachment_size", in: 0...Int(Int32.max)) ?? policy.maxAttachmentSize
        policy.allowHTMLEmail = reader.boolean(p + "html_email") ?? policy.allowHTMLEmail
        policy.allowCamera = reader.boolean(p + "camera") ?? policy.allowCamera
        policy.allowSimpleDevicePassword = reader.boolean(p + "simple_password") ?? policy.allowSimpleDevicePassword
        return policy
    }

    /// `autodiscover.public_imap` and `public_smtp` under `prefix`.
    static func outlookSettings(_ reader: Reader, prefix: String) throws(ConfigurationFile.Failure) -> OutlookMailSettings? {
        let a = prefix + "autodiscover."
        switch (reader.string(a + "public_imap"), reader.string(a + "public_smtp")) {
        case (nil, nil):
            return nil
        case let (imapText?, smtpText?):
            guard let imap = OutlookMailSettings.Endpoint(imapText), let smtp = OutlookMailSettings.Endpoint(smtpText) else {
                throw ConfigurationFile.Failure(description: "\(reader.origin(a + "public_imap")): \(a)public_imap and public_smtp "
                                                + "are HOST:PORT[:tls|starttls|plain]")
            }
            return OutlookMailSettings(imap: imap, smtp: smtp)
        default:
            throw ConfigurationFile.Failure(description: "\(a)public_imap and \(a)public_smtp go together")
        }
    }
}
