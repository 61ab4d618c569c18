import EASProtocol
import Gateway
import HTTPTypes
import Hummingbird
import Logging
import MailUpstream
import NIOCore
import SyncState
import WBXML

/// How the HTTP side behaves.
public struct GatewayHTTPConfiguration: Sendable {
    /// Accept Basic credentials over plain HTTP from addresses other than loopback. Off by
    /// default: passwords must not cross a network in clear text.
    public var allowPlainHTTPBasicAuth: Bool
    /// Whether this listener is TLS (then Basic is always fine).
    public var isTLS: Bool
    public var serverName: String
    /// The EAS URL phones are told by Autodiscover; derived from the request's Host otherwise.
    public var publicURL: String?
    /// The IMAP and SMTP endpoints users reach directly, which Autodiscover hands to Outlook
    /// when it asks with the Outlook schema (that schema has no way to name an EAS server).
    public var outlookMailSettings: OutlookMailSettings?
    /// Reverse proxies whose `X-Forwarded-For`/`X-Forwarded-Proto` name the client (for the
    /// failed-login limits per address, the plain-HTTP check and the logs).
    public var trustedProxies: [IPNetwork]
    /// What Autodiscover answers for each configured domain, by every name of the domain
    /// (lower-cased).
    public var autodiscoverDomains: [String: AutodiscoverDomain] = [:]
    /// Whether Autodiscover answers for domains not in `autodiscoverDomains` (with the global
    /// settings): true when logins of any domain have a mail server.
    public var autodiscoverOtherDomains = true
    /// The password Dovecot's push notifications must present (Basic, any user name) at
    /// `PUT /airgate/push/dovecot`; nil: no such endpoint.
    public var mailPushSecret: String?

    public init(allowPlainHTTPBasicAuth: Bool = false, isTLS: Bool = false, serverName: String = "Airgate",
                publicURL: String? = nil, outlookMailSettings: OutlookMailSettings? = nil, trustedProxies: [IPNetwork] = []) {
        self.trustedProxies = trustedProxies
        self.allowPlainHTTPBasicAuth = allowPlainHTTPBasicAuth
        self.isTLS = isTLS
        self.serverName = serverName
        self.publicURL = publicURL
        self.outlookMailSettings = outlookMailSettings
    }
}

/// The Exchange ActiveSync endpoint ([MS-ASHTTP]): `/Microsoft-Server-ActiveSync` in any case,
/// OPTIONS and POST, Basic authentication, both query forms, and the status mapping. Never
/// answers 500: what cannot be served now is 503 with Retry-After.
public struct GatewayResponder: HTTPResponder {
    public typealias Context = EASRequestContext

    let gateway: Gateway
    let authenticator: any AccountAuthenticator
    let cache: CredentialCache
    let configuration: GatewayHTTPConfiguration
    let logger: Logger
    /// What `/readyz` checks: each dependency's name and a check that throws when it is down.
    let readinessChecks: [ReadinessCheck]
    let throttle: Throttle
    /// The Prometheus text `/metrics` serves; nil: no such endpoint.
    let metricsText: (@Sendable () async -> String)?

    public init(gateway: Gateway, authenticator: any AccountAuthenticator, cache: CredentialCache = CredentialCache(),
                configuration: GatewayHTTPConfiguration = GatewayHTTPConfiguration(),
                readinessChecks: [ReadinessCheck] = [], metricsText: (@Sendable () async -> String)? = nil,
                throttle: Throttle = Throttle(),
                logger: Logger = Logger(label: "airgate.http")) {
        self.gateway = gateway
        self.authenticator = authenticator
        self.cache = cache
        self.configuration = configuration
        self.readinessChecks = readinessChecks
        self.throttle = throttle
        self.metricsText = metricsText
        self.logger = logger
    }

    static let wbxmlType = "application/vnd.ms-sync.wbxml"
    static let protocolVersionHeader = HTTPField.Name("MS-ASProtocolVersion")!
    static let protocolVersionsHeader = HTTPField.Name("MS-ASProtocolVersions")!
    static let protocolCommandsHeader = HTTPField.Name("MS-ASProtocolCommands")!
    static let serverHeader = HTTPField.Name("MS-Server-ActiveSync")!
    static let policyKeyHeader = HTTPField.Name("X-MS-PolicyKey")!
    static let acceptMultiPartHeader = HTTPField.Name("MS-ASAcceptMultiPart")!
    static let forwardedForHeader = HTTPField.Name("X-Forwarded-For")!
    static let forwardedProtoHeader = HTTPField.Name("X-Forwarded-Proto")!

