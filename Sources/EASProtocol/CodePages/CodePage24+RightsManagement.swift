extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.25: code page 24, namespace `RightsManagement`.
    public static let rightsManagement = EASCodePage(
        number: 24,
        namespace: "RightsManagement",
        tokens: [
            (0x05, "RightsManagementSupport"),
            (0x06, "RightsManagementTemplates"),
            (0x07, "RightsManagementTemplate"),
            (0x08, "RightsManagementLicense"),
            (0x09, "EditAllowed"),
            (0x0A, "ReplyAllowed"),
            (0x0B, "ReplyAllAllowed"),
            (0x0C, "ForwardAllowed"),
            (0x0D, "ModifyRecipientsAllowed"),
            (0x0E, "ExtractAllowed"),
            (0x0F, "PrintAllowed"),
            (0x10, "ExportAllowed"),
            (0x11, "ProgrammaticAccessAllowed"),
            (0x12, "Owner"),
            (0x13, "ContentExpiryDate"),
            (0x14, "TemplateID"),
            (0x15, "TemplateName"),
            (0x16, "TemplateDescription"),
            (0x17, "ContentOwner"),
            (0x18, "RemoveRightsManagementProtection"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 24, `RightsManagement` ([MS-ASWBXML] 2.1.2.1.25).
    public enum RightsManagement {
        public static let rightsManagementSupport = EASTag(known: 24, 0x05)
        public static let rightsManagementTemplates = EASTag(known: 24, 0x06)
        public static let rightsManagementTemplate = EASTag(known: 24, 0x07)
        public static let rightsManagementLicense = EASTag(known: 24, 0x08)
        public static let editAllowed = EASTag(known: 24, 0x09)
        public static let replyAllowed = EASTag(known: 24, 0x0A)
        public static let replyAllAllowed = EASTag(known: 24, 0x0B)
        public static let forwardAllowed = EASTag(known: 24, 0x0C)
        public static let modifyRecipientsAllowed = EASTag(known: 24, 0x0D)
        public static let extractAllowed = EASTag(known: 24, 0x0E)
        public static let printAllowed = EASTag(known: 24, 0x0F)
        public static let exportAllowed = EASTag(known: 24, 0x10)
        public static let programmaticAccessAllowed = EASTag(known: 24, 0x11)
        public static let owner = EASTag(known: 24, 0x12)
        public static let contentExpiryDate = EASTag(known: 24, 0x13)
        public static let templateID = EASTag(known: 24, 0x14)
        public static let templateName = EASTag(known: 24, 0x15)
        public static let templateDescription = EASTag(known: 24, 0x16)
        public static let contentOwner = EASTag(known: 24, 0x17)
        public static let removeRightsManagementProtection = EASTag(known: 24, 0x18)
    }
}
