/// [MS-ASCMD] 2.2.1.13 Ping request. An empty body means "as last time".
public struct PingRequest: Hashable, Sendable {
    public struct Folder: Hashable, Sendable {
        public var id: String
        public var `class`: String?
    }

    public var heartbeatInterval: Int?
    public var folders: [Folder]?

    public init(heartbeatInterval: Int? = nil, folders: [Folder]? = nil) {
        self.heartbeatInterval = heartbeatInterval
        self.folders = folders
    }

    /// Most folder entries read from one request; more is refused as too many.
    public static let maxFolders = 5000

    public init(_ element: EASElement) throws(EASRequestError) {
        try element.expect(EASTag.Ping.ping)
        heartbeatInterval = try element.integer(of: EASTag.Ping.heartbeatInterval)
        if let list = element.child(EASTag.Ping.folders) {
            let entries = list.children(EASTag.Ping.folder)
            guard entries.count <= Self.maxFolders else { throw EASRequestError("too many Ping folders") }
            folders = entries.compactMap { entry in
                entry.text(of: EASTag.Ping.id).map { Folder(id: $0, class: entry.text(of: EASTag.Ping.class)) }
            }
        }
    }
}
