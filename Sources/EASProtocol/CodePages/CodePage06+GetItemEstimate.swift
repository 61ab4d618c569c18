extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.7: code page 6, namespace `GetItemEstimate`.
    public static let getItemEstimate = EASCodePage(
        number: 6,
        namespace: "GetItemEstimate",
        tokens: [
            (0x05, "GetItemEstimate"),
            (0x07, "Collections"),
            (0x08, "Collection"),
            (0x09, "Class"),
            (0x0A, "CollectionId"),
            (0x0C, "Estimate"),
            (0x0D, "Response"),
            (0x0E, "Status"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 6, `GetItemEstimate` ([MS-ASWBXML] 2.1.2.1.7).
    public enum GetItemEstimate {
        public static let getItemEstimate = EASTag(known: 6, 0x05)
        public static let collections = EASTag(known: 6, 0x07)
        public static let collection = EASTag(known: 6, 0x08)
        public static let `class` = EASTag(known: 6, 0x09)
        public static let collectionId = EASTag(known: 6, 0x0A)
        public static let estimate = EASTag(known: 6, 0x0C)
        public static let response = EASTag(known: 6, 0x0D)
        public static let status = EASTag(known: 6, 0x0E)
    }
}
