import AirgateServer
import ArgumentParser
import Gateway
import Foundation
import Logging

/// `airgate serve`: the EAS gateway.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve Exchange ActiveSync in front of an IMAP server.",
        discussion: """
            Settings come from, in rising order of precedence: the local stack's file (--stack-env \
            Deploy/.stack/env: its IMAP, SMTP and ManageSieve endpoints, CA file, mail domain, and \
            SQLite state next to it), the configuration file (--config, docs/configuration.md), \
            AIRGATE_* environment variables (AIRGATE_IMAP_HOST for imap.host) and the options \
            below. Plain HTTP is meant for loopback: Basic credentials from other addresses are \
            refused unless --allow-plain-http is given.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @Option(help: "Address to listen on (server.listen, default 127.0.0.1:8080).")
    var listen: String?

    @Option(help: "IMAP server host (imap.host).")
    var imapHost: String?

    @Option(help: "IMAP server port (imap.port).")
    var imapPort: Int?

    @Option(help: "IMAP protection: tls, starttls or plain (imap.security).")
    var imapSecurity: String?

    @Option(help: "Extra trusted CA file (PEM) for the mail servers' certificates (imap.ca_file).")
    var imapCaFile: String?

    @Option(help: "Name to check the mail servers' certificates against (imap.server_name).")
    var imapServerName: String?

    @Option(help: "SMTP submission host for SendMail (smtp.host, default the IMAP host).")
    var smtpHost: String?

    @Option(help: "SMTP submission port (smtp.port, default 587).")
    var smtpPort: Int?

    @Option(help: "SMTP protection: tls, starttls or plain (smtp.security).")
    var smtpSecurity: String?

    @Option(help: "ManageSieve host for out-of-office replies (sieve.host; none: Settings Oof is refused).")
    var sieveHost: String?

    @Option(help: "ManageSieve port (sieve.port, default 4190).")
    var sievePort: Int?

    @Option(help: "ManageSieve protection: tls, starttls or plain (sieve.security).")
    var sieveSecurity: String?

    @Option(help: "SQLite state database file (store.sqlite).")
    var sqlite: String?

    @Option(help: "PostgreSQL state database URL (store.postgres).")
    var postgres: String?

    @Option(help: "Highest EAS protocol version offered, 12.0 … 16.1 (eas.protocol_ceiling).")
    var protocolCeiling: String?

    @Option(help: "Domain appended to logins without one, for the account's address (server.default_domain).")
    var defaultDomain: String?

    @Option(help: "PEM certificate chain for HTTPS, with --tls-key (server.tls_cert).")
    var tlsCert: String?

    @Option(help: "PEM private key for HTTPS (server.tls_key).")
    var tlsKey: String?

    @Option(help: "The EAS URL Autodiscover gives phones (server.public_url).")
    var publicUrl: String?

    @Option(help: "IMAP endpoint Autodiscover gives Outlook, host:port[:tls|starttls|plain] (autodiscover.public_imap).")
    var publicImap: String?

    @Option(help: "SMTP endpoint Autodiscover gives Outlook (autodiscover.public_smtp).")
    var publicSmtp: String?

    @Option(help: "Address book for GAL search and ResolveRecipients (server.address_book).")
    var addressBook: String?

    @Flag(help: "Accept Basic credentials over plain HTTP from non-loopback addresses (server.allow_plain_http).")
    var allowPlainHttp = false

    @Flag(help: "Require every device to provision, Outlook included (eas.require_provisioning).")
    var requireProvisioning = false

    func run() async throws {
        var file = try settings.load()
        // (key, option, value given): the option is named in error messages.
        let flags: [(String, String, ConfigurationFile.Value?)] = [
            ("server.listen", "--listen", listen.map { .string($0) }), ("imap.host", "--imap-host", imapHost.map { .string($0) }),
            ("imap.port", "--imap-port", imapPort.map { .integer($0) }),
            ("imap.security", "--imap-security", imapSecurity.map { .string($0) }),
            ("imap.ca_file", "--imap-ca-file", imapCaFile.map { .string($0) }),
            ("imap.server_name", "--imap-server-name", imapServerName.map { .string($0) }),
            ("smtp.host", "--smtp-host", smtpHost.map { .string($0) }), ("smtp.port", "--smtp-port", smtpPort.map { .integer($0) }),
            ("smtp.security", "--smtp-security", smtpSecurity.map { .string($0) }),
            ("sieve.host", "--sieve-host", sieveHost.map { .string($0) }), ("sieve.port", "--sieve-port", sievePort.map { .integer($0) }),
            ("sieve.security", "--sieve-security", sieveSecurity.map { .string($0) }),
            ("eas.protocol_ceiling", "--protocol-ceiling", protocolCeiling.map { .string($0) }),
            ("server.default_domain", "--default-domain", defaultDomain.map { .string($0) }),
            ("server.tls_cert", "--tls-cert", tlsCert.map { .string($0) }), ("server.tls_key", "--tls-key", tlsKey.map { .string($0) }),
            ("server.public_url", "--public-url", publicUrl.map { .string($0) }),
            ("autodiscover.public_imap", "--public-imap", publicImap.map { .string($0) }),
            ("autodiscover.public_smtp", "--public-smtp", publicSmtp.map { .string($0) }),
            ("server.address_book", "--address-book", addressBook.map { .string($0) }),
            ("server.allow_plain_http", "--allow-plain-http", allowPlainHttp ? .boolean(true) : nil),
            ("eas.require_provisioning", "--require-provisioning", requireProvisioning ? .boolean(true) : nil),
        ]
        for (path, option, value) in flags {
            if let value { file.set(path, value, origin: option) }
        }
        // One store from the command line replaces the other from below.
        if sqlite != nil || postgres != nil {
            file.removeStore()
            if let sqlite { file.set("store.sqlite", .string(sqlite), origin: "--sqlite") }
            if let postgres { file.set("store.postgres", .string(postgres), origin: "--postgres") }
        }
        let (configuration, level): (ServerConfiguration, String)
        do {
            (configuration, level) = try ServerConfiguration.make(from: file)
        } catch {
            throw ValidationError(error.description)
        }
        var logger = Logger(label: "airgate", metadataProvider: RequestLog.provider)
        logger.logLevel = Logger.Level(rawValue: level) ?? .info
        // SIGHUP (systemctl reload) reads the HTTPS certificate again, e.g. after a renewal.
        signal(SIGHUP, SIG_IGN)
        let hangUp = DispatchSource.makeSignalSource(signal: SIGHUP)
        hangUp.setEventHandler { TLSCertificateReloader.reloadEverywhere() }
        hangUp.resume()
        defer { hangUp.cancel() }
        let scheme = configuration.tls == nil ? "http" : "https"
        let host = configuration.host
        try await AirgateServer.run(configuration, logger: logger) { port in
            print("airgate: serving EAS on \(scheme)://\(host):\(port)/Microsoft-Server-ActiveSync")
            // Seen at once by whoever reads a pipe (a supervisor, a test), not when a buffer fills.
            fflush(nil)
        }
    }
}

/// Where settings come from, for every command that needs them: the stack file, the
/// configuration file, and the environment.
struct SettingsOptions: ParsableArguments {
    @Option(help: "Start from the local stack's settings, e.g. Deploy/.stack/env.")
    var stackEnv: String?

    @Option(help: "The configuration file (docs/configuration.md).")
    var config: String?

    /// Stack file, then configuration file, then AIRGATE_* variables, each over the one before.
    func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ConfigurationFile {
        try Self.load(stackEnv: stackEnv, config: config, environment: environment)
    }

    static func load(stackEnv: String?, config: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> ConfigurationFile
    {
        var file = ConfigurationFile()
        do {
            if let stackEnv { file = try Self.stackSettings(stackEnv) }
            if let config {
                guard let text = try? String(contentsOfFile: config, encoding: .utf8) else {
                    throw ValidationError("cannot read the configuration file \(config)")
                }
                let parsed = try ConfigurationFile(text: text, name: config)
                try ServerConfiguration.check(parsed)
                // A store chosen in the file replaces the stack's SQLite.
                if parsed.entries.keys.contains(where: { $0.hasPrefix("store.") }) { file.removeStore() }
                for (path, entry) in parsed.entries { file.set(path, entry.value, origin: entry.origin) }
            }
            if environment["AIRGATE_STORE_SQLITE"] != nil || environment["AIRGATE_STORE_POSTGRES"] != nil { file.removeStore() }
            try file.applyEnvironment(environment, known: ServerConfiguration.keys)
        } catch let failure as ConfigurationFile.Failure {
            throw ValidationError(failure.description)
        }
        return file
    }

    /// The stack file (KEY=value lines) as settings: the endpoints of its Dovecot and Postfix,
    /// its CA, its mail domain, and SQLite state beside it.
    static func stackSettings(_ path: String) throws -> ConfigurationFile {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("cannot read \(path); is the stack up (Deploy/stack.sh up)?")
        }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = line[line.index(after: equals)...].trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        }
        var file = ConfigurationFile()
        func set(_ key: String, _ value: ConfigurationFile.Value?) {
            if let value { file.set(key, value, origin: path) }
        }
        set("imap.host", values["IMAP_HOST"].map { .string($0) })
        set("imap.port", values["IMAP_PORT"].flatMap(Int.init).map { .integer($0) })
        set("imap.ca_file", values["TLS_CA_FILE"].map { .string($0) })
        set("imap.server_name", .string("localhost"))
        set("smtp.host", values["SMTP_HOST"].map { .string($0) })
        set("smtp.port", values["SMTP_PORT"].flatMap(Int.init).map { .integer($0) })
        set("sieve.host", values["SIEVE_HOST"].map { .string($0) })
        set("sieve.port", values["SIEVE_PORT"].flatMap(Int.init).map { .integer($0) })
        set("server.default_domain", values["MAIL_DOMAIN"].map { .string($0) })
        set("store.sqlite", .string(URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("airgate.sqlite").path))
        return file
    }
}
