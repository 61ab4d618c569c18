extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.1: code page 0, namespace `AirSync`.
    public static let airSync = EASCodePage(
        number: 0,
        namespace: "AirSync",
        tokens: [
            (0x05, "Sync"),
            (0x06, "Responses"),
            (0x07, "Add"),
            (0x08, "Change"),
            (0x09, "Delete"),
            (0x0A, "Fetch"),
            (0x0B, "SyncKey"),
            (0x0C, "ClientId"),
            (0x0D, "ServerId"),
            (0x0E, "Status"),
            (0x0F, "Collection"),
            (0x10, "Class"),
            (0x12, "CollectionId"),
            (0x13, "GetChanges"),
            (0x14, "MoreAvailable"),
            (0x15, "WindowSize"),
            (0x16, "Commands"),
            (0x17, "Options"),
            (0x18, "FilterType"),
            (0x1B, "Conflict"),
            (0x1C, "Collections"),
            (0x1D, "ApplicationData"),
            (0x1E, "DeletesAsMoves"),
            (0x20, "Supported"),
            (0x21, "SoftDelete"),
            (0x22, "MIMESupport"),
            (0x23, "MIMETruncation"),
            (0x24, "Wait"),
            (0x25, "Limit"),
            (0x26, "Partial"),
            (0x27, "ConversationMode"),
            (0x28, "MaxItems"),
            (0x29, "HeartbeatInterval"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 0, `AirSync` ([MS-ASWBXML] 2.1.2.1.1).
    public enum AirSync {
        public static let sync = EASTag(known: 0, 0x05)
        public static let responses = EASTag(known: 0, 0x06)
        public static let add = EASTag(known: 0, 0x07)
        public static let change = EASTag(known: 0, 0x08)
        public static let delete = EASTag(known: 0, 0x09)
        public static let fetch = EASTag(known: 0, 0x0A)
        public static let syncKey = EASTag(known: 0, 0x0B)
        public static let clientId = EASTag(known: 0, 0x0C)
        public static let serverId = EASTag(known: 0, 0x0D)
        public static let status = EASTag(known: 0, 0x0E)
        public static let collection = EASTag(known: 0, 0x0F)
        public static let `class` = EASTag(known: 0, 0x10)
        public static let collectionId = EASTag(known: 0, 0x12)
        public static let getChanges = EASTag(known: 0, 0x13)
        public static let moreAvailable = EASTag(known: 0, 0x14)
        public static let windowSize = EASTag(known: 0, 0x15)
        public static let commands = EASTag(known: 0, 0x16)
        public static let options = EASTag(known: 0, 0x17)
        public static let filterType = EASTag(known: 0, 0x18)
        public static let conflict = EASTag(known: 0, 0x1B)
        public static let collections = EASTag(known: 0, 0x1C)
        public static let applicationData = EASTag(known: 0, 0x1D)
        public static let deletesAsMoves = EASTag(known: 0, 0x1E)
        public static let supported = EASTag(known: 0, 0x20)
        public static let softDelete = EASTag(known: 0, 0x21)
        public static let mimeSupport = EASTag(known: 0, 0x22)
        public static let mimeTruncation = EASTag(known: 0, 0x23)
        public static let wait = EASTag(known: 0, 0x24)
        public static let limit = EASTag(known: 0, 0x25)
        public static let partial = EASTag(known: 0, 0x26)
        public static let conversationMode = EASTag(known: 0, 0x27)
        public static let maxItems = EASTag(known: 0, 0x28)
        public static let heartbeatInterval = EASTag(known: 0, 0x29)
    }
}
