/// [MS-ASCMD] 2.2.1.9 GetItemEstimate request.
public struct GetItemEstimateRequest: Hashable, Sendable {
    public struct Collection: Hashable, Sendable {
        public var collectionId: String
        public var syncKey: String?
        public var filterType: Int?
    }

    public var collections: [Collection]

    public init(_ element: EASElement) throws(EASRequestError) {
        try element.expect(EASTag.GetItemEstimate.getItemEstimate)
        let entries = element.child(EASTag.GetItemEstimate.collections)?.children(EASTag.GetItemEstimate.collection) ?? []
        guard entries.count <= SyncRequest.maxCollections else { throw EASRequestError("too many collections") }
        var collections: [Collection] = []
        for entry in entries {
            var named = try entry.id(of: EASTag.GetItemEstimate.collectionId)
            if named == nil { named = try entry.id(of: EASTag.AirSync.collectionId) }
            guard let id = named else { throw EASRequestError("GetItemEstimate collection without CollectionId") }
            // 12.x puts SyncKey and FilterType directly in Collection, 14.0+ inside Options.
            let options = entry.child(EASTag.AirSync.options)
            collections.append(Collection(
                collectionId: id,
                syncKey: entry.text(of: EASTag.AirSync.syncKey),
                filterType: try (options ?? entry).integer(of: EASTag.AirSync.filterType)))
        }
        self.collections = collections
    }
}
