import EASProtocol

/// What the gateway allows and how it answers; the operator's choices.
public struct GatewayConfiguration: Sendable {
    /// The highest protocol version offered ([MS-ASHTTP] MS-ASProtocolVersions).
    public var protocolCeiling: EASProtocolVersion
    /// The lowest version accepted.
    public var protocolFloor: EASProtocolVersion
    /// The policy sent with Provision.
    public var policy: ProvisioningPolicy
    /// Clients that cannot provision (Outlook desktop) are let through without a policy key.
    public var allowNonProvisionableDevices: Bool
    /// DeviceTypes known not to provision ([MS-ASPROV] 3.2.5.1.1: Outlook does not).
    public var nonProvisionableDeviceTypes: Set<String>
    /// Ping HeartbeatInterval bounds in seconds ([MS-ASCMD] 2.2.3.84).
    public var heartbeatBounds: ClosedRange<Int>
    /// Most folders one Ping may watch ([MS-ASCMD] 2.2.3.100).
    public var maxPingFolders: Int
    /// Bytes of item data one Sync response aims at; one larger item goes alone.
    public var syncResponseBudget: Int
    /// The largest request body accepted.
    public var maxRequestBytes: Int
    /// How often an account's tracker asks the server about folders it cannot watch with IDLE.
    public var pingPollInterval: Duration
    /// An account's tracker stops after this long without a Sync or Ping.
    public var trackerQuietAfter: Duration
    /// How long an account's tracker lease lasts unrenewed: with several nodes on one store, a
    /// stopped node's accounts are tracked elsewhere after at most this long.
    public var trackerLease: Duration = .seconds(60)
    /// Whether trackers ask Dovecot to announce new Inbox mail to `Gateway.mailArrived`
    /// (`push.dovecot_secret` set; docs/deployment.md, "Push from Dovecot").
    public var registersForMailPush = false
    /// This process's name among the nodes sharing the store; random unless set.
    public var nodeName: String = "node-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    /// Who GAL search and ResolveRecipients know besides the account itself.
    public var addressBook: AddressBook = AddressBook(entries: [])
    /// Which devices may sync: exemptions, rules, default level, devices per mailbox.
    public var access = DeviceAccessPolicy()
    /// The domain of logins without `@` (lower-cased).
    public var defaultDomain: String?
    /// Per-domain values, by every name of the domain (lower-cased).
    public var domainSettings: [String: DomainSettings] = [:]

    public init(protocolCeiling: EASProtocolVersion = .v16_1, protocolFloor: EASProtocolVersion = .v12_0,
                policy: ProvisioningPolicy = ProvisioningPolicy(), allowNonProvisionableDevices: Bool = true,
                nonProvisionableDeviceTypes: Set<String> = ["WindowsOutlook15", "WindowsOutlook"],
                heartbeatBounds: ClosedRange<Int> = 60...3540, maxPingFolders: Int = 300,
                syncResponseBudget: Int = 50 * 1024, maxRequestBytes: Int = 48 * 1024 * 1024,
                pingPollInterval: Duration = .seconds(60), trackerQuietAfter: Duration = .seconds(30 * 60)) {
        self.protocolCeiling = protocolCeiling
        self.protocolFloor = protocolFloor
        self.policy = policy
        self.allowNonProvisionableDevices = allowNonProvisionableDevices
        self.nonProvisionableDeviceTypes = nonProvisionableDeviceTypes
        self.heartbeatBounds = heartbeatBounds
        self.maxPingFolders = maxPingFolders
        self.syncResponseBudget = syncResponseBudget
        self.maxRequestBytes = maxRequestBytes
        self.pingPollInterval = pingPollInterval
        self.trackerQuietAfter = trackerQuietAfter
    }

    /// Lower ceilings for some users (lower-cased login), e.g. to keep one user's client on
    /// 14.1 while it misbehaves with 16.x.
    public var protocolCeilingByUser: [String: EASProtocolVersion] = [:]

    /// The versions offered, oldest first.
    public var offeredVersions: [EASProtocolVersion] { offeredVersions(for: nil) }

    /// The versions offered to `user`: up to their domain's ceiling (else the global one),
    /// lowered by their own if set.
    public func offeredVersions(for user: String?) -> [EASProtocolVersion] {
        let domainCeiling = user.flatMap { domainSettings(ofUser: $0)?.protocolCeiling } ?? protocolCeiling
        let ceiling = user.flatMap { protocolCeilingByUser[$0.lowercased()] }.map { Swift.min($0, domainCeiling) } ?? domainCeiling
        return EASProtocolVersion.allCases.filter { $0 >= protocolFloor && $0 <= ceiling }
    }
}

/// The EAS provisioning document ([MS-ASPROV] 2.2.2.27 EASProvisionDoc): what the device
/// must enforce. Defaults ask for nothing, as most IMAP hosters do.
public struct ProvisioningPolicy: Sendable, Hashable {
    public var devicePasswordEnabled = false
    public var alphanumericDevicePasswordRequired = false
    public var minDevicePasswordLength = 4
    public var maxInactivityTimeDeviceLock: Int?
    public var maxDevicePasswordFailedAttempts: Int?
    public var requireDeviceEncryption = false
    public var attachmentsEnabled = true
    public var maxAttachmentSize: Int?
    public var allowHTMLEmail = true
    public var allowCamera = true
    public var allowSimpleDevicePassword = true

    public init() {}
}
