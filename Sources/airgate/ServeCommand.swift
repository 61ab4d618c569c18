import AirgateServer
import ArgumentParser
import EASProtocol
import Foundation
import Gateway
import GatewayHTTP
import Logging
import MailUpstreamEtPan

/// `airgate serve`: the EAS gateway.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve Exchange ActiveSync in front of an IMAP server.",
        discussion: """
            With --stack-env the IMAP endpoint, its CA file and the mail domain come from the local \
            stack's file (Deploy/.stack/env) and state is kept in SQLite next to it, unless --sqlite \
            or --postgres says otherwise. Plain HTTP is meant for loopback: Basic credentials from \
            other addresses are refused unless --allow-plain-http is given.
            """
    )

    @Option(help: "Read the IMAP endpoint and defaults from this stack file, e.g. Deploy/.stack/env.")
    var stackEnv: String?

    @Option(help: "Address to listen on.")
    var listen: String = "127.0.0.1:8080"

    @Option(help: "IMAP server host (without --stack-env).")
    var imapHost: String?

    @Option(help: "IMAP server port.")
    var imapPort: Int?

    @Option(help: "IMAP protection: tls, starttls or plain.")
    var imapSecurity: String = "starttls"

    @Option(help: "Extra trusted CA file (PEM) for the IMAP server's certificate.")
    var imapCaFile: String?

    @Option(help: "Name to check the IMAP server's certificate against (default: the host).")
    var imapServerName: String?

    @Option(help: "SMTP submission host for SendMail (default: the stack's, or the IMAP host).")
    var smtpHost: String?

    @Option(help: "SMTP submission port (default 587).")
    var smtpPort: Int?

    @Option(help: "SMTP protection: tls, starttls or plain.")
    var smtpSecurity: String = "starttls"

    @Option(help: "ManageSieve host for out-of-office replies (default: the stack's; none: Settings Oof is refused).")
    var sieveHost: String?

    @Option(help: "ManageSieve port (default 4190).")
    var sievePort: Int?

    @Option(help: "ManageSieve protection: tls, starttls or plain.")
    var sieveSecurity: String = "starttls"

    @Option(help: "SQLite state database file.")
    var sqlite: String?

    @Option(help: "PostgreSQL state database URL.")
    var postgres: String?

    @Option(help: "Highest EAS protocol version offered (12.0 … 16.1).")
    var protocolCeiling: String = "16.1"

    @Option(help: "Domain appended to logins without one, for the account's address.")
    var defaultDomain: String?

    @Option(help: "PEM certificate chain for HTTPS (with --tls-key).")
    var tlsCert: String?

    @Option(help: "PEM private key for HTTPS.")
    var tlsKey: String?

    @Option(help: "The EAS URL Autodiscover gives phones, e.g. https://airgate.example.org/Microsoft-Server-ActiveSync.")
    var publicUrl: String?

    @Option(help: "IMAP endpoint Autodiscover gives Outlook, host:port[:tls|starttls|plain] (with --public-smtp).")
    var publicImap: String?

    @Option(help: "SMTP endpoint Autodiscover gives Outlook, host:port[:tls|starttls|plain].")
    var publicSmtp: String?

    @Option(help: "Address book for GAL search and ResolveRecipients: one 'Name <address>' per line.")
    var addressBook: String?

    @Flag(help: "Accept Basic credentials over plain HTTP from non-loopback addresses.")
    var allowPlainHttp = false

    @Flag(help: "Require every device to provision, Outlook included.")
    var requireProvisioning = false

    func run() async throws {
        var values: [String: String] = [:]
        if let stackEnv {
            guard let text = try? String(contentsOfFile: stackEnv, encoding: .utf8) else {
                throw ValidationError("cannot read \(stackEnv); is the stack up (Deploy/stack.sh up)?")
            }
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                values[String(line[..<equals])] = line[line.index(after: equals)...]
                    .trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
            }
        }
        guard let host = imapHost ?? values["IMAP_HOST"] else { throw ValidationError("give --imap-host or --stack-env") }
        guard let security = TransportSecurity(rawValue: imapSecurity) else {
            throw ValidationError("--imap-security must be tls, starttls or plain")
        }
        let defaultPort = security == .implicitTLS ? values["IMAPS_PORT"] ?? "993" : values["IMAP_PORT"] ?? "143"
        guard let port = imapPort ?? Int(defaultPort) else { throw ValidationError("bad IMAP port") }
        guard let ceiling = EASProtocolVersion(headerValue: protocolCeiling) else {
            throw ValidationError("unknown protocol version \(protocolCeiling)")
        }
        let listenParts = listen.split(separator: ":")
        guard listenParts.count == 2, let listenPort = Int(listenParts[1]) else { throw ValidationError("--listen HOST:PORT") }

        let store: ServerConfiguration.Store
        if let postgres {
            store = .postgres(url: postgres)
        } else if let sqlite {
            store = .sqlite(path: sqlite)
        } else if let stackEnv {
            store = .sqlite(path: URL(fileURLWithPath: stackEnv).deletingLastPathComponent().appendingPathComponent("airgate.sqlite").path)
        } else {
            throw ValidationError("give --sqlite FILE or --postgres URL")
        }
        let imap = ServerEndpoint(host: host, port: port, security: security,
                                  caFile: imapCaFile ?? values["TLS_CA_FILE"],
                                  serverName: imapServerName ?? (values.isEmpty ? nil : "localhost"))
        guard let smtpSecurityValue = TransportSecurity(rawValue: smtpSecurity) else {
            throw ValidationError("--smtp-security must be tls, starttls or plain")
        }
        let smtp = ServerEndpoint(host: smtpHost ?? values["SMTP_HOST"] ?? host,
                                  port: smtpPort ?? Int(values["SMTP_PORT"] ?? "") ?? 587, security: smtpSecurityValue,
                                  caFile: imapCaFile ?? values["TLS_CA_FILE"],
                                  serverName: imapServerName ?? (values.isEmpty ? nil : "localhost"))
        var sieve: ServerEndpoint?
        if let sieveHostValue = sieveHost ?? values["SIEVE_HOST"] {
            guard let sieveSecurityValue = TransportSecurity(rawValue: sieveSecurity) else {
                throw ValidationError("--sieve-security must be tls, starttls or plain")
            }
            sieve = ServerEndpoint(host: sieveHostValue, port: sievePort ?? Int(values["SIEVE_PORT"] ?? "") ?? 4190,
                                   security: sieveSecurityValue, caFile: imapCaFile ?? values["TLS_CA_FILE"],
                                   serverName: imapServerName ?? (values.isEmpty ? nil : "localhost"))
        }
        var gateway = GatewayConfiguration(protocolCeiling: ceiling)
        gateway.allowNonProvisionableDevices = !requireProvisioning
        if let addressBook {
            guard let text = try? String(contentsOfFile: addressBook, encoding: .utf8) else {
                throw ValidationError("cannot read the address book \(addressBook)")
            }
            gateway.addressBook = AddressBook(text: text)
        }
        var outlookSettings: OutlookMailSettings?
        switch (publicImap, publicSmtp) {
        case (nil, nil):
            break
        case let (imapText?, smtpText?):
            guard let imapEndpoint = OutlookMailSettings.Endpoint(imapText), let smtpEndpoint = OutlookMailSettings.Endpoint(smtpText) else {
                throw ValidationError("--public-imap and --public-smtp take host:port[:tls|starttls|plain]")
            }
            outlookSettings = OutlookMailSettings(imap: imapEndpoint, smtp: smtpEndpoint)
        default:
            throw ValidationError("--public-imap and --public-smtp go together")
        }
        var configuration = ServerConfiguration(
            host: String(listenParts[0]), port: listenPort, imap: imap, smtp: smtp, sieve: sieve, store: store, gateway: gateway,
            http: GatewayHTTPConfiguration(allowPlainHTTPBasicAuth: allowPlainHttp, publicURL: publicUrl,
                                           outlookMailSettings: outlookSettings),
            defaultDomain: defaultDomain ?? values["MAIL_DOMAIN"])
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        if let tlsCert, let tlsKey { configuration.tls = (tlsCert, tlsKey) }
        var logger = Logger(label: "airgate")
        logger.logLevel = .info
        let scheme = configuration.tls == nil ? "http" : "https"
        try await AirgateServer.run(configuration, logger: logger) { port in
            print("airgate: serving EAS on \(scheme)://\(listenParts[0]):\(port)/Microsoft-Server-ActiveSync")
        }
    }
}
