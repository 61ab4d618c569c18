/// Everything the gateway remembers about one device.
public struct Device: Hashable, Sendable {
    /// Provisioning state ([MS-ASPROV] 3.1.5.1): a temporary key is handed out with the policy,
    /// the final key once the client acknowledged it.
    public enum PolicyState: String, Hashable, Sendable, CaseIterable {
        case none, temporary, final
    }

    /// Remote wipe: requested by an admin, sent with the next non-Ping request, acknowledged by
    /// the client ([MS-ASPROV] 3.1.5.2).
    public enum WipeState: String, Hashable, Sendable, CaseIterable {
        case none, pending, sent, acknowledged
    }

    /// Device access as in Exchange: quarantined devices wait for an admin.
    public enum AccessState: String, Hashable, Sendable, CaseIterable {
        case allowed, blocked, quarantined
    }

    /// Why the device has its access state, as Exchange records it: the default level, a
    /// device access rule, or a decision for this device alone (an admin's, or a personal
    /// exemption in the configuration), which rules never override.
    public enum AccessReason: String, Hashable, Sendable, CaseIterable {
        case defaultLevel = "default"
        case rule
        case individual
    }

    public var ref: DeviceRef
    public var deviceType: String
    public var userAgent: String?
    /// From Settings DeviceInformation ([MS-ASCMD] 2.2.3.48).
    public var information: DeviceInformation
    /// The `MS-ASProtocolVersion` of the last request, e.g. `16.1`.
    public var protocolVersion: String?
    /// Milliseconds since 1970.
    public var firstSeen: Int64
    public var lastSeen: Int64
    public var policyKey: String?
    public var policyState: PolicyState
    public var wipeState: WipeState
    /// 16.1 account-only wipe rather than a whole-device wipe.
    public var wipeAccountOnly: Bool
    public var accessState: AccessState
    public var accessReason: AccessReason
    /// Log this device's requests and answers, decoded (an admin's switch; off by default).
    public var protocolTrace: Bool
    /// The last Ping's interval and folders, reused by an empty Ping ([MS-ASCMD] 2.2.3.138).
    public var pingHeartbeat: Int?
    public var pingFolderIds: [String]

    public init(ref: DeviceRef, deviceType: String, firstSeen: Int64) {
        self.ref = ref
        self.deviceType = deviceType
        self.information = DeviceInformation()
        self.firstSeen = firstSeen
        self.lastSeen = firstSeen
        self.policyState = .none
        self.wipeState = .none
        self.wipeAccountOnly = false
        self.accessState = .allowed
        self.accessReason = .defaultLevel
        self.protocolTrace = false
        self.pingFolderIds = []
    }
}

/// What a client tells about itself in Settings DeviceInformation Set.
public struct DeviceInformation: Hashable, Sendable, Codable {
    public var model: String?
    public var imei: String?
    public var friendlyName: String?
    public var os: String?
    public var osLanguage: String?
    public var phoneNumber: String?
    public var mobileOperator: String?
    public var userAgent: String?

    public init(model: String? = nil, imei: String? = nil, friendlyName: String? = nil, os: String? = nil,
                osLanguage: String? = nil, phoneNumber: String? = nil, mobileOperator: String? = nil,
                userAgent: String? = nil) {
        self.model = model
        self.imei = imei
        self.friendlyName = friendlyName
        self.os = os
        self.osLanguage = osLanguage
        self.phoneNumber = phoneNumber
        self.mobileOperator = mobileOperator
        self.userAgent = userAgent
    }
}

/// What a request tells about its device: recorded on every request.
public struct DeviceContact: Hashable, Sendable {
    public var ref: DeviceRef
    public var deviceType: String
    public var userAgent: String?
    public var protocolVersion: String?
    /// Milliseconds since 1970.
    public var at: Int64

    public init(ref: DeviceRef, deviceType: String, userAgent: String?, protocolVersion: String?, at: Int64) {
        self.ref = ref
        self.deviceType = deviceType
        self.userAgent = userAgent
        self.protocolVersion = protocolVersion
        self.at = at
    }
}
