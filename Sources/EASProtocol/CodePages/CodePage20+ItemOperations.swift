extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.21: code page 20, namespace `ItemOperations`.
    public static let itemOperations = EASCodePage(
        number: 20,
        namespace: "ItemOperations",
        tokens: [
            (0x05, "ItemOperations"),
            (0x06, "Fetch"),
            (0x07, "Store"),
            (0x08, "Options"),
            (0x09, "Range"),
            (0x0A, "Total"),
            (0x0B, "Properties"),
            (0x0C, "Data"),
            (0x0D, "Status"),
            (0x0E, "Response"),
            (0x0F, "Version"),
            (0x10, "Schema"),
            (0x11, "Part"),
            (0x12, "EmptyFolderContents"),
            (0x13, "DeleteSubFolders"),
            (0x14, "UserName"),
            (0x15, "Password"),
            (0x16, "Move"),
            (0x17, "DstFldId"),
            (0x18, "ConversationId"),
            (0x19, "MoveAlways"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 20, `ItemOperations` ([MS-ASWBXML] 2.1.2.1.21).
    public enum ItemOperations {
        public static let itemOperations = EASTag(known: 20, 0x05)
        public static let fetch = EASTag(known: 20, 0x06)
        public static let store = EASTag(known: 20, 0x07)
        public static let options = EASTag(known: 20, 0x08)
        public static let range = EASTag(known: 20, 0x09)
        public static let total = EASTag(known: 20, 0x0A)
        public static let properties = EASTag(known: 20, 0x0B)
        public static let data = EASTag(known: 20, 0x0C)
        public static let status = EASTag(known: 20, 0x0D)
        public static let response = EASTag(known: 20, 0x0E)
        public static let version = EASTag(known: 20, 0x0F)
        public static let schema = EASTag(known: 20, 0x10)
        public static let part = EASTag(known: 20, 0x11)
        public static let emptyFolderContents = EASTag(known: 20, 0x12)
        public static let deleteSubFolders = EASTag(known: 20, 0x13)
        public static let userName = EASTag(known: 20, 0x14)
        public static let password = EASTag(known: 20, 0x15)
        public static let move = EASTag(known: 20, 0x16)
        public static let dstFldId = EASTag(known: 20, 0x17)
        public static let conversationId = EASTag(known: 20, 0x18)
        public static let moveAlways = EASTag(known: 20, 0x19)
    }
}