    /// Basic credentials that crossed a network in clear text are refused (unless allowed):
    /// refusing keeps clients from sending the password that way again and again.
    func refusesClearTextCredentials(from origin: ClientOrigin) -> Bool {
        !origin.isTLS && !configuration.allowPlainHTTPBasicAuth && !origin.isLoopback
    }

    /// The client behind the request (see `ClientOrigin`).
    func origin(_ request: Request, _ context: Context) -> ClientOrigin {
        ClientOrigin(peer: context.remoteAddress?.ipAddress, forwardedFor: request.headers[values: Self.forwardedForHeader],
                     forwardedProto: request.headers[values: Self.forwardedProtoHeader], connectionIsTLS: configuration.isTLS,
                     trusted: configuration.trustedProxies)
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path.lowercased()
        if path == "/autodiscover/autodiscover.xml", request.method == .post {
            return await autodiscover(request, context: context)
        }
        if path.hasPrefix("/autodiscover/autodiscover.json"), request.method == .get {
            return autodiscoverJSON(request)
        }
        if path == "/healthz", request.method == .get {
            return Self.text(.ok, "ok\n")
        }
        if path == "/readyz", request.method == .get {
            return await readiness()
        }
        if path == "/metrics", request.method == .get, let metricsText {
            var response = Self.text(.ok, await metricsText())
            response.headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return response
        }
        if path == MailPushEndpoint.path, let secret = configuration.mailPushSecret {
            return await mailPush(request, context: context, secret: secret)
        }
        guard path == "/microsoft-server-activesync" || path == "/microsoft-server-activesync/" else {
            return Self.plain(.notFound)
        }
        switch request.method {
        case .options:
            return options(user: Self.basicCredentials(request.headers[.authorization])?.user)
        case .post:
            let started = ContinuousClock.now
            // Parsed once: the log lines, the metrics and the request all use these.
            let query = request.uri.query.flatMap { EASQuery($0) }
            let credentials = Self.basicCredentials(request.headers[.authorization])
            let label = query.map { Self.command(named: $0.command)?.rawValue ?? "unknown" } ?? "none"
            let origin = origin(request, context)
            let metadata: Logger.Metadata = [
                "request": .string(RequestLog.newRequestId()),
                "client": .string(origin.address ?? "-"),
                "user": .string(credentials?.user ?? "-"),
                "device": .string(query.map { String($0.deviceId.prefix(64)) } ?? "-"),
                "command": .string(label),
            ]
            let response = await RequestLog.$metadata.withValue(metadata) {
                await post(request, query: query, credentials: credentials, origin: origin)
            }
            gateway.metrics.request(command: label, status: response.status.code, duration: ContinuousClock.now - started)
            if let user = credentials?.user, let domain = gateway.configuration.domainSettings(ofUser: user) {
                gateway.metrics.domainRequest(domain: domain.name, status: response.status.code)
            }
            return response
        default:
            var response = Self.plain(.methodNotAllowed)
            response.headers[.allow] = "OPTIONS, POST"
            return response
        }
    }

    /// [MS-ASHTTP] 2.2.3: the versions and commands this server has, for the user the Basic
    /// credentials name if any (the list is not a secret: the password is not checked here).
    func options(user: String?) -> Response {
        var headers = HTTPFields()
        headers[Self.serverHeader] = "15.1"
        headers[Self.protocolVersionsHeader] = gateway.configuration.offeredVersions(for: user).map(\.rawValue)
            .joined(separator: ",")
        headers[Self.protocolCommandsHeader] = EASCommand.implemented.map(\.rawValue).joined(separator: ",")
        headers[.allow] = "OPTIONS,POST"
        headers[.contentType] = Self.wbxmlType
        headers[.contentLength] = "0"
        return Response(status: .ok, headers: headers, body: ResponseBody())
    }

