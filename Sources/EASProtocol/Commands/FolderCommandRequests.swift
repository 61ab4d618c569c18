/// [MS-ASCMD] 2.2.1.2 FolderCreate, 2.2.1.3 FolderDelete, 2.2.1.4 FolderUpdate requests.
public struct FolderChangeRequest: Hashable, Sendable {
    public enum Kind: Hashable, Sendable { case create, delete, update }

    public var kind: Kind
    public var syncKey: String
    public var serverId: String?
    public var parentId: String?
    public var displayName: String?
    public var type: Int?

    /// Longest folder name accepted.
    public static let maxDisplayNameLength = 256

    public init(_ element: EASElement) throws(EASRequestError) {
        typealias FH = EASTag.FolderHierarchy
        switch element.tag {
        case FH.folderCreate: kind = .create
        case FH.folderDelete: kind = .delete
        case FH.folderUpdate: kind = .update
        default: throw EASRequestError("expected a folder command, got \(element.tag)")
        }
        guard let key = element.text(of: FH.syncKey) else { throw EASRequestError("no SyncKey") }
        syncKey = key
        serverId = element.text(of: FH.serverId)
        parentId = element.text(of: FH.parentId)
        displayName = element.text(of: FH.displayName)
        type = try element.integer(of: FH.type)
        if kind != .create, serverId == nil { throw EASRequestError("no ServerId") }
        if kind != .delete, displayName?.isEmpty ?? true { throw EASRequestError("no DisplayName") }
        if let name = displayName, name.count > Self.maxDisplayNameLength { throw EASRequestError("DisplayName too long") }
    }
}
