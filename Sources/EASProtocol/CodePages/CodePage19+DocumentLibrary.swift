extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.20: code page 19, namespace `DocumentLibrary`.
    public static let documentLibrary = EASCodePage(
        number: 19,
        namespace: "DocumentLibrary",
        tokens: [
            (0x05, "LinkId"),
            (0x06, "DisplayName"),
            (0x07, "IsFolder"),
            (0x08, "CreationDate"),
            (0x09, "LastModifiedDate"),
            (0x0A, "IsHidden"),
            (0x0B, "ContentLength"),
            (0x0C, "ContentType"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 19, `DocumentLibrary` ([MS-ASWBXML] 2.1.2.1.20).
    public enum DocumentLibrary {
        public static let linkId = EASTag(known: 19, 0x05)
        public static let displayName = EASTag(known: 19, 0x06)
        public static let isFolder = EASTag(known: 19, 0x07)
        public static let creationDate = EASTag(known: 19, 0x08)
        public static let lastModifiedDate = EASTag(known: 19, 0x09)
        public static let isHidden = EASTag(known: 19, 0x0A)
        public static let contentLength = EASTag(known: 19, 0x0B)
        public static let contentType = EASTag(known: 19, 0x0C)
    }
}
