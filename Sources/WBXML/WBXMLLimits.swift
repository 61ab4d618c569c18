/// Bounds on what a WBXML body may make the decoder hold. Every number here is controlled by
/// untrusted input, so each has a named default chosen for EAS traffic.
public struct WBXMLLimits: Hashable, Sendable {
    /// The largest body accepted, in bytes. The default leaves room for a SendMail carrying a
    /// 25 MB attachment after base64 expansion.
    public var maxBodySize: Int
    /// The deepest element nesting accepted. EAS documents nest about 12 deep at most
    /// (Provision policies, Find results); the default leaves a wide margin.
    public var maxDepth: Int
    /// The longest `OPAQUE` value accepted, in bytes; checked before its data is waited for.
    public var maxOpaqueLength: Int
    /// The longest inline string accepted, in bytes (an HTML body of a Sync item is the largest).
    public var maxStringLength: Int
    /// The largest string table accepted, in bytes. EAS never uses one.
    public var maxStringTableLength: Int

    public init(
        maxBodySize: Int = WBXMLLimits.defaultMaxBodySize,
        maxDepth: Int = WBXMLLimits.defaultMaxDepth,
        maxOpaqueLength: Int = WBXMLLimits.defaultMaxOpaqueLength,
        maxStringLength: Int = WBXMLLimits.defaultMaxStringLength,
        maxStringTableLength: Int = WBXMLLimits.defaultMaxStringTableLength
    ) {
        self.maxBodySize = maxBodySize
        self.maxDepth = maxDepth
        self.maxOpaqueLength = maxOpaqueLength
        self.maxStringLength = maxStringLength
        self.maxStringTableLength = maxStringTableLength
    }

    public static let defaultMaxBodySize = 48 * 1024 * 1024
    public static let defaultMaxDepth = 48
    public static let defaultMaxOpaqueLength = 48 * 1024 * 1024
    public static let defaultMaxStringLength = 16 * 1024 * 1024
    public static let defaultMaxStringTableLength = 64 * 1024

    /// The defaults.
    public static let `default` = WBXMLLimits()
}
