extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.16: code page 15, namespace `Search`.
    public static let search = EASCodePage(
        number: 15,
        namespace: "Search",
        tokens: [
            (0x05, "Search"),
            (0x07, "Store"),
            (0x08, "Name"),
            (0x09, "Query"),
            (0x0A, "Options"),
            (0x0B, "Range"),
            (0x0C, "Status"),
            (0x0D, "Response"),
            (0x0E, "Result"),
            (0x0F, "Properties"),
            (0x10, "Total"),
            (0x11, "EqualTo"),
            (0x12, "Value"),
            (0x13, "And"),
            (0x14, "Or"),
            (0x15, "FreeText"),
            (0x17, "DeepTraversal"),
            (0x18, "LongId"),
            (0x19, "RebuildResults"),
            (0x1A, "LessThan"),
            (0x1B, "GreaterThan"),
            (0x1E, "UserName"),
            (0x1F, "Password"),
            (0x20, "ConversationId"),
            (0x21, "Picture"),
            (0x22, "MaxSize"),
            (0x23, "MaxPictures"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 15, `Search` ([MS-ASWBXML] 2.1.2.1.16).
    public enum Search {
        public static let search = EASTag(known: 15, 0x05)
        public static let store = EASTag(known: 15, 0x07)
        public static let name = EASTag(known: 15, 0x08)
        public static let query = EASTag(known: 15, 0x09)
        public static let options = EASTag(known: 15, 0x0A)
        public static let range = EASTag(known: 15, 0x0B)
        public static let status = EASTag(known: 15, 0x0C)
        public static let response = EASTag(known: 15, 0x0D)
        public static let result = EASTag(known: 15, 0x0E)
        public static let properties = EASTag(known: 15, 0x0F)
        public static let total = EASTag(known: 15, 0x10)
        public static let equalTo = EASTag(known: 15, 0x11)
        public static let value = EASTag(known: 15, 0x12)
        public static let and = EASTag(known: 15, 0x13)
        public static let or = EASTag(known: 15, 0x14)
        public static let freeText = EASTag(known: 15, 0x15)
        public static let deepTraversal = EASTag(known: 15, 0x17)
        public static let longId = EASTag(known: 15, 0x18)
        public static let rebuildResults = EASTag(known: 15, 0x19)
        public static let lessThan = EASTag(known: 15, 0x1A)
        public static let greaterThan = EASTag(known: 15, 0x1B)
        public static let userName = EASTag(known: 15, 0x1E)
        public static let password = EASTag(known: 15, 0x1F)
        public static let conversationId = EASTag(known: 15, 0x20)
        public static let picture = EASTag(known: 15, 0x21)
        public static let maxSize = EASTag(known: 15, 0x22)
        public static let maxPictures = EASTag(known: 15, 0x23)
    }
}
