import Gateway
import HTTPTypes
import Hummingbird
import NIOCore

/// The IMAP and SMTP endpoints a desktop client may use directly, as Autodiscover's Outlook
/// schema describes them ([MS-OXDSCLI] 2.2.4.1.1.2, Protocol element of type IMAP and SMTP).
public struct OutlookMailSettings: Sendable, Equatable {
    /// How a mail endpoint is protected, in the words of the Outlook schema's `Encryption` element.
    public enum Security: String, Sendable {
        /// TLS from the first byte (IMAPS 993, SMTPS 465).
        case tls = "SSL"
        /// STARTTLS after connecting.
        case starttls = "TLS"
        case none = "None"
    }

    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var security: Security

        public init(host: String, port: Int, security: Security) {
            self.host = host
            self.port = port
            self.security = security
        }

        /// Parses `host:port[:tls|starttls|plain]`; the default protection is STARTTLS.
        public init?(_ text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, let port = Int(parts[1]), (1...65535).contains(port)
            else { return nil }
            let security: Security
            switch parts.count == 3 ? parts[2].lowercased() : "starttls" {
            case "tls", "ssl": security = .tls
            case "starttls": security = .starttls
            case "plain", "none": security = .none
            default: return nil
            }
            self.init(host: parts[0], port: port, security: security)
        }
    }

    public var imap: Endpoint
    public var smtp: Endpoint

    public init(imap: Endpoint, smtp: Endpoint) {
        self.imap = imap
        self.smtp = smtp
    }
}

/// What Autodiscover tells one domain's users instead of the global settings.
public struct AutodiscoverDomain: Sendable {
    /// The EAS URL for the domain's phones.
    public var publicURL: String?
    /// The IMAP and SMTP endpoints for the domain's Outlook.
    public var outlookMailSettings: OutlookMailSettings?

    public init(publicURL: String? = nil, outlookMailSettings: OutlookMailSettings? = nil) {
        self.publicURL = publicURL
        self.outlookMailSettings = outlookMailSettings
    }
}

/// Autodiscover v1, the plain-old-XML form ([MS-ASCMD] 2.2.1.1 for the mobile-sync schema,
/// [MS-OXDSCLI] for the Outlook schema): after checking the caller's credentials, tells a phone
/// which URL serves EAS, and tells Outlook where the IMAP and SMTP servers are.
extension GatewayResponder {
    static let responseSchema = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
    static let mobileSyncResponseSchema = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
    static let outlookResponseSchema = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
    /// Largest Autodiscover request read.
    static let maxAutodiscoverBytes = 64 * 1024

    func autodiscover(_ request: Request, context: Context) async -> Response {
        guard let credentials = Self.basicCredentials(request.headers[.authorization]) else { return Self.unauthorized() }
        let origin = origin(request, context)
        if refusesClearTextCredentials(from: origin) { return Self.plain(.forbidden) }
        let text: String
        do {
            let buffer = try await request.body.collect(upTo: Self.maxAutodiscoverBytes)
            text = String(decoding: buffer.readableBytesView, as: UTF8.self)
        } catch {
            return Self.plain(.contentTooLarge)
        }
        if case .failure(let refusal) = await login(credentials, origin: origin) { return refusal.response }
        let address = Self.element("EMailAddress", in: text) ?? credentials.user
        // Each domain gets its own answer; a domain nobody here serves, or one that is not the
        // login's own, gets an error, never another domain's settings.
        let served = sameDomain(address, credentials.user) ? servedDomain(of: address) : nil
        switch Self.element("AcceptableResponseSchema", in: text) {
        case Self.mobileSyncResponseSchema?:
            guard let served else {
                return Self.autodiscoverXML(Self.autodiscoverError(code: 601, message: "Provider is not available"))
            }
            return Self.autodiscoverXML(Self.mobileSyncAnswer(address: address, url: easURL(request, domain: served)))
        case Self.outlookResponseSchema?:
            // [MS-OXDSCLI] 2.2.4.1.1.1.3: 500, the address cannot be found.
            guard let served else {
                return Self.autodiscoverXML(Self.autodiscoverError(code: 500, message: "The email address cannot be found."))
            }
            guard let settings = served.outlookMailSettings ?? configuration.outlookMailSettings else {
                return Self.autodiscoverXML(Self.autodiscoverError(code: 601, message: "Provider is not available"))
            }
            return Self.autodiscoverXML(Self.outlookAnswer(address: address, login: credentials.user, settings: settings))
        case nil:
            return Self.autodiscoverXML(Self.autodiscoverError(code: 600, message: "Invalid Request"))
        default:
            return Self.autodiscoverXML(Self.autodiscoverError(code: 601, message: "Provider is not available"))
        }
    }

