/// A set of IMAP UIDs as ranges ([RFC 3501] 9 `sequence-set`), as VANISHED and UIDPLUS
/// report them. Kept sorted and merged; never expanded unless asked, since a server can name
/// billions of UIDs in a few bytes (`1:4294967295`).
public struct UIDSet: Hashable, Sendable, CustomStringConvertible {
    /// Sorted, non-overlapping, non-adjacent ranges.
    public private(set) var ranges: [ClosedRange<UInt32>]

    /// The most ranges a parsed set may have; longer input is refused.
    public static let defaultMaxRanges = 100_000

    public init(_ ranges: some Sequence<ClosedRange<UInt32>> = []) {
        self.ranges = Self.normalised(Array(ranges))
    }

    public init(uids: some Sequence<UInt32>) {
        self.init(uids.map { $0...$0 })
    }

    /// Parses `1:5,7,12:10` (either order within a range). `*` is refused: VANISHED and
    /// UIDPLUS never send it. UID 0 is invalid.
    public init?(parsing text: some StringProtocol, maxRanges: Int = defaultMaxRanges) {
        var parsed: [ClosedRange<UInt32>] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard parsed.count < maxRanges else { return nil }
            let bounds = item.split(separator: ":", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count),
                let first = UInt32(bounds[0]), first > 0,
                let last = bounds.count == 2 ? UInt32(bounds[1]) : first, last > 0
            else { return nil }
            parsed.append(min(first, last)...max(first, last))
        }
        self.init(parsed)
    }

    public var isEmpty: Bool { ranges.isEmpty }

    /// How many UIDs the set names.
    public var count: UInt64 { ranges.reduce(0) { $0 + UInt64($1.upperBound - $1.lowerBound) + 1 } }

    public func contains(_ uid: UInt32) -> Bool {
        var low = 0
        var high = ranges.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if ranges[middle].contains(uid) { return true }
            if uid < ranges[middle].lowerBound { high = middle - 1 } else { low = middle + 1 }
        }
        return false
    }

    /// The part of the set below `limit` (exclusive): what can refer to messages a client knows
    /// when `limit` is the UIDNEXT it last saw.
    public func below(_ limit: UInt32) -> UIDSet {
        guard limit > 1 else { return UIDSet() }
        return UIDSet(ranges.compactMap { range in
            range.lowerBound < limit ? range.lowerBound...min(range.upperBound, limit - 1) : nil
        })
    }

    /// Every UID, in order. Use `count` first: this is as long as the set says.
    public var uids: [UInt32] { ranges.flatMap { Array($0) } }

    public var description: String {
        ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound):\($0.upperBound)" }
            .joined(separator: ",")
    }

    private static func normalised(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var merged: [ClosedRange<UInt32>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, UInt64(range.lowerBound) <= UInt64(last.upperBound) + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}
