import SyncState

/// Device access as Exchange has it: personal exemptions (this user's device is always
/// allowed or blocked), then device access rules on DeviceType, model, OS or user agent (the
/// first that matches decides), then the default level; and a limit on devices per mailbox.
public struct DeviceAccessPolicy: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public enum Field: String, Sendable, CaseIterable {
            case type, model, os, agent
        }

        public var access: Device.AccessState
        public var field: Field
        /// A case-insensitive pattern where `*` stands for any run of characters.
        public var pattern: String

        public init(access: Device.AccessState, field: Field, pattern: String) {
            self.access = access
            self.field = field
            self.pattern = pattern
        }

        /// `block model=SM-G900*`: the access, a field, `=`, a pattern.
        public init?(_ text: String) {
            let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, let access = DeviceAccessPolicy.access(named: parts[0]),
                  let equals = parts[1].firstIndex(of: "="),
                  let field = Field(rawValue: parts[1][..<equals].lowercased())
            else { return nil }
            let pattern = String(parts[1][parts[1].index(after: equals)...])
            guard !pattern.isEmpty, pattern.count <= 256 else { return nil }
            self.init(access: access, field: field, pattern: pattern)
        }

        func matches(_ device: Device) -> Bool {
            let value: String?
            switch field {
            case .type: value = device.deviceType
            case .model: value = device.information.model
            case .os: value = device.information.os
            case .agent: value = device.userAgent ?? device.information.userAgent
            }
            guard let value else { return false }
            return DeviceAccessPolicy.wildcard(pattern.lowercased(), matches: value.lowercased())
        }
    }

    public var defaultAccess: Device.AccessState
    public var rules: [Rule]
    /// Per user (lower-cased login) and DeviceId: the access that device always has.
    public var exemptions: [String: [String: Device.AccessState]]
    /// Most devices one mailbox may have; a new device beyond it is refused (status 177).
    public var maxDevicesPerUser: Int
    /// Tell the owner, in their Inbox, when one of their devices is quarantined.
    public var quarantineNotice = true

    public init(defaultAccess: Device.AccessState = .allowed, rules: [Rule] = [],
                exemptions: [String: [String: Device.AccessState]] = [:], maxDevicesPerUser: Int = 100) {
        self.defaultAccess = defaultAccess
        self.rules = rules
        self.exemptions = exemptions
        self.maxDevicesPerUser = maxDevicesPerUser
    }

    /// What the device's access should be now. A decision for this device alone (an admin's
    /// in `airgate devices`) stands; otherwise exemptions, rules, default.
    public func decide(_ device: Device, user: String) -> (Device.AccessState, Device.AccessReason) {
        if let exempt = exemptions[user.lowercased()]?[device.ref.deviceId] { return (exempt, .individual) }
        if device.accessReason == .individual { return (device.accessState, .individual) }
        if let rule = rules.first(where: { $0.matches(device) }) { return (rule.access, .rule) }
        return (defaultAccess, .defaultLevel)
    }

    /// `allow`, `block` or `quarantine` (also as `allowed` …).
    public static func access(named word: String) -> Device.AccessState? {
        switch word.lowercased() {
        case "allow", "allowed": .allowed
        case "block", "blocked": .blocked
        case "quarantine", "quarantined": .quarantined
        default: nil
        }
    }

    /// `*` matches any run of characters; everything else itself.
    static func wildcard(_ pattern: String, matches text: String) -> Bool {
        let pieces = pattern.split(separator: "*", omittingEmptySubsequences: false)
        guard pieces.count > 1 else { return pattern == text }
        var rest = Substring(text)
        guard rest.hasPrefix(pieces[0]) else { return false }
        rest = rest.dropFirst(pieces[0].count)
        for piece in pieces.dropFirst().dropLast() where !piece.isEmpty {
            guard let range = rest.firstRange(of: piece) else { return false }
            rest = rest[range.upperBound...]
        }
        return rest.hasSuffix(pieces.last!)
    }
}
