extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.13: code page 12, namespace `Contacts2`.
    public static let contacts2 = EASCodePage(
        number: 12,
        namespace: "Contacts2",
        tokens: [
            (0x05, "CustomerId"),
            (0x06, "GovernmentId"),
            (0x07, "IMAddress"),
            (0x08, "IMAddress2"),
            (0x09, "IMAddress3"),
            (0x0A, "ManagerName"),
            (0x0B, "CompanyMainPhone"),
            (0x0C, "AccountName"),
            (0x0D, "NickName"),
            (0x0E, "MMS"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 12, `Contacts2` ([MS-ASWBXML] 2.1.2.1.13).
    public enum Contacts2 {
        public static let customerId = EASTag(known: 12, 0x05)
        public static let governmentId = EASTag(known: 12, 0x06)
        public static let imAddress = EASTag(known: 12, 0x07)
        public static let imAddress2 = EASTag(known: 12, 0x08)
        public static let imAddress3 = EASTag(known: 12, 0x09)
        public static let managerName = EASTag(known: 12, 0x0A)
        public static let companyMainPhone = EASTag(known: 12, 0x0B)
        public static let accountName = EASTag(known: 12, 0x0C)
        public static let nickName = EASTag(known: 12, 0x0D)
        public static let mms = EASTag(known: 12, 0x0E)
    }
}
