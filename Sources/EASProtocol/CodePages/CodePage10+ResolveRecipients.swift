extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.11: code page 10, namespace `ResolveRecipients`.
    public static let resolveRecipients = EASCodePage(
        number: 10,
        namespace: "ResolveRecipients",
        tokens: [
            (0x05, "ResolveRecipients"),
            (0x06, "Response"),
            (0x07, "Status"),
            (0x08, "Type"),
            (0x09, "Recipient"),
            (0x0A, "DisplayName"),
            (0x0B, "EmailAddress"),
            (0x0C, "Certificates"),
            (0x0D, "Certificate"),
            (0x0E, "MiniCertificate"),
            (0x0F, "Options"),
            (0x10, "To"),
            (0x11, "CertificateRetrieval"),
            (0x12, "RecipientCount"),
            (0x13, "MaxCertificates"),
            (0x14, "MaxAmbiguousRecipients"),
            (0x15, "CertificateCount"),
            (0x16, "Availability"),
            (0x17, "StartTime"),
            (0x18, "EndTime"),
            (0x19, "MergedFreeBusy"),
            (0x1A, "Picture"),
            (0x1B, "MaxSize"),
            (0x1C, "Data"),
            (0x1D, "MaxPictures"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 10, `ResolveRecipients` ([MS-ASWBXML] 2.1.2.1.11).
    public enum ResolveRecipients {
        public static let resolveRecipients = EASTag(known: 10, 0x05)
        public static let response = EASTag(known: 10, 0x06)
        public static let status = EASTag(known: 10, 0x07)
        public static let type = EASTag(known: 10, 0x08)
        public static let recipient = EASTag(known: 10, 0x09)
        public static let displayName = EASTag(known: 10, 0x0A)
        public static let emailAddress = EASTag(known: 10, 0x0B)
        public static let certificates = EASTag(known: 10, 0x0C)
        public static let certificate = EASTag(known: 10, 0x0D)
        public static let miniCertificate = EASTag(known: 10, 0x0E)
        public static let options = EASTag(known: 10, 0x0F)
        public static let to = EASTag(known: 10, 0x10)
        public static let certificateRetrieval = EASTag(known: 10, 0x11)
        public static let recipientCount = EASTag(known: 10, 0x12)
        public static let maxCertificates = EASTag(known: 10, 0x13)
        public static let maxAmbiguousRecipients = EASTag(known: 10, 0x14)
        public static let certificateCount = EASTag(known: 10, 0x15)
        public static let availability = EASTag(known: 10, 0x16)
        public static let startTime = EASTag(known: 10, 0x17)
        public static let endTime = EASTag(known: 10, 0x18)
        public static let mergedFreeBusy = EASTag(known: 10, 0x19)
        public static let picture = EASTag(known: 10, 0x1A)
        public static let maxSize = EASTag(known: 10, 0x1B)
        public static let data = EASTag(known: 10, 0x1C)
        public static let maxPictures = EASTag(known: 10, 0x1D)
    }
}
