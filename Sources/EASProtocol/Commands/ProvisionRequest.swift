/// [MS-ASPROV] 2.2.2.44 Provision request: asking for a policy, acknowledging one, or
/// acknowledging a remote wipe.
public struct ProvisionRequest: Hashable, Sendable {
    public var policyType: String?
    /// The temporary key being acknowledged, with the client's status for it.
    public var acknowledgedKey: String?
    public var policyStatus: Int?
    /// The status the client reports for a remote wipe it performed.
    public var remoteWipeStatus: Int?
    public var accountOnlyRemoteWipeStatus: Int?
    /// Settings:DeviceInformation sent with the request (14.1+).
    public var deviceInformation: EASElement?

    public init(_ element: EASElement) throws(EASRequestError) {
        try element.expect(EASTag.Provision.provision)
        deviceInformation = element.child(EASTag.Settings.deviceInformation)
        if let policy = element.child(EASTag.Provision.policies)?.child(EASTag.Provision.policy) {
            policyType = policy.text(of: EASTag.Provision.policyType)
            acknowledgedKey = policy.text(of: EASTag.Provision.policyKey)
            policyStatus = try policy.integer(of: EASTag.Provision.status)
        }
        if let wipe = element.child(EASTag.Provision.remoteWipe) {
            remoteWipeStatus = try wipe.integer(of: EASTag.Provision.status)
        }
        if let wipe = element.child(EASTag.Provision.accountOnlyRemoteWipe) {
            accountOnlyRemoteWipeStatus = try wipe.integer(of: EASTag.Provision.status)
        }
    }
}
