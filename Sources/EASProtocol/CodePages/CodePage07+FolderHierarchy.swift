extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.8: code page 7, namespace `FolderHierarchy`.
    public static let folderHierarchy = EASCodePage(
        number: 7,
        namespace: "FolderHierarchy",
        tokens: [
            (0x05, "Folders"),
            (0x06, "Folder"),
            (0x07, "DisplayName"),
            (0x08, "ServerId"),
            (0x09, "ParentId"),
            (0x0A, "Type"),
            (0x0C, "Status"),
            (0x0E, "Changes"),
            (0x0F, "Add"),
            (0x10, "Delete"),
            (0x11, "Update"),
            (0x12, "SyncKey"),
            (0x13, "FolderCreate"),
            (0x14, "FolderDelete"),
            (0x15, "FolderUpdate"),
            (0x16, "FolderSync"),
            (0x17, "Count"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 7, `FolderHierarchy` ([MS-ASWBXML] 2.1.2.1.8).
    public enum FolderHierarchy {
        public static let folders = EASTag(known: 7, 0x05)
        public static let folder = EASTag(known: 7, 0x06)
        public static let displayName = EASTag(known: 7, 0x07)
        public static let serverId = EASTag(known: 7, 0x08)
        public static let parentId = EASTag(known: 7, 0x09)
        public static let type = EASTag(known: 7, 0x0A)
        public static let status = EASTag(known: 7, 0x0C)
        public static let changes = EASTag(known: 7, 0x0E)
        public static let add = EASTag(known: 7, 0x0F)
        public static let delete = EASTag(known: 7, 0x10)
        public static let update = EASTag(known: 7, 0x11)
        public static let syncKey = EASTag(known: 7, 0x12)
        public static let folderCreate = EASTag(known: 7, 0x13)
        public static let folderDelete = EASTag(known: 7, 0x14)
        public static let folderUpdate = EASTag(known: 7, 0x15)
        public static let folderSync = EASTag(known: 7, 0x16)
        public static let count = EASTag(known: 7, 0x17)
    }
}
