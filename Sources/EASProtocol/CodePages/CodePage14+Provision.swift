extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.15: code page 14, namespace `Provision`.
    public static let provision = EASCodePage(
        number: 14,
        namespace: "Provision",
        tokens: [
            (0x05, "Provision"),
            (0x06, "Policies"),
            (0x07, "Policy"),
            (0x08, "PolicyType"),
            (0x09, "PolicyKey"),
            (0x0A, "Data"),
            (0x0B, "Status"),
            (0x0C, "RemoteWipe"),
            (0x0D, "EASProvisionDoc"),
            (0x0E, "DevicePasswordEnabled"),
            (0x0F, "AlphanumericDevicePasswordRequired"),
            (0x10, "RequireStorageCardEncryption"),
            (0x11, "PasswordRecoveryEnabled"),
            (0x13, "AttachmentsEnabled"),
            (0x14, "MinDevicePasswordLength"),
            (0x15, "MaxInactivityTimeDeviceLock"),
            (0x16, "MaxDevicePasswordFailedAttempts"),
            (0x17, "MaxAttachmentSize"),
            (0x18, "AllowSimpleDevicePassword"),
            (0x19, "DevicePasswordExpiration"),
            (0x1A, "DevicePasswordHistory"),
            (0x1B, "AllowStorageCard"),
            (0x1C, "AllowCamera"),
            (0x1D, "RequireDeviceEncryption"),
            (0x1E, "AllowUnsignedApplications"),
            (0x1F, "AllowUnsignedInstallationPackages"),
            (0x20, "MinDevicePasswordComplexCharacters"),
            (0x21, "AllowWiFi"),
            (0x22, "AllowTextMessaging"),
            (0x23, "AllowPOPIMAPEmail"),
            (0x24, "AllowBluetooth"),
            (0x25, "AllowIrDA"),
            (0x26, "RequireManualSyncWhenRoaming"),
            (0x27, "AllowDesktopSync"),
            (0x28, "MaxCalendarAgeFilter"),
            (0x29, "AllowHTMLEmail"),
            (0x2A, "MaxEmailAgeFilter"),
            (0x2B, "MaxEmailBodyTruncationSize"),
            (0x2C, "MaxEmailHTMLBodyTruncationSize"),
            (0x2D, "RequireSignedSMIMEMessages"),
            (0x2E, "RequireEncryptedSMIMEMessages"),
            (0x2F, "RequireSignedSMIMEAlgorithm"),
            (0x30, "RequireEncryptionSMIMEAlgorithm"),
            (0x31, "AllowSMIMEEncryptionAlgorithmNegotiation"),
            (0x32, "AllowSMIMESoftCerts"),
            (0x33, "AllowBrowser"),
            (0x34, "AllowConsumerEmail"),
            (0x35, "AllowRemoteDesktop"),
            (0x36, "AllowInternetSharing"),
            (0x37, "UnapprovedInROMApplicationList"),
            (0x38, "ApplicationName"),
            (0x39, "ApprovedApplicationList"),
            (0x3A, "Hash"),
            (0x3B, "AccountOnlyRemoteWipe"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 14, `Provision` ([MS-ASWBXML] 2.1.2.1.15).
    public enum Provision {
        public static let provision = EASTag(known: 14, 0x05)
        public static let policies = EASTag(known: 14, 0x06)
        public static let policy = EASTag(known: 14, 0x07)
        public static let policyType = EASTag(known: 14, 0x08)
        public static let policyKey = EASTag(known: 14, 0x09)
        public static let data = EASTag(known: 14, 0x0A)
        public static let status = EASTag(known: 14, 0x0B)
        public static let remoteWipe = EASTag(known: 14, 0x0C)
        public static let easProvisionDoc = EASTag(known: 14, 0x0D)
        public static let devicePasswordEnabled = EASTag(known: 14, 0x0E)
        public static let alphanumericDevicePasswordRequired = EASTag(known: 14, 0x0F)
        public static let requireStorageCardEncryption = EASTag(known: 14, 0x10)
        public static let passwordRecoveryEnabled = EASTag(known: 14, 0x11)
        public static let attachmentsEnabled = EASTag(known: 14, 0x13)
        public static let minDevicePasswordLength = EASTag(known: 14, 0x14)
        public static let maxInactivityTimeDeviceLock = EASTag(known: 14, 0x15)
        public static let maxDevicePasswordFailedAttempts = EASTag(known: 14, 0x16)
        public static let maxAttachmentSize = EASTag(known: 14, 0x17)
        public static let allowSimpleDevicePassword = EASTag(known: 14, 0x18)
        public static let devicePasswordExpiration = EASTag(known: 14, 0x19)
        public static let devicePasswordHistory = EASTag(known: 14, 0x1A)
        public static let allowStorageCard = EASTag(known: 14, 0x1B)
        public static let allowCamera = EASTag(known: 14, 0x1C)
        public static let requireDeviceEncryption = EASTag(known: 14, 0x1D)
        public static let allowUnsignedApplications = EASTag(known: 14, 0x1E)
        public static let allowUnsignedInstallationPackages = EASTag(known: 14, 0x1F)
        public static let minDevicePasswordComplexCharacters = EASTag(known: 14, 0x20)
        public static let allowWiFi = EASTag(known: 14, 0x21)
        public static let allowTextMessaging = EASTag(known: 14, 0x22)
        public static let allowPOPIMAPEmail = EASTag(known: 14, 0x23)
        public static let allowBluetooth = EASTag(known: 14, 0x24)
        public static let allowIrDA = EASTag(known: 14, 0x25)
        public static let requireManualSyncWhenRoaming = EASTag(known: 14, 0x26)
        public static let allowDesktopSync = EASTag(known: 14, 0x27)
        public static let maxCalendarAgeFilter = EASTag(known: 14, 0x28)
        public static let allowHTMLEmail = EASTag(known: 14, 0x29)
        public static let maxEmailAgeFilter = EASTag(known: 14, 0x2A)
        public static let maxEmailBodyTruncationSize = EASTag(known: 14, 0x2B)
        public static let maxEmailHTMLBodyTruncationSize = EASTag(known: 14, 0x2C)
        public static let requireSignedSMIMEMessages = EASTag(known: 14, 0x2D)
        public static let requireEncryptedSMIMEMessages = EASTag(known: 14, 0x2E)
        public static let requireSignedSMIMEAlgorithm = EASTag(known: 14, 0x2F)
        public static let requireEncryptionSMIMEAlgorithm = EASTag(known: 14, 0x30)
        public static let allowSMIMEEncryptionAlgorithmNegotiation = EASTag(known: 14, 0x31)
        public static let allowSMIMESoftCerts = EASTag(known: 14, 0x32)
        public static let allowBrowser = EASTag(known: 14, 0x33)
        public static let allowConsumerEmail = EASTag(known: 14, 0x34)
        public static let allowRemoteDesktop = EASTag(known: 14, 0x35)
        public static let allowInternetSharing = EASTag(known: 14, 0x36)
        public static let unapprovedInROMApplicationList = EASTag(known: 14, 0x37)
        public static let applicationName = EASTag(known: 14, 0x38)
        public static let approvedApplicationList = EASTag(known: 14, 0x39)
        public static let hash = EASTag(known: 14, 0x3A)
        public static let accountOnlyRemoteWipe = EASTag(known: 14, 0x3B)
    }
}
