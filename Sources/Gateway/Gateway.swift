import EASProtocol
import Logging
import MailUpstream
import SyncState

/// The EAS gateway: answers authenticated requests with the help of the account's mail
/// session and the state store. No HTTP and no IMAP library here; one file per command.
public final class Gateway: Sendable {
    public let configuration: GatewayConfiguration
    public let store: any StateStore
    public let notifier: any ChangeNotifier
    public let codec: any MIMECodec
    let logger: Logger
    public let metrics: GatewayMetrics
    let logs: FolderLogs
    let pings: PingHub
    let syncCache = SyncRequestCache()
    /// Sync requests of one device's collection, one at a time.
    let collectionQueue = CollectionQueue<CollectionRef>()
    /// Initial enumerations' messages fetched ahead of the device's next request.
    let readAheads = EnumerationReadAheads()
    let trackers: AccountTrackers

    public init(configuration: GatewayConfiguration, store: any StateStore, notifier: any ChangeNotifier,
                codec: any MIMECodec, metrics: GatewayMetrics = GatewayMetrics(), logger: Logger = Logger(label: "airgate.gateway")) {
        self.configuration = configuration
        self.metrics = metrics
        self.store = store
        self.notifier = notifier
        self.codec = codec
        self.logger = logger
        self.logs = FolderLogs(store: store, logger: logger)
        self.pings = PingHub()
        self.trackers = AccountTrackers(logs: logs, store: store, node: configuration.nodeName,
                                        pollInterval: configuration.pingPollInterval, quietAfter: configuration.trackerQuietAfter,
                                        leaseDuration: configuration.trackerLease,
                                        registersForMailPush: configuration.registersForMailPush, metrics: metrics, logger: logger)
    }

    /// Answers one request. Throws only `UpstreamError` (the HTTP layer maps it to 401/503) and
    /// state-store failures (503); a malformed body is answered with a status here.
    public func handle(_ request: EASRequest, account: MailAccount) async throws -> EASResponse {
        var traced = false
        let response = try await answer(request, account: account, traced: &traced)
        if traced {
            // Opt-in per device (`airgate devices trace`): the whole exchange, decoded. It holds
            // message contents; that is why it is off unless an admin turns it on.
            logger.info("trace", metadata: [
                "request_xml": .string(request.body?.xml() ?? request.rawBody.map { "(\($0.count) bytes of MIME)" } ?? "(empty)"),
                "response_status": .string(String(response.httpStatus)),
                "response_xml": .string(response.body?.xml() ?? response.rawBodyLength.map { "(\($0) bytes, multipart)" } ?? "(empty)"),
            ])
        }
        return response
    }

    private func answer(_ request: EASRequest, account: MailAccount, traced: inout Bool) async throws -> EASResponse {
        // The user's domain may have its own policy, limits and ceiling.
        let domainConfiguration = configuration.applyingDomain(ofUser: request.user)
        let accountId = try await store.account(named: request.user)
        let ref = DeviceRef(account: accountId, deviceId: request.deviceId)
        var device = try await contact(DeviceContact(
            ref: ref, deviceType: request.deviceType, userAgent: request.userAgent,
            protocolVersion: request.version.rawValue, at: Self.wallClockMilliseconds()))
        let (access, reason) = domainConfiguration.access.decide(device, user: request.user)
        if access != device.accessState || reason != device.accessReason {
            let newlyQuarantined = access == .quarantined && device.accessState != .quarantined
            device.accessState = access
            device.accessReason = reason
            try await store.saveDevice(device)
            if newlyQuarantined { await deliverQuarantineNotice(device, account: account) }
        }
        let context = RequestContext(request: request, account: account, accountId: accountId, device: device, settings: domainConfiguration)
        traced = device.protocolTrace

        // A new partnership beyond the mailbox's limit is not made.
        if device.firstSeen == device.lastSeen, device.policyState == .none,
           try await store.deviceCount(of: accountId) > context.settings.access.maxDevicesPerUser {
            try await store.removeDevice(ref)
            logger.notice("device refused: too many devices", metadata: ["user": "\(request.user)"])
            return accessRefused(context, status: "177")
        }
        // Blocked and quarantined devices get nothing until an admin lets them in
        // (`airgate devices allow` / `quarantine approve`).
        if device.accessState != .allowed {
            return accessRefused(context, status: "129")
        }
        // A pending wipe goes out on the next request that can carry it ([MS-ASPROV] 3.1.5.1.2.1).
        if device.wipeState == .pending, request.command != .ping, request.command != .provision {
            return try await provisionRequired(context)
        }
        if request.command.needsPolicy, !(try await policySatisfied(context)) {
            return try await provisionRequired(context)
        }
        do {
            switch request.command {
            case .provision: return try await provision(context, &device)
            case .folderSync: return try await folderSync(context)
            case .sync: return try await sync(context)
            case .getItemEstimate: return try await getItemEstimate(context)
            case .ping: return try await ping(context)
            case .itemOperations: return try await itemOperations(context)
            case .settings: return try await settings(context)
            case .sendMail: return try await sendMail(context)
            case .moveItems: return try await moveItems(context)
            case .meetingResponse: return try await meetingResponse(context)
            case .find: return try await find(context)
            case .getAttachment: return try await getAttachment(context)
            case .smartReply: return try await smartSend(context, forward: false)
            case .search: return try await search(context)
            case .resolveRecipients: return try await resolveRecipients(context)
            case .folderCreate: return try await folderChange(context, root: EASTag.FolderHierarchy.folderCreate)
            case .folderDelete: return try await folderChange(context, root: EASTag.FolderHierarchy.folderDelete)
            case .folderUpdate: return try await folderChange(context, root: EASTag.FolderHierarchy.folderUpdate)
            case .smartForward: return try await smartSend(context, forward: true)
            default:
                // Commands of later work are refused rather than guessed at.
                return EASResponse(httpStatus: 501)
            }
        } catch let error as UpstreamError where error.code == .mailboxNotFound {
            // A mailbox went away since the client's last FolderSync: it must run one.
            return Self.folderSyncNeeded(request.command)
        }
    }

