/// [MS-ASCMD] 2.2.1.16 Search request, Mailbox and GAL stores.
public struct SearchRequest: Hashable, Sendable {
    public var store: String
    /// Free text to look for (FreeText for Mailbox, Query text for GAL).
    public var text: String?
    public var collectionIds: [String]
    /// `GreaterThan`/`LessThan` on `Email:DateReceived`, as sent (ISO 8601).
    public var receivedAfter: String?
    public var receivedBefore: String?
    /// `Options > Range`, e.g. 0-99.
    public var range: ClosedRange<Int>
    public var bodyPreferences: [BodyPreference]

    /// Longest range answered at once.
    public static let maxRangeLength = 100

    public init(_ element: EASElement) throws(EASRequestError) {
        typealias S = EASTag.Search
        try element.expect(S.search)
        guard let store = element.child(S.store) else { throw EASRequestError("Search without Store") }
        self.store = store.text(of: S.name) ?? ""
        let query = store.child(S.query)
        collectionIds = []
        if self.store.lowercased() == "gal" {
            text = query?.text
        } else {
            let and = query?.child(S.and) ?? query
            text = and?.text(of: S.freeText)
            collectionIds = and?.children(EASTag.AirSync.collectionId).compactMap(\.text) ?? []
            receivedAfter = and?.child(S.greaterThan)?.text(of: S.value)
            receivedBefore = and?.child(S.lessThan)?.text(of: S.value)
        }
        var range = 0...(Self.maxRangeLength - 1)
        var preferences: [BodyPreference] = []
        if let options = store.child(S.options) {
            if let text = options.text(of: S.range) { range = try Self.range(text) }
            for preference in options.children(EASTag.AirSyncBase.bodyPreference) {
                preferences.append(try BodyPreference(preference))
            }
        }
        self.range = range
        bodyPreferences = preferences
        if let text, text.utf8.count > 1024 { throw EASRequestError("search text too long") }
    }

    /// `first-last` ([MS-ASCMD] 2.2.3.143), cut to `maxRangeLength` results.
    public static func range(_ text: String) throws(EASRequestError) -> ClosedRange<Int> {
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { Int(trimmed(String($0))) ?? -1 }
        // A start beyond any result list is refused: it also keeps "start + length" and
        // "last + 1" far from Int.max.
        guard bounds.count == 2, bounds[0] >= 0, bounds[0] <= bounds[1], bounds[0] <= maxRangeStart else {
            throw EASRequestError("bad Range \(text.prefix(40))")
        }
        return bounds[0]...min(bounds[1], bounds[0] + maxRangeLength - 1)
    }

    /// Highest first result a Range may ask for.
    public static let maxRangeStart = 100_000_000
}