    /// Whether two logins or addresses belong to one domain (aliases count as their domain);
    /// always true without configured domains.
    func sameDomain(_ first: String, _ second: String) -> Bool {
        let settings = gateway.configuration
        guard !settings.domainSettings.isEmpty else { return true }
        func canonical(_ text: String) -> String? {
            let domain = settings.domain(ofUser: text)
            return domain.flatMap { settings.domainSettings[$0]?.name } ?? domain
        }
        return canonical(first) == canonical(second)
    }

    /// What Autodiscover answers for an address's domain: its own settings, the global ones
    /// (empty) for other domains when those are served, nil when the domain is not served here.
    func servedDomain(of address: String) -> AutodiscoverDomain? {
        let domain = GatewayConfiguration.domain(ofUser: address, defaultDomain: gateway.configuration.defaultDomain)
        if let domain, let own = configuration.autodiscoverDomains[domain] { return own }
        return configuration.autodiscoverOtherDomains ? AutodiscoverDomain() : nil
    }

    /// The URL of this EAS endpoint as a domain's clients reach it: the domain's public URL,
    /// else the global one, else built from the request's Host.
    func easURL(_ request: Request, domain: AutodiscoverDomain = AutodiscoverDomain()) -> String {
        if let configured = domain.publicURL ?? configuration.publicURL { return configured }
        let host = request.head.authority ?? "localhost"
        return "\(configuration.isTLS ? "https" : "http")://\(host)/Microsoft-Server-ActiveSync"
    }

    static func mobileSyncAnswer(address: String, url: String) -> String {
        """
        <?xml version="1.0" encoding="utf-8"?>
        <Autodiscover xmlns="\(responseSchema)">
          <Response xmlns="\(mobileSyncResponseSchema)">
            <Culture>en:us</Culture>
            <User>
              <DisplayName>\(escaped(address))</DisplayName>
              <EMailAddress>\(escaped(address))</EMailAddress>
            </User>
            <Action>
              <Settings>
                <Server>
                  <Type>MobileSync</Type>
                  <Url>\(escaped(url))</Url>
                  <Name>\(escaped(url))</Name>
                </Server>
              </Settings>
            </Action>
          </Response>
        </Autodiscover>

        """
    }

    static func outlookAnswer(address: String, login: String, settings: OutlookMailSettings) -> String {
        func protocolSection(_ type: String, _ endpoint: OutlookMailSettings.Endpoint) -> String {
            """
                  <Protocol>
                    <Type>\(type)</Type>
                    <Server>\(escaped(endpoint.host))</Server>
                    <Port>\(endpoint.port)</Port>
                    <DomainRequired>off</DomainRequired>
                    <LoginName>\(escaped(login))</LoginName>
                    <SPA>off</SPA>
                    <SSL>\(endpoint.security == .none ? "off" : "on")</SSL>
                    <Encryption>\(endpoint.security.rawValue)</Encryption>
                    <AuthRequired>on</AuthRequired>
                  </Protocol>

            """
        }
        return """
            <?xml version="1.0" encoding="utf-8"?>
            <Autodiscover xmlns="\(responseSchema)">
              <Response xmlns="\(outlookResponseSchema)">
                <User>
                  <DisplayName>\(escaped(address))</DisplayName>
                  <AutoDiscoverSMTPAddress>\(escaped(address))</AutoDiscoverSMTPAddress>
                </User>
                <Account>
                  <AccountType>email</AccountType>
                  <Action>settings</Action>
            \(protocolSection("IMAP", settings.imap))\(protocolSection("SMTP", settings.smtp))    </Account>
              </Response>
            </Autodiscover>

            """
    }

    /// The schema-independent error answer ([MS-OXDSCLI] 2.2.4.1.1.1: 600 invalid request,
    /// 601 no provider for the requested schema).
    static func autodiscoverError(code: Int, message: String) -> String {
        """
        <?xml version="1.0" encoding="utf-8"?>
        <Autodiscover xmlns="\(responseSchema)">
          <Response>
            <Error Id="\(UInt32.random(in: 1...UInt32.max))">
              <ErrorCode>\(code)</ErrorCode>
              <Message>\(escaped(message))</Message>
              <DebugData />
            </Error>
          </Response>
        </Autodiscover>

        """
    }

    static func autodiscoverXML(_ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/xml; charset=utf-8"
        headers[.contentLength] = String(text.utf8.count)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// The text of the first `<name>…</name>` (any namespace prefix), unescaped.
    static func element(_ name: String, in xml: String) -> String? {
        guard let open = xml.firstRange(of: name + ">") else { return nil }
        let rest = xml[open.upperBound...]
        guard let close = rest.firstRange(of: "</") else { return nil }
        let value = rest[..<close.lowerBound]
        return String(value).replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
            .replacing("&apos;", with: "'").replacing("&amp;", with: "&").filter { !$0.isWhitespace }
    }

    static func escaped(_ text: String) -> String {
        MarkupEscaping.escaped(text)
    }
}
