extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.24: code page 23, namespace `Notes`.
    public static let notes = EASCodePage(
        number: 23,
        namespace: "Notes",
        tokens: [
            (0x05, "Subject"),
            (0x06, "MessageClass"),
            (0x07, "LastModifiedDate"),
            (0x08, "Categories"),
            (0x09, "Category"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 23, `Notes` ([MS-ASWBXML] 2.1.2.1.24).
    public enum Notes {
        public static let subject = EASTag(known: 23, 0x05)
        public static let messageClass = EASTag(known: 23, 0x06)
        public static let lastModifiedDate = EASTag(known: 23, 0x07)
        public static let categories = EASTag(known: 23, 0x08)
        public static let category = EASTag(known: 23, 0x09)
    }
}
