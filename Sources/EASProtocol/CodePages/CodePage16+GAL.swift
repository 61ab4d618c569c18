extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.17: code page 16, namespace `GAL`.
    public static let gal = EASCodePage(
        number: 16,
        namespace: "GAL",
        tokens: [
            (0x05, "DisplayName"),
            (0x06, "Phone"),
            (0x07, "Office"),
            (0x08, "Title"),
            (0x09, "Company"),
            (0x0A, "Alias"),
            (0x0B, "FirstName"),
            (0x0C, "LastName"),
            (0x0D, "HomePhone"),
            (0x0E, "MobilePhone"),
            (0x0F, "EmailAddress"),
            (0x10, "Picture"),
            (0x11, "Status"),
            (0x12, "Data"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 16, `GAL` ([MS-ASWBXML] 2.1.2.1.17).
    public enum GAL {
        public static let displayName = EASTag(known: 16, 0x05)
        public static let phone = EASTag(known: 16, 0x06)
        public static let office = EASTag(known: 16, 0x07)
        public static let title = EASTag(known: 16, 0x08)
        public static let company = EASTag(known: 16, 0x09)
        public static let alias = EASTag(known: 16, 0x0A)
        public static let firstName = EASTag(known: 16, 0x0B)
        public static let lastName = EASTag(known: 16, 0x0C)
        public static let homePhone = EASTag(known: 16, 0x0D)
        public static let mobilePhone = EASTag(known: 16, 0x0E)
        public static let emailAddress = EASTag(known: 16, 0x0F)
        public static let picture = EASTag(known: 16, 0x10)
        public static let status = EASTag(known: 16, 0x11)
        public static let data = EASTag(known: 16, 0x12)
    }
}