    /// How stale a device's last-seen time may be before a request writes it again.
    static let lastSeenResolution: Int64 = 60_000

    /// The device a request comes from, with this contact recorded. A device seen within the
    /// last minute, with the same type, user agent and protocol version, is only read: a phone
    /// syncing a large folder sends hundreds of requests a minute, and a write for each would
    /// cost more than the read (the last-seen time is kept to the minute). A device's second
    /// request is always written, so that `firstSeen == lastSeen` means its first one.
    func contact(_ contact: DeviceContact) async throws -> Device {
        if let known = try await store.device(contact.ref), known.lastSeen != known.firstSeen,
           contact.at >= known.lastSeen, contact.at - known.lastSeen < Self.lastSeenResolution,
           known.deviceType == contact.deviceType,
           contact.userAgent.map({ StateLimits.clipped($0) == known.userAgent }) ?? true,
           contact.protocolVersion.map({ $0 == known.protocolVersion }) ?? true {
            return known
        }
        return try await store.recordContact(contact)
    }

    /// The command's "the folder hierarchy changed" answer.
    static func folderSyncNeeded(_ command: EASCommand) -> EASResponse {
        switch command {
        case .ping: .ok(EASElement(EASTag.Ping.ping, children: [EASElement(EASTag.Ping.status, text: "7")]))
        case .sync: .ok(EASElement(EASTag.AirSync.sync, children: [EASElement(EASTag.AirSync.status, text: "12")]))
        case .getItemEstimate:
            .ok(EASElement(EASTag.GetItemEstimate.getItemEstimate, children: [EASElement(EASTag.GetItemEstimate.status, text: "2")]))
        case .itemOperations:
            .ok(EASElement(EASTag.ItemOperations.itemOperations, children: [EASElement(EASTag.ItemOperations.status, text: "3")]))
        default: .ok(EASElement(EASTag.FolderHierarchy.folderSync, children: [EASElement(EASTag.FolderHierarchy.status, text: "9")]))
        }
    }

    /// Dovecot's push notification: new mail in `mailbox` (its name as IMAP shows it) for the
    /// login `user`. Wakes the account's Pings as soon as the log has it; false when this node
    /// does not track the account (IDLE there tells, half a second later).
    public func mailArrived(user: String, mailbox: String) async -> Bool {
        let handled = await trackers.mailArrived(user: user, mailbox: mailbox)
        metrics.mailPush(handled: handled)
        return handled
    }

    /// Stops the account trackers; call when the server shuts down.
    public func shutdown() async {
        await trackers.stopAll()
    }

    /// [MS-ASCMD] 2.2.2 common statuses 129 (device blocked) and 177 (too many devices): in the
    /// command's own body from 14.0 where it has a top-level Status, else HTTP 403.
    func accessRefused(_ context: RequestContext, status: String) -> EASResponse {
        guard context.version >= .v14_0, let root = Self.rootTag(of: context.request.command) else {
            return EASResponse(httpStatus: 403)
        }
        return .ok(EASElement(root.tag, children: [EASElement(root.status, text: status)]))
    }

    static func wallClockMilliseconds() -> Int64 {
        WallClock.milliseconds()
    }
}

/// Everything a command handler needs about the request it answers. A class: every async
/// frame of a request (a held Ping keeps several) holds a reference, not a copy of the
/// request, the device and the settings.
final class RequestContext: Sendable {
    let request: EASRequest
    let account: MailAccount
    let accountId: AccountID
    let device: Device
    /// The gateway's settings with the user's domain's own values applied.
    let settings: GatewayConfiguration

    init(request: EASRequest, account: MailAccount, accountId: AccountID, device: Device, settings: GatewayConfiguration) {
        self.request = request
        self.account = account
        self.accountId = accountId
        self.device = device
        self.settings = settings
    }

    var deviceRef: DeviceRef { device.ref }
    var version: EASProtocolVersion { request.version }
    var session: any MailSession { account.session }
}

#if canImport(Glibc)
import Glibc
#endif
