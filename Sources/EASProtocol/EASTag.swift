import WBXML

/// An element of the EAS vocabulary: a code page and a token that the page defines.
///
/// Every `EASTag` names an element of [MS-ASWBXML] 2.1.2.1, so `namespace` and `name` always
/// exist. The constants are grouped by page: `EASTag.AirSync.sync`, `EASTag.AirSyncBase.body`.
public struct EASTag: Hashable, Sendable, CustomStringConvertible {
    /// The code page number (0–25).
    public let page: UInt8
    /// The tag identity on that page (0x05–0x3F).
    public let token: UInt8

    /// A tag the code page tables define; only the tables use this.
    init(known page: UInt8, _ token: UInt8) {
        self.page = page
        self.token = token
    }

    /// The tag with these numbers, if [MS-ASWBXML] defines it.
    public init?(page: UInt8, token: UInt8) {
        guard Int(page) < Self.definedTokens.count, token < 64, Self.definedTokens[Int(page)] >> token & 1 == 1 else {
            return nil
        }
        self.init(known: page, token)
    }

    /// Per page, a bit for each token the page defines: the decoder's check of every tag,
    /// without touching the name tables.
    private static let definedTokens: [UInt64] = EASCodePage.standard.map { page in
        page.tokens.reduce(0) { $0 | 1 << UInt64($1.token) }
    }

    /// The tag called `name` in `namespace` (with or without libwbxml's trailing colon).
    public init?(namespace: String, name: String) {
        guard let codePage = EASCodePage.standard(namespace: namespace), let token = codePage.token(named: name) else {
            return nil
        }
        self.init(known: codePage.number, token)
    }

    /// The tag as WBXML writes it.
    public var wbxml: WBXMLTag { WBXMLTag(page: page, token: token) }

    /// The code page the tag belongs to.
    public var codePage: EASCodePage { EASCodePage.standard[Int(page)] }

    /// The namespace, e.g. `AirSync`.
    public var namespace: String { codePage.namespace }

    /// The element name, e.g. `Sync`.
    public var name: String { codePage.names[Int(token)]! }

    /// `Namespace:Name`.
    public var description: String { "\(namespace):\(name)" }
}
