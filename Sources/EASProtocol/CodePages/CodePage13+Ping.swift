extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.14: code page 13, namespace `Ping`.
    public static let ping = EASCodePage(
        number: 13,
        namespace: "Ping",
        tokens: [
            (0x05, "Ping"),
            (0x07, "Status"),
            (0x08, "HeartbeatInterval"),
            (0x09, "Folders"),
            (0x0A, "Folder"),
            (0x0B, "Id"),
            (0x0C, "Class"),
            (0x0D, "MaxFolders"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 13, `Ping` ([MS-ASWBXML] 2.1.2.1.14).
    public enum Ping {
        public static let ping = EASTag(known: 13, 0x05)
        public static let status = EASTag(known: 13, 0x07)
        public static let heartbeatInterval = EASTag(known: 13, 0x08)
        public static let folders = EASTag(known: 13, 0x09)
        public static let folder = EASTag(known: 13, 0x0A)
        public static let id = EASTag(known: 13, 0x0B)
        public static let `class` = EASTag(known: 13, 0x0C)
        public static let maxFolders = EASTag(known: 13, 0x0D)
    }
}