    func post(_ request: Request, query: EASQuery?, credentials: (user: String, password: String)?, origin: ClientOrigin) async
        -> Response
    {
        guard let query else { return Self.plain(.badRequest) }
        guard let credentials else { return Self.unauthorized() }
        if refusesClearTextCredentials(from: origin) {
            logger.warning("Basic credentials over plain HTTP from a non-loopback address refused")
            return Self.plain(.forbidden)
        }
        let user = credentials.user
        let version: EASProtocolVersion?
        if let fromQuery = query.version {
            version = fromQuery
        } else if let header = request.headers[Self.protocolVersionHeader] {
            version = EASProtocolVersion(headerValue: header)
        } else {
            version = .v12_1
        }
        guard let version, gateway.configuration.offeredVersions(for: user).contains(version) else { return Self.plain(.badRequest) }
        guard let command = Self.command(named: query.command) else { return Self.plain(.badRequest) }
        guard EASCommand.implemented.contains(command) else { return Self.plain(.notImplemented) }

        let account: MailAccount
        switch await login(credentials, origin: origin) {
        case .success(let known): account = known
        case .failure(let refusal): return refusal.response
        }
        let domain = gateway.configuration.domainSettings(ofUser: user)
        if let (reason, wait) = await throttle.requestRefusal(user: user, deviceId: query.deviceId,
                                                              perDevice: domain?.requestsPerDeviceMinute,
                                                              perUser: domain?.requestsPerUserMinute) {
            return throttled(reason, wait)
        }
        // Android's account check: a login test, not a device ([MS-ASHTTP] has no such id).
        if query.deviceId.lowercased() == "validate" { return Self.wbxml(nil) }

        var body: EASElement?
        var rawBody: [UInt8]?
        do {
            var buffer = try await request.body.collect(upTo: gateway.configuration.maxRequestBytes)
            if command.takesRawBodyBefore14, version < .v14_0 {
                // 12.x SendMail: the body is the MIME message itself (message/rfc822).
                rawBody = buffer.readBytes(length: buffer.readableBytes)
            } else if buffer.readableBytes > 0 {
                body = try EASDecoder.decode(buffer)
            }
        } catch let error as EASDecodingError {
            logger.notice("malformed request body", metadata: ["error": "\(error)", "command": "\(command.rawValue)"])
            return Self.plain(.badRequest)
        } catch {
            return Self.plain(.contentTooLarge)
        }
        let easRequest = EASRequest(
            command: command, user: user, deviceId: query.deviceId, deviceType: query.deviceType,
            userAgent: request.headers[.userAgent], version: version,
            policyKey: query.policyKey ?? request.headers[Self.policyKeyHeader], body: body, parameters: query.parameters,
            acceptsMultipart: request.headers[Self.acceptMultiPartHeader]?.uppercased() == "T"
                || query.parameters["AcceptMultiPart"] == "T",
            rawBody: rawBody)
        if command == .sync {
            guard await throttle.beginSync() else { return throttled(.concurrentSyncs, .seconds(5)) }
        }
        do {
            let response = try await gateway.handle(easRequest, account: account)
            if command == .sync { await throttle.endSync() }
            if response.isBatchOfMore {
                await throttle.uncount(user: user, deviceId: query.deviceId, perDevice: domain?.requestsPerDeviceMinute)
            }
            return try Self.http(response)
        } catch {
            if command == .sync { await throttle.endSync() }
            return failure(error)
        }
    }

    /// 503 with Retry-After: every EAS client waits and tries again.
    func throttled(_ reason: Throttle.Refusal, _ wait: Duration) -> Response {
        gateway.metrics.throttled(reason.rawValue)
        logger.notice("request throttled", metadata: ["reason": "\(reason.rawValue)"])
        return Self.unavailable(seconds: Int(wait.components.seconds) + 1)
    }

    /// The command a `Cmd` value names, in any letter case.
    static func command(named name: String) -> EASCommand? {
        EASCommand(rawValue: name) ?? EASCommand.allCases.first { $0.rawValue.lowercased() == name.lowercased() }
    }

    /// Why a login did not give an account: the answer to send.
    struct LoginRefusal: Error {
        var response: Response
    }

