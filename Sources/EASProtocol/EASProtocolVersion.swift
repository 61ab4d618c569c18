/// An EAS protocol version, as sent in `MS-ASProtocolVersion` and advertised in
/// `MS-ASProtocolVersions` ([MS-ASHTTP] 2.2.1.1.2.6, 2.2.2.1.2.6).
public enum EASProtocolVersion: String, CaseIterable, Comparable, Sendable, CustomStringConvertible {
    case v2_5 = "2.5"
    case v12_0 = "12.0"
    case v12_1 = "12.1"
    case v14_0 = "14.0"
    case v14_1 = "14.1"
    case v16_0 = "16.0"
    case v16_1 = "16.1"

    /// Parses a header value such as `14.1`; `nil` for versions this project does not know.
    public init?(headerValue: some StringProtocol) {
        self.init(rawValue: headerValue.trimmingWhitespace())
    }

    /// The value as it appears in HTTP headers.
    public var headerValue: String { rawValue }
    public var description: String { rawValue }

    private var order: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.order < rhs.order }

    /// The comma-separated list for `MS-ASProtocolVersions`, for every version up to `ceiling`.
    public static func advertised(upTo ceiling: EASProtocolVersion) -> String {
        allCases.filter { $0 <= ceiling }.map(\.rawValue).joined(separator: ",")
    }

    /// The versions whose Sync collections carry `Class` (2.5, 12.0, 12.1; [MS-ASCMD] 2.2.3.27).
    public var sendsClassInSyncCollection: Bool { self <= .v12_1 }

    /// The versions that answer "provision first" with in-band Status 142–144 rather than HTTP 449
    /// ([MS-ASPROV] 3.2.5.1.1).
    public var usesInBandProvisioningStatus: Bool { self >= .v14_0 }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let scalars = Array(unicodeScalars)
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars[first...last])
        return result
    }
}
