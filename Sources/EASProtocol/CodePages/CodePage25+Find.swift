extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.26: code page 25, namespace `Find`. Used with protocol version 16.1 only.
    public static let find = EASCodePage(
        number: 25,
        namespace: "Find",
        tokens: [
            (0x05, "Find"),
            (0x06, "SearchId"),
            (0x07, "ExecuteSearch"),
            (0x08, "MailBoxSearchCriterion"),
            (0x09, "Query"),
            (0x0A, "Status"),
            (0x0B, "FreeText"),
            (0x0C, "Options"),
            (0x0D, "Range"),
            (0x0E, "DeepTraversal"),
            (0x11, "Response"),
            (0x12, "Result"),
            (0x13, "Properties"),
            (0x14, "Preview"),
            (0x15, "HasAttachments"),
            (0x16, "Total"),
            (0x17, "DisplayCc"),
            (0x18, "DisplayBcc"),
            (0x19, "GALSearchCriterion"),
            (0x20, "MaxPictures"),
            (0x21, "MaxSize"),
            (0x22, "Picture"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 25, `Find` ([MS-ASWBXML] 2.1.2.1.26).
    public enum Find {
        public static let find = EASTag(known: 25, 0x05)
        public static let searchId = EASTag(known: 25, 0x06)
        public static let executeSearch = EASTag(known: 25, 0x07)
        public static let mailBoxSearchCriterion = EASTag(known: 25, 0x08)
        public static let query = EASTag(known: 25, 0x09)
        public static let status = EASTag(known: 25, 0x0A)
        public static let freeText = EASTag(known: 25, 0x0B)
        public static let options = EASTag(known: 25, 0x0C)
        public static let range = EASTag(known: 25, 0x0D)
        public static let deepTraversal = EASTag(known: 25, 0x0E)
        public static let response = EASTag(known: 25, 0x11)
        public static let result = EASTag(known: 25, 0x12)
        public static let properties = EASTag(known: 25, 0x13)
        public static let preview = EASTag(known: 25, 0x14)
        public static let hasAttachments = EASTag(known: 25, 0x15)
        public static let total = EASTag(known: 25, 0x16)
        public static let displayCc = EASTag(known: 25, 0x17)
        public static let displayBcc = EASTag(known: 25, 0x18)
        public static let galSearchCriterion = EASTag(known: 25, 0x19)
        public static let maxPictures = EASTag(known: 25, 0x20)
        public static let maxSize = EASTag(known: 25, 0x21)
        public static let picture = EASTag(known: 25, 0x22)
    }
}
