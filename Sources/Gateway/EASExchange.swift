import EASProtocol
import MailUpstream
import NIOCore
import SyncState

/// One authenticated EAS request, as the HTTP layer hands it to the gateway.
public struct EASRequest: Sendable {
    public var command: EASCommand
    /// The login the client authenticated with.
    public var user: String
    public var deviceId: String
    public var deviceType: String
    public var userAgent: String?
    public var version: EASProtocolVersion
    /// `X-MS-PolicyKey` (or the base64 form's policy key); nil when absent.
    public var policyKey: String?
    /// The decoded body; nil for an empty body.
    public var body: EASElement?
    /// The body as sent, for the commands whose 12.x form is not WBXML (SendMail's MIME).
    public var rawBody: [UInt8]?
    /// The 12.x query parameters some commands take (`SaveInSent`, `ItemId`, …).
    public var parameters: [String: String]
    /// `MS-ASAcceptMultiPart: T` (or the base64 form's option): ItemOperations may answer in
    /// the multipart form ([MS-ASCMD] 2.2.1.10.1.1).
    public var acceptsMultipart: Bool

    public init(command: EASCommand, user: String, deviceId: String, deviceType: String, userAgent: String? = nil,
                version: EASProtocolVersion, policyKey: String? = nil, body: EASElement? = nil,
                parameters: [String: String] = [:], acceptsMultipart: Bool = false, rawBody: [UInt8]? = nil) {
        self.command = command
        self.user = user
        self.deviceId = deviceId
        self.deviceType = deviceType
        self.userAgent = userAgent
        self.version = version
        self.policyKey = policyKey
        self.body = body
        self.parameters = parameters
        self.acceptsMultipart = acceptsMultipart
        self.rawBody = rawBody
    }
}

/// What the gateway answers; the HTTP layer writes it.
public struct EASResponse: Sendable {
    /// 200, or a [MS-ASHTTP] status: 400, 403, 449, 451, 503.
    public var httpStatus: Int
    /// The body; nil for an empty 200 (an unchanged Sync, a Ping cut short).
    public var body: EASElement?
    /// A body that is not WBXML (ItemOperations multipart, a GetAttachment's bytes), already
    /// encoded, in pieces sent one after another (a large attachment is not copied into one).
    public var rawBody: [ByteBuffer]?
    /// The length of `rawBody`, all pieces together.
    public var rawBodyLength: Int? { rawBody?.reduce(0) { $0 + $1.readableBytes } }
    /// The Content-Type of `rawBody`; nil: the ItemOperations multipart type.
    public var rawBodyType: String?
    /// For 503.
    public var retryAfterSeconds: Int?
    /// A Sync answer that is one batch of more (items sent and MoreAvailable): a phone syncing
    /// a large folder sends hundreds of these a minute, and the HTTP layer does not count them
    /// against the per-device and per-user request rates (up to an allowance).
    public var isBatchOfMore = false

    public init(httpStatus: Int = 200, body: EASElement? = nil, rawBody: [ByteBuffer]? = nil, rawBodyType: String? = nil,
                retryAfterSeconds: Int? = nil) {
        self.httpStatus = httpStatus
        self.body = body
        self.rawBody = rawBody
        self.rawBodyType = rawBodyType
        self.retryAfterSeconds = retryAfterSeconds
    }

    public static func ok(_ body: EASElement?) -> EASResponse { EASResponse(body: body) }
    public static let empty = EASResponse()
    public static func unavailable(after seconds: Int) -> EASResponse {
        EASResponse(httpStatus: 503, retryAfterSeconds: seconds)
    }
}

/// The mail side of one account, for one request: its mail session, watcher and identity.
public struct MailAccount: Sendable {
    public var user: String
    /// The primary SMTP address (Settings UserInformation, From of sent mail).
    public var emailAddress: String
    public var session: any MailSession
    public var watcher: (any MailboxWatcher)?
    /// Where SendMail goes; nil when no submission server is configured.
    public var submitter: (any MailSubmitter)?
    /// The automatic replies (Settings Oof); nil when no Sieve server is configured.
    public var outOfOffice: (any OutOfOfficeService)?

    public init(user: String, emailAddress: String, session: any MailSession, watcher: (any MailboxWatcher)? = nil,
                submitter: (any MailSubmitter)? = nil, outOfOffice: (any OutOfOfficeService)? = nil) {
        self.user = user
        self.emailAddress = emailAddress
        self.session = session
        self.watcher = watcher
        self.submitter = submitter
        self.outOfOffice = outOfOffice
    }
}
