/// The EAS commands ([MS-ASCMD] 2.2.1), by the name the `Cmd` query parameter carries.
public enum EASCommand: String, Sendable, CaseIterable {
    case sync = "Sync"
    case sendMail = "SendMail"
    case smartForward = "SmartForward"
    case smartReply = "SmartReply"
    case getAttachment = "GetAttachment"
    case folderSync = "FolderSync"
    case folderCreate = "FolderCreate"
    case folderDelete = "FolderDelete"
    case folderUpdate = "FolderUpdate"
    case moveItems = "MoveItems"
    case getItemEstimate = "GetItemEstimate"
    case meetingResponse = "MeetingResponse"
    case search = "Search"
    case settings = "Settings"
    case ping = "Ping"
    case itemOperations = "ItemOperations"
    case provision = "Provision"
    case resolveRecipients = "ResolveRecipients"
    case validateCert = "ValidateCert"
    case find = "Find"

    /// The commands this gateway answers, for the `MS-ASProtocolCommands` header.
    public static let implemented: [EASCommand] = [.sync, .sendMail, .smartForward, .smartReply, .folderSync, .folderCreate,
                                                   .folderDelete, .folderUpdate, .moveItems, .getItemEstimate, .search, .resolveRecipients, .ping,
                                                   .itemOperations, .provision, .settings, .meetingResponse, .find, .getAttachment]

    /// Commands whose 12.x body is not WBXML.
    public var takesRawBodyBefore14: Bool { self == .sendMail || self == .smartReply || self == .smartForward }

    /// [MS-ASHTTP] 2.2.1.1.1.1.2: the numeric command codes of the base64 query form.
    public init?(code: UInt8) {
        let table: [UInt8: EASCommand] = [
            0: .sync, 1: .sendMail, 2: .smartForward, 3: .smartReply, 4: .getAttachment, 9: .folderSync,
            10: .folderCreate, 11: .folderDelete, 12: .folderUpdate, 13: .moveItems, 14: .getItemEstimate,
            15: .meetingResponse, 16: .search, 17: .settings, 18: .ping, 19: .itemOperations, 20: .provision,
            21: .resolveRecipients, 22: .validateCert, 23: .find,
        ]
        guard let command = table[code] else { return nil }
        self = command
    }

    /// Commands that need a provisioned device when provisioning is enforced.
    var needsPolicy: Bool { self != .provision && self != .ping && self != .settings }
}
