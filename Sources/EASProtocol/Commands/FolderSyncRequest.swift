/// [MS-ASCMD] 2.2.1.5 FolderSync request: `FolderSync > SyncKey`.
public struct FolderSyncRequest: Hashable, Sendable {
    public var syncKey: String

    public init(syncKey: String) { self.syncKey = syncKey }

    public init(_ element: EASElement) throws(EASRequestError) {
        try element.expect(EASTag.FolderHierarchy.folderSync)
        guard let key = element.text(of: EASTag.FolderHierarchy.syncKey) else {
            throw EASRequestError("FolderSync without SyncKey")
        }
        syncKey = key
    }
}
