/// [MS-ASCMD] 2.2.1.21 Sync request.
public struct SyncRequest: Hashable, Sendable {
    /// One `Collection` of the request ([MS-ASCMD] 2.2.3.29.2).
    public struct Collection: Hashable, Sendable {
        public var syncKey: String
        public var collectionId: String
        /// [MS-ASCMD] 2.2.3.79: absent means true.
        public var getChanges: Bool?
        public var windowSize: Int?
        public var deletesAsMoves: Bool?
        public var options: [Options]
        /// The client's commands (Add, Change, Delete, Fetch), as sent.
        public var commands: [EASElement]

        public init(syncKey: String, collectionId: String, getChanges: Bool? = nil, windowSize: Int? = nil,
                    deletesAsMoves: Bool? = nil, options: [Options] = [], commands: [EASElement] = []) {
            self.syncKey = syncKey
            self.collectionId = collectionId
            self.getChanges = getChanges
            self.windowSize = windowSize
            self.deletesAsMoves = deletesAsMoves
            self.options = options
            self.commands = commands
        }
    }

    /// [MS-ASCMD] 2.2.3.125.5 Options.
    public struct Options: Hashable, Sendable {
        public var filterType: Int?
        public var bodyPreferences: [BodyPreference]
        public var mimeSupport: Int?
        public var mimeTruncation: Int?
        public var `class`: String?

        public init(filterType: Int? = nil, bodyPreferences: [BodyPreference] = [], mimeSupport: Int? = nil,
                    mimeTruncation: Int? = nil, class: String? = nil) {
            self.filterType = filterType
            self.bodyPreferences = bodyPreferences
            self.mimeSupport = mimeSupport
            self.mimeTruncation = mimeTruncation
            self.class = `class`
        }
    }

    /// `Collections` absent: a partial or empty Sync reusing the cached request.
    public var collections: [Collection]?
    public var windowSize: Int?
    public var wait: Int?
    public var heartbeatInterval: Int?
    public var partial: Bool

    public init(collections: [Collection]?, windowSize: Int? = nil, wait: Int? = nil, heartbeatInterval: Int? = nil,
                partial: Bool = false) {
        self.collections = collections
        self.windowSize = windowSize
        self.wait = wait
        self.heartbeatInterval = heartbeatInterval
        self.partial = partial
    }

    /// Most collections one request may name.
    public static let maxCollections = 1000

    public init(_ element: EASElement) throws(EASRequestError) {
        try element.expect(EASTag.AirSync.sync)
        windowSize = try element.integer(of: EASTag.AirSync.windowSize)
        wait = try element.integer(of: EASTag.AirSync.wait)
        heartbeatInterval = try element.integer(of: EASTag.AirSync.heartbeatInterval)
        partial = element.child(EASTag.AirSync.partial) != nil
        guard let list = element.child(EASTag.AirSync.collections) else {
            collections = nil
            return
        }
        let elements = list.children(EASTag.AirSync.collection)
        guard elements.count <= Self.maxCollections else { throw EASRequestError("too many collections") }
        var parsed: [Collection] = []
        for item in elements {
            guard let key = item.text(of: EASTag.AirSync.syncKey), let id = try item.id(of: EASTag.AirSync.collectionId) else {
                throw EASRequestError("Collection without SyncKey or CollectionId")
            }
            var collection = Collection(syncKey: key, collectionId: id)
            if let getChanges = item.child(EASTag.AirSync.getChanges) {
                // An empty GetChanges means true ([MS-ASCMD] 2.2.3.79).
                collection.getChanges = getChanges.text.map { $0 != "0" } ?? true
            }
            collection.windowSize = try item.integer(of: EASTag.AirSync.windowSize)
            collection.deletesAsMoves = item.child(EASTag.AirSync.deletesAsMoves).map { $0.text.map { $0 != "0" } ?? true }
            for options in item.children(EASTag.AirSync.options) {
                collection.options.append(try Self.options(options))
            }
            collection.commands = item.child(EASTag.AirSync.commands)?.children ?? []
            for command in collection.commands {
                _ = try command.id(of: EASTag.AirSync.serverId)
                _ = try command.id(of: EASTag.AirSync.clientId)
            }
            parsed.append(collection)
        }
        collections = parsed
    }

    private static func options(_ element: EASElement) throws(EASRequestError) -> Options {
        var options = Options()
        options.filterType = try element.integer(of: EASTag.AirSync.filterType)
        options.mimeSupport = try element.integer(of: EASTag.AirSync.mimeSupport)
        options.mimeTruncation = try element.integer(of: EASTag.AirSync.mimeTruncation)
        options.class = element.text(of: EASTag.AirSync.class)
        for preference in element.children(EASTag.AirSyncBase.bodyPreference) {
            options.bodyPreferences.append(try BodyPreference(preference))
        }
        return options
    }
}

/// [MS-ASAIRS] 2.2.2.7 BodyPreference.
public struct BodyPreference: Hashable, Sendable {
    /// 1 plain text, 2 HTML, 3 RTF, 4 MIME.
    public var type: Int
    public var truncationSize: Int?
    public var allOrNone: Bool
    public var preview: Int?

    public init(type: Int, truncationSize: Int? = nil, allOrNone: Bool = false, preview: Int? = nil) {
        self.type = type
        self.truncationSize = truncationSize
        self.allOrNone = allOrNone
        self.preview = preview
    }

    public init(_ element: EASElement) throws(EASRequestError) {
        guard let type = try element.integer(of: EASTag.AirSyncBase.type) else {
            throw EASRequestError("BodyPreference without Type")
        }
        self.type = type
        truncationSize = try element.integer(of: EASTag.AirSyncBase.truncationSize)
        allOrNone = element.text(of: EASTag.AirSyncBase.allOrNone) == "1"
        preview = try element.integer(of: EASTag.AirSyncBase.preview)
    }
}
