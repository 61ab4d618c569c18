import EASProtocol

/// What one mail domain changes from the global settings (a hosting provider's customer with
/// its own policy); nil keeps the global value.
public struct DomainSettings: Sendable, Hashable {
    /// The domain's own name (not an alias), as metrics label it.
    public var name: String
    /// Replaces the global ceiling for the domain's users (a user's own ceiling still lowers it).
    public var protocolCeiling: EASProtocolVersion?
    /// The provisioning document for the domain's devices (the global one with the domain's
    /// `policy.*` keys applied).
    public var policy: ProvisioningPolicy?
    /// Whether Outlook-like clients that cannot provision are let in.
    public var allowNonProvisionableDevices: Bool?
    /// Partnerships one mailbox may have.
    public var maxDevicesPerUser: Int?
    /// Request budgets per minute ([limits] requests_per_device/user_per_minute).
    public var requestsPerDeviceMinute: Int?
    public var requestsPerUserMinute: Int?

    public init(name: String, protocolCeiling: EASProtocolVersion? = nil, policy: ProvisioningPolicy? = nil,
                allowNonProvisionableDevices: Bool? = nil, maxDevicesPerUser: Int? = nil,
                requestsPerDeviceMinute: Int? = nil, requestsPerUserMinute: Int? = nil) {
        self.name = name.lowercased()
        self.protocolCeiling = protocolCeiling
        self.policy = policy
        self.allowNonProvisionableDevices = allowNonProvisionableDevices
        self.maxDevicesPerUser = maxDevicesPerUser
        self.requestsPerDeviceMinute = requestsPerDeviceMinute
        self.requestsPerUserMinute = requestsPerUserMinute
    }
}

extension GatewayConfiguration {
    /// The lower-cased domain of a login: after its last `@`, else the default domain.
    public func domain(ofUser user: String) -> String? {
        Self.domain(ofUser: user, defaultDomain: defaultDomain)
    }

    /// The lower-cased domain of a login: after its last `@`, else `defaultDomain`.
    public static func domain(ofUser user: String, defaultDomain: String?) -> String? {
        guard let at = user.lastIndex(of: "@") else { return defaultDomain?.lowercased() }
        return user[user.index(after: at)...].lowercased()
    }

    /// The settings of the user's domain, if it has any of its own.
    public func domainSettings(ofUser user: String) -> DomainSettings? {
        domain(ofUser: user).flatMap { domainSettings[$0] }
    }

    /// These settings with the user's domain's values in place of the global ones.
    public func applyingDomain(ofUser user: String) -> GatewayConfiguration {
        guard let domain = domainSettings(ofUser: user) else { return self }
        var applied = self
        if let ceiling = domain.protocolCeiling { applied.protocolCeiling = ceiling }
        if let policy = domain.policy { applied.policy = policy }
        if let allow = domain.allowNonProvisionableDevices { applied.allowNonProvisionableDevices = allow }
        if let limit = domain.maxDevicesPerUser { applied.access.maxDevicesPerUser = limit }
        return applied
    }
}
