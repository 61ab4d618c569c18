extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.6: code page 5, namespace `Move`.
    public static let move = EASCodePage(
        number: 5,
        namespace: "Move",
        tokens: [
            (0x05, "MoveItems"),
            (0x06, "Move"),
            (0x07, "SrcMsgId"),
            (0x08, "SrcFldId"),
            (0x09, "DstFldId"),
            (0x0A, "Response"),
            (0x0B, "Status"),
            (0x0C, "DstMsgId"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 5, `Move` ([MS-ASWBXML] 2.1.2.1.6).
    public enum Move {
        public static let moveItems = EASTag(known: 5, 0x05)
        public static let move = EASTag(known: 5, 0x06)
        public static let srcMsgId = EASTag(known: 5, 0x07)
        public static let srcFldId = EASTag(known: 5, 0x08)
        public static let dstFldId = EASTag(known: 5, 0x09)
        public static let response = EASTag(known: 5, 0x0A)
        public static let status = EASTag(known: 5, 0x0B)
        public static let dstMsgId = EASTag(known: 5, 0x0C)
    }
}
