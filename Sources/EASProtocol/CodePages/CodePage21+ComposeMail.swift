extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.22: code page 21, namespace `ComposeMail`.
    public static let composeMail = EASCodePage(
        number: 21,
        namespace: "ComposeMail",
        tokens: [
            (0x05, "SendMail"),
            (0x06, "SmartForward"),
            (0x07, "SmartReply"),
            (0x08, "SaveInSentItems"),
            (0x09, "ReplaceMime"),
            (0x0B, "Source"),
            (0x0C, "FolderId"),
            (0x0D, "ItemId"),
            (0x0E, "LongId"),
            (0x0F, "InstanceId"),
            (0x10, "Mime"),
            (0x11, "ClientId"),
            (0x12, "Status"),
            (0x13, "AccountId"),
            (0x15, "Forwardees"),
            (0x16, "Forwardee"),
            (0x17, "ForwardeeName"),
            (0x18, "ForwardeeEmail"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 21, `ComposeMail` ([MS-ASWBXML] 2.1.2.1.22).
    public enum ComposeMail {
        public static let sendMail = EASTag(known: 21, 0x05)
        public static let smartForward = EASTag(known: 21, 0x06)
        public static let smartReply = EASTag(known: 21, 0x07)
        public static let saveInSentItems = EASTag(known: 21, 0x08)
        public static let replaceMime = EASTag(known: 21, 0x09)
        public static let source = EASTag(known: 21, 0x0B)
        public static let folderId = EASTag(known: 21, 0x0C)
        public static let itemId = EASTag(known: 21, 0x0D)
        public static let longId = EASTag(known: 21, 0x0E)
        public static let instanceId = EASTag(known: 21, 0x0F)
        public static let mime = EASTag(known: 21, 0x10)
        public static let clientId = EASTag(known: 21, 0x11)
        public static let status = EASTag(known: 21, 0x12)
        public static let accountId = EASTag(known: 21, 0x13)
        public static let forwardees = EASTag(known: 21, 0x15)
        public static let forwardee = EASTag(known: 21, 0x16)
        public static let forwardeeName = EASTag(known: 21, 0x17)
        public static let forwardeeEmail = EASTag(known: 21, 0x18)
    }
}
