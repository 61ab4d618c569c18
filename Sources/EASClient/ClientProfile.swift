import EASProtocol

/// How one real EAS client talks, as far as a server can tell: what it sends and how it reacts
/// to each status. The values follow the clients' documented behaviour and public protocol
/// traces (PROTOCOL.md's client table); docs/clients.md says what is and is not verified.
public struct ClientProfile: Sendable, CustomStringConvertible {
    public var name: String
    public var deviceType: String
    public var userAgent: String
    public var version: EASProtocolVersion
    /// Runs Provision before anything else (Outlook desktop cannot).
    public var provisions: Bool
    /// Sends Settings (UserInformation Get, DeviceInformation Set) first, with policy key 0 (iOS).
    public var settingsFirst: Bool
    /// Asks Autodiscover (mobile-sync schema) for the server before OPTIONS.
    public var usesAutodiscover: Bool
    /// Sends a throw-away request as DeviceId `validate` while the account is being set up
    /// (Android's account check), which must not become a partnership that matters.
    public var validatesFirst: Bool
    public var windowSize: Int
    /// BodyPreference Type and TruncationSize of its Syncs.
    public var bodyType: Int
    public var truncationSize: Int?
    /// Puts Outlook's page-0xFE annotations into its requests.
    public var annotatesRequests: Bool
    /// Sends Syncs with an empty `<Folders/>`-style body between Pings (Android's heartbeat).
    public var emptyHeartbeatSyncs: Bool
    /// Gives up on a request after this long (Android: 30 s).
    public var readTimeout: Duration

    public var description: String { name }

    /// iOS Mail: 16.1, Settings before Provision, Autodiscover, HTML bodies.
    public static let iOS16 = ClientProfile(
        name: "iOS Mail 16.1", deviceType: "iPhone", userAgent: "Apple-iPhone15C2/2101.123", version: .v16_1, provisions: true,
        settingsFirst: true, usesAutodiscover: true, validatesFirst: false, windowSize: 50, bodyType: 2, truncationSize: 500_000,
        annotatesRequests: false, emptyHeartbeatSyncs: false, readTimeout: .seconds(300))
    /// iOS Mail on a server offering at most 14.1.
    public static let iOS14 = ClientProfile(
        name: "iOS Mail 14.1", deviceType: "iPhone", userAgent: "Apple-iPhone13C2/1905.258", version: .v14_1, provisions: true,
        settingsFirst: true, usesAutodiscover: true, validatesFirst: false, windowSize: 50, bodyType: 2, truncationSize: 500_000,
        annotatesRequests: false, emptyHeartbeatSyncs: false, readTimeout: .seconds(300))
    /// Outlook 2016–2021 desktop: no provisioning, WindowSize 512, MIME bodies, annotations.
    public static let outlook16 = ClientProfile(
        name: "Outlook 2021 (16.1)", deviceType: "WindowsOutlook15", userAgent: "Outlook/16.0 (16.0.14332; x64)",
        version: .v16_1, provisions: false, settingsFirst: false, usesAutodiscover: false, validatesFirst: false, windowSize: 512,
        bodyType: 4, truncationSize: nil, annotatesRequests: true, emptyHeartbeatSyncs: false, readTimeout: .seconds(300))
    /// Outlook 2016 on a 14.0 server.
    public static let outlook14 = ClientProfile(
        name: "Outlook 2016 (14.0)", deviceType: "WindowsOutlook15", userAgent: "Outlook/16.0 (16.0.4266; x86)",
        version: .v14_0, provisions: false, settingsFirst: false, usesAutodiscover: false, validatesFirst: false, windowSize: 512,
        bodyType: 4, truncationSize: nil, annotatesRequests: true, emptyHeartbeatSyncs: false, readTimeout: .seconds(300))
    /// Gmail for Android's Exchange account: 14.1, the `validate` probe, 30 s timeout,
    /// 200,000-byte bodies, empty heartbeat Syncs.
    public static let androidGmail = ClientProfile(
        name: "Android Gmail (14.1)", deviceType: "Android", userAgent: "Android-Mail/2024.05.12.633519",
        version: .v14_1, provisions: true, settingsFirst: false, usesAutodiscover: true, validatesFirst: true, windowSize: 25,
        bodyType: 2, truncationSize: 200_000, annotatesRequests: false, emptyHeartbeatSyncs: true, readTimeout: .seconds(30))
    /// Samsung Email: 14.1, plain-text preferred, small windows.
    public static let samsungEmail = ClientProfile(
        name: "Samsung Email (14.1)", deviceType: "SAMSUNGSMS918B", userAgent: "SAMSUNG-SM-S918B/101.140104",
        version: .v14_1, provisions: true, settingsFirst: false, usesAutodiscover: true, validatesFirst: false, windowSize: 25,
        bodyType: 1, truncationSize: 51_200, annotatesRequests: false, emptyHeartbeatSyncs: false, readTimeout: .seconds(60))
    /// Thunderbird with EAS-4-TbSync: 14.0 here, Status 3 → key 0, 12 → FolderSync.
    public static let thunderbird = ClientProfile(
        name: "Thunderbird TbSync (14.0)", deviceType: "TbSync", userAgent: "Thunderbird ActiveSync", version: .v14_0,
        provisions: true, settingsFirst: false, usesAutodiscover: false, validatesFirst: false, windowSize: 40, bodyType: 4,
        truncationSize: nil, annotatesRequests: false, emptyHeartbeatSyncs: false, readTimeout: .seconds(90))

    public static let all: [ClientProfile] = [iOS16, iOS14, outlook16, outlook14, androidGmail, samsungEmail, thunderbird]
}
