extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.12: code page 11, namespace `ValidateCert`.
    public static let validateCert = EASCodePage(
        number: 11,
        namespace: "ValidateCert",
        tokens: [
            (0x05, "ValidateCert"),
            (0x06, "Certificates"),
            (0x07, "Certificate"),
            (0x08, "CertificateChain"),
            (0x09, "CheckCrl"),
            (0x0A, "Status"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 11, `ValidateCert` ([MS-ASWBXML] 2.1.2.1.12).
    public enum ValidateCert {
        public static let validateCert = EASTag(known: 11, 0x05)
        public static let certificates = EASTag(known: 11, 0x06)
        public static let certificate = EASTag(known: 11, 0x07)
        public static let certificateChain = EASTag(known: 11, 0x08)
        public static let checkCrl = EASTag(known: 11, 0x09)
        public static let status = EASTag(known: 11, 0x0A)
    }
}
