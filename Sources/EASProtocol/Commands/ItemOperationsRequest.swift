/// [MS-ASCMD] 2.2.1.10 ItemOperations request (Fetch and EmptyFolderContents).
public struct ItemOperationsRequest: Hashable, Sendable {
    public enum Operation: Hashable, Sendable {
        case fetch(Fetch)
        case emptyFolderContents(collectionId: String, deleteSubFolders: Bool)
        case unsupported(EASTag)
    }

    public struct Fetch: Hashable, Sendable {
        public var store: String
        public var collectionId: String?
        public var serverId: String?
        public var fileReference: String?
        public var bodyPreferences: [BodyPreference]
        public var mimeSupport: Int?
        /// `Options > Range`, e.g. 0-65535.
        public var range: ClosedRange<Int>?
    }

    public var operations: [Operation]
    /// The client asked for the multipart form ([MS-ASCMD] 2.2.1.10.1, `MS-ASAcceptMultiPart`).
    public var multipart = false

    public static let maxOperations = 100

    public init(_ element: EASElement) throws(EASRequestError) {
        try element.expect(EASTag.ItemOperations.itemOperations)
        guard element.children.count <= Self.maxOperations else { throw EASRequestError("too many operations") }
        var operations: [Operation] = []
        for child in element.children {
            switch child.tag {
            case EASTag.ItemOperations.fetch:
                let options = child.child(EASTag.ItemOperations.options)
                var range: ClosedRange<Int>?
                if let text = options?.text(of: EASTag.ItemOperations.range) {
                    let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { Int(trimmed(String($0))) ?? -1 }
                    guard bounds.count == 2, bounds[0] >= 0, bounds[0] <= bounds[1] else {
                        throw EASRequestError("bad Range \(text.prefix(40))")
                    }
                    range = bounds[0]...bounds[1]
                }
                var preferences: [BodyPreference] = []
                for preference in options?.children(EASTag.AirSyncBase.bodyPreference) ?? [] {
                    preferences.append(try BodyPreference(preference))
                }
                operations.append(.fetch(Fetch(
                    store: child.text(of: EASTag.ItemOperations.store) ?? "Mailbox",
                    collectionId: try child.id(of: EASTag.AirSync.collectionId),
                    serverId: try child.id(of: EASTag.AirSync.serverId),
                    fileReference: child.text(of: EASTag.AirSyncBase.fileReference),
                    bodyPreferences: preferences,
                    mimeSupport: try options?.integer(of: EASTag.AirSync.mimeSupport),
                    range: range)))
            case EASTag.ItemOperations.emptyFolderContents:
                guard let id = try child.id(of: EASTag.AirSync.collectionId) else {
                    throw EASRequestError("EmptyFolderContents without CollectionId")
                }
                let deleteSubFolders = child.child(EASTag.ItemOperations.options)?.child(EASTag.ItemOperations.deleteSubFolders) != nil
                operations.append(.emptyFolderContents(collectionId: id, deleteSubFolders: deleteSubFolders))
            default:
                operations.append(.unsupported(child.tag))
            }
        }
        self.operations = operations
    }
}
