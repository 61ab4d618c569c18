extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.4: code page 3, namespace `AirNotify`. This code page is no longer in use; it defines no tokens.
    public static let airNotify = EASCodePage(
        number: 3,
        namespace: "AirNotify",
        tokens: []
    )
}

extension EASTag {
    /// The tags of code page 3, `AirNotify` ([MS-ASWBXML] 2.1.2.1.4).
    public enum AirNotify {
    }
}
