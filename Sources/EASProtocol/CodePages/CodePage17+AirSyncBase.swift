extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.18: code page 17, namespace `AirSyncBase`.
    public static let airSyncBase = EASCodePage(
        number: 17,
        namespace: "AirSyncBase",
        tokens: [
            (0x05, "BodyPreference"),
            (0x06, "Type"),
            (0x07, "TruncationSize"),
            (0x08, "AllOrNone"),
            (0x0A, "Body"),
            (0x0B, "Data"),
            (0x0C, "EstimatedDataSize"),
            (0x0D, "Truncated"),
            (0x0E, "Attachments"),
            (0x0F, "Attachment"),
            (0x10, "DisplayName"),
            (0x11, "FileReference"),
            (0x12, "Method"),
            (0x13, "ContentId"),
            (0x14, "ContentLocation"),
            (0x15, "IsInline"),
            (0x16, "NativeBodyType"),
            (0x17, "ContentType"),
            (0x18, "Preview"),
            (0x19, "BodyPartPreference"),
            (0x1A, "BodyPart"),
            (0x1B, "Status"),
            (0x1C, "Add"),
            (0x1D, "Delete"),
            (0x1E, "ClientId"),
            (0x1F, "Content"),
            (0x20, "Location"),
            (0x21, "Annotation"),
            (0x22, "Street"),
            (0x23, "City"),
            (0x24, "State"),
            (0x25, "Country"),
            (0x26, "PostalCode"),
            (0x27, "Latitude"),
            (0x28, "Longitude"),
            (0x29, "Accuracy"),
            (0x2A, "Altitude"),
            (0x2B, "AltitudeAccuracy"),
            (0x2C, "LocationUri"),
            (0x2D, "InstanceId"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 17, `AirSyncBase` ([MS-ASWBXML] 2.1.2.1.18).
    public enum AirSyncBase {
        public static let bodyPreference = EASTag(known: 17, 0x05)
        public static let type = EASTag(known: 17, 0x06)
        public static let truncationSize = EASTag(known: 17, 0x07)
        public static let allOrNone = EASTag(known: 17, 0x08)
        public static let body = EASTag(known: 17, 0x0A)
        public static let data = EASTag(known: 17, 0x0B)
        public static let estimatedDataSize = EASTag(known: 17, 0x0C)
        public static let truncated = EASTag(known: 17, 0x0D)
        public static let attachments = EASTag(known: 17, 0x0E)
        public static let attachment = EASTag(known: 17, 0x0F)
        public static let displayName = EASTag(known: 17, 0x10)
        public static let fileReference = EASTag(known: 17, 0x11)
        public static let method = EASTag(known: 17, 0x12)
        public static let contentId = EASTag(known: 17, 0x13)
        public static let contentLocation = EASTag(known: 17, 0x14)
        public static let isInline = EASTag(known: 17, 0x15)
        public static let nativeBodyType = EASTag(known: 17, 0x16)
        public static let contentType = EASTag(known: 17, 0x17)
        public static let preview = EASTag(known: 17, 0x18)
        public static let bodyPartPreference = EASTag(known: 17, 0x19)
        public static let bodyPart = EASTag(known: 17, 0x1A)
        public static let status = EASTag(known: 17, 0x1B)
        public static let add = EASTag(known: 17, 0x1C)
        public static let delete = EASTag(known: 17, 0x1D)
        public static let clientId = EASTag(known: 17, 0x1E)
        public static let content = EASTag(known: 17, 0x1F)
        public static let location = EASTag(known: 17, 0x20)
        public static let annotation = EASTag(known: 17, 0x21)
        public static let street = EASTag(known: 17, 0x22)
        public static let city = EASTag(known: 17, 0x23)
        public static let state = EASTag(known: 17, 0x24)
        public static let country = EASTag(known: 17, 0x25)
        public static let postalCode = EASTag(known: 17, 0x26)
        public static let latitude = EASTag(known: 17, 0x27)
        public static let longitude = EASTag(known: 17, 0x28)
        public static let accuracy = EASTag(known: 17, 0x29)
        public static let altitude = EASTag(known: 17, 0x2A)
        public static let altitudeAccuracy = EASTag(known: 17, 0x2B)
        public static let locationUri = EASTag(known: 17, 0x2C)
        public static let instanceId = EASTag(known: 17, 0x2D)
    }
}