    /// The account for Basic credentials, for EAS and Autodiscover alike: a password proven in
    /// the last minutes comes from the cache; otherwise IMAP decides, unless the throttle
    /// refuses first; failures are counted against user and address.
    func login(_ credentials: (user: String, password: String), origin: ClientOrigin) async -> Result<MailAccount, LoginRefusal> {
        let address = origin.address
        let known = await cache.account(user: credentials.user, password: credentials.password)
        if let (reason, wait) = await throttle.loginRefusal(user: credentials.user, address: address, proven: known != nil) {
            return .failure(LoginRefusal(response: throttled(reason, wait)))
        }
        if let known { return .success(known) }
        do {
            let account = try await authenticator.account(user: credentials.user, password: credentials.password)
            await cache.remember(account, user: credentials.user, password: credentials.password)
            return .success(account)
        } catch {
            if let upstream = error as? UpstreamError, upstream.code == .authenticationFailed {
                await throttle.loginFailed(user: credentials.user, address: address)
            }
            return .failure(LoginRefusal(response: failure(error)))
        }
    }

    /// Upstream and store failures: never a 500.
    func failure(_ error: any Error) -> Response {
        // A wrong password is the user's, not an upstream failure: it is not counted as one.
        if (error as? UpstreamError)?.code != .authenticationFailed {
            gateway.metrics.upstreamError(error is UpstreamError ? "mail" : error is CancellationError ? "cancelled" : "store")
        }
        if let upstream = error as? UpstreamError {
            switch upstream.code {
            case .authenticationFailed:
                return Self.unauthorized()
            case .unavailable, .tlsFailed:
                logger.warning("mail server unavailable", metadata: ["error": "\(upstream)"])
                return Self.unavailable(seconds: Int(upstream.retryAfter?.components.seconds ?? 30))
            default:
                logger.error("mail server refused", metadata: ["error": "\(upstream)"])
                return Self.unavailable(seconds: 30)
            }
        }
        if error is CancellationError { return Self.unavailable(seconds: 5) }
        logger.error("request failed", metadata: ["error": "\(error)"])
        return Self.unavailable(seconds: 30)
    }

    static func http(_ response: EASResponse) throws -> Response {
        if response.httpStatus == 503 { return unavailable(seconds: response.retryAfterSeconds ?? 30) }
        if response.httpStatus != 200 { return plain(HTTPResponse.Status(code: response.httpStatus)) }
        if let raw = response.rawBody, let length = response.rawBodyLength {
            var headers = HTTPFields()
            headers[.contentType] = response.rawBodyType ?? "application/vnd.ms-sync.multipart"
            headers[.contentLength] = String(length)
            // Written piece by piece: the multipart header, the WBXML, then each attachment
            // buffer as the gateway holds it.
            return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: length) { writer in
                for piece in raw { try await writer.write(piece) }
                try await writer.finish(nil)
            })
        }
        return wbxml(try response.body?.wbxml())
    }

    static func wbxml(_ buffer: ByteBuffer?) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = wbxmlType
        headers[.contentLength] = String(buffer?.readableBytes ?? 0)
        return Response(status: .ok, headers: headers, body: buffer.map { ResponseBody(byteBuffer: $0) } ?? ResponseBody())
    }

    static func plain(_ status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = wbxmlType
        headers[.contentLength] = "0"
        return Response(status: status, headers: headers, body: ResponseBody())
    }

    static func unauthorized() -> Response {
        var response = plain(.unauthorized)
        response.headers[.wwwAuthenticate] = "Basic realm=\"Airgate\""
        return response
    }

    static func unavailable(seconds: Int) -> Response {
        var response = plain(.serviceUnavailable)
        response.headers[.retryAfter] = String(max(1, seconds))
        return response
    }

    /// `Basic base64(user:password)` ([RFC 7617]).
    static func basicCredentials(_ header: String?) -> (user: String, password: String)? {
        guard let header, header.count <= 4096 else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic", let decoded = Base64.decode(parts[1]),
              let text = String(validating: decoded, as: UTF8.self), let colon = text.firstIndex(of: ":")
        else { return nil }
        let user = String(text[..<colon])
        let password = String(text[text.index(after: colon)...])
        // Some clients send DOMAIN\user.
        let plainUser = user.split(separator: "\\").last.map(String.init) ?? user
        guard !plainUser.isEmpty, plainUser.utf8.count <= 320, !password.isEmpty else { return nil }
        return (plainUser, password)
    }

}

/// The request context: Hummingbird's core plus the peer's address (for the plain-HTTP check).
public struct EASRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
