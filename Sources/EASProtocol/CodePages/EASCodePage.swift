/// One EAS code page: a namespace and the names of its tag tokens.
///
/// [MS-ASWBXML] 2.1.2.1 defines code pages 0–25; each has a file beside this one with its
/// exact token values. Outlook also sends a non-standard page 0xFE (`windowsLive`), which
/// decoders skip.
public struct EASCodePage: Sendable {
    /// The page number selected by `SWITCH_PAGE`.
    public let number: UInt8
    /// The namespace, as EAS XML names it (without the trailing colon of libwbxml's rendering).
    public let namespace: String
    /// Element names by token identity (index 0x00–0x3F); `nil` where the page defines none.
    public let names: [String?]
    private let tokensByName: [String: UInt8]

    init(number: UInt8, namespace: String, tokens: [(UInt8, String)]) {
        self.number = number
        self.namespace = namespace
        var names = [String?](repeating: nil, count: 64)
        var tokensByName: [String: UInt8] = [:]
        for (token, name) in tokens {
            precondition(names[Int(token)] == nil && tokensByName[name] == nil, "duplicate token on page \(number)")
            names[Int(token)] = name
            tokensByName[name] = token
        }
        self.names = names
        self.tokensByName = tokensByName
    }

    /// The element name of `token` on this page, if the page defines it.
    public func name(of token: UInt8) -> String? {
        token < 64 ? names[Int(token)] : nil
    }

    /// The token of the element called `name` on this page.
    public func token(named name: String) -> UInt8? {
        tokensByName[name]
    }

    /// Every defined `(token, name)` pair, in token order.
    public var tokens: [(token: UInt8, name: String)] {
        names.enumerated().compactMap { index, name in name.map { (UInt8(index), $0) } }
    }

    /// Code pages 0–25, indexed by number ([MS-ASWBXML] 2.1.2.1).
    public static let standard: [EASCodePage] = [
        .airSync, .contacts, .email, .airNotify, .calendar, .move, .getItemEstimate, .folderHierarchy,
        .meetingResponse, .tasks, .resolveRecipients, .validateCert, .contacts2, .ping, .provision, .search,
        .gal, .airSyncBase, .settings, .documentLibrary, .itemOperations, .composeMail, .email2, .notes,
        .rightsManagement, .find,
    ]

    /// Outlook's non-standard annotation page. It is not in [MS-ASWBXML]; Outlook 2013 and later
    /// put "WindowsLive" annotations on it in requests. Its elements are skipped when decoding.
    public static let windowsLive = EASCodePage(number: 0xFE, namespace: "WindowsLive", tokens: [])

    /// The standard page numbered `number`, or `nil` (page 0xFE is not standard: see `windowsLive`).
    public static func standard(_ number: UInt8) -> EASCodePage? {
        Int(number) < standard.count ? standard[Int(number)] : nil
    }

    private static let byNamespace: [String: EASCodePage] = Dictionary(
        uniqueKeysWithValues: standard.map { ($0.namespace, $0) }
    )

    /// The standard page of `namespace`. A trailing colon, as libwbxml writes it, is accepted.
    public static func standard(namespace: String) -> EASCodePage? {
        byNamespace[namespace.hasSuffix(":") ? String(namespace.dropLast()) : namespace]
    }
}
