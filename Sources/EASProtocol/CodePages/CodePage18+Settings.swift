extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.19: code page 18, namespace `Settings`.
    public static let settings = EASCodePage(
        number: 18,
        namespace: "Settings",
        tokens: [
            (0x05, "Settings"),
            (0x06, "Status"),
            (0x07, "Get"),
            (0x08, "Set"),
            (0x09, "Oof"),
            (0x0A, "OofState"),
            (0x0B, "StartTime"),
            (0x0C, "EndTime"),
            (0x0D, "OofMessage"),
            (0x0E, "AppliesToInternal"),
            (0x0F, "AppliesToExternalKnown"),
            (0x10, "AppliesToExternalUnknown"),
            (0x11, "Enabled"),
            (0x12, "ReplyMessage"),
            (0x13, "BodyType"),
            (0x14, "DevicePassword"),
            (0x15, "Password"),
            (0x16, "DeviceInformation"),
            (0x17, "Model"),
            (0x18, "IMEI"),
            (0x19, "FriendlyName"),
            (0x1A, "OS"),
            (0x1B, "OSLanguage"),
            (0x1C, "PhoneNumber"),
            (0x1D, "UserInformation"),
            (0x1E, "EmailAddresses"),
            (0x1F, "SMTPAddress"),
            (0x20, "UserAgent"),
            (0x21, "EnableOutboundSMS"),
            (0x22, "MobileOperator"),
            (0x23, "PrimarySmtpAddress"),
            (0x24, "Accounts"),
            (0x25, "Account"),
            (0x26, "AccountId"),
            (0x27, "AccountName"),
            (0x28, "UserDisplayName"),
            (0x29, "SendDisabled"),
            (0x2B, "RightsManagementInformation"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 18, `Settings` ([MS-ASWBXML] 2.1.2.1.19).
    public enum Settings {
        public static let settings = EASTag(known: 18, 0x05)
        public static let status = EASTag(known: 18, 0x06)
        public static let get = EASTag(known: 18, 0x07)
        public static let set = EASTag(known: 18, 0x08)
        public static let oof = EASTag(known: 18, 0x09)
        public static let oofState = EASTag(known: 18, 0x0A)
        public static let startTime = EASTag(known: 18, 0x0B)
        public static let endTime = EASTag(known: 18, 0x0C)
        public static let oofMessage = EASTag(known: 18, 0x0D)
        public static let appliesToInternal = EASTag(known: 18, 0x0E)
        public static let appliesToExternalKnown = EASTag(known: 18, 0x0F)
        public static let appliesToExternalUnknown = EASTag(known: 18, 0x10)
        public static let enabled = EASTag(known: 18, 0x11)
        public static let replyMessage = EASTag(known: 18, 0x12)
        public static let bodyType = EASTag(known: 18, 0x13)
        public static let devicePassword = EASTag(known: 18, 0x14)
        public static let password = EASTag(known: 18, 0x15)
        public static let deviceInformation = EASTag(known: 18, 0x16)
        public static let model = EASTag(known: 18, 0x17)
        public static let imei = EASTag(known: 18, 0x18)
        public static let friendlyName = EASTag(known: 18, 0x19)
        public static let os = EASTag(known: 18, 0x1A)
        public static let osLanguage = EASTag(known: 18, 0x1B)
        public static let phoneNumber = EASTag(known: 18, 0x1C)
        public static let userInformation = EASTag(known: 18, 0x1D)
        public static let emailAddresses = EASTag(known: 18, 0x1E)
        public static let smtpAddress = EASTag(known: 18, 0x1F)
        public static let userAgent = EASTag(known: 18, 0x20)
        public static let enableOutboundSMS = EASTag(known: 18, 0x21)
        public static let mobileOperator = EASTag(known: 18, 0x22)
        public static let primarySmtpAddress = EASTag(known: 18, 0x23)
        public static let accounts = EASTag(known: 18, 0x24)
        public static let account = EASTag(known: 18, 0x25)
        public static let accountId = EASTag(known: 18, 0x26)
        public static let accountName = EASTag(known: 18, 0x27)
        public static let userDisplayName = EASTag(known: 18, 0x28)
        public static let sendDisabled = EASTag(known: 18, 0x29)
        public static let rightsManagementInformation = EASTag(known: 18, 0x2B)
    }
}
