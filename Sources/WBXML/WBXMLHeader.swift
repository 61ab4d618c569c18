/// The start of a WBXML document: version, public identifier, character set and string table.
///
/// WBXML 1.3, 5.4–5.7. Exchange ActiveSync always sends `03 01 6A 00`: version 1.3, public id 1
/// ("unknown"), charset 106 (UTF-8) and an empty string table ([MS-ASWBXML] 2.1.2).
public struct WBXMLHeader: Hashable, Sendable {
    /// The encoded version byte: major version minus one in the high nibble, minor in the low.
    public var version: UInt8
    /// The public identifier of the document type; 1 means unknown.
    public var publicIdentifier: UInt32
    /// The IANA MIBenum of the document's character set; 106 is UTF-8, the only one accepted.
    public var charset: UInt32
    /// The raw string table; referenced by `STR_T`. Empty in EAS.
    public var stringTable: [UInt8]

    public init(version: UInt8 = 0x03, publicIdentifier: UInt32 = 1, charset: UInt32 = 106, stringTable: [UInt8] = []) {
        self.version = version
        self.publicIdentifier = publicIdentifier
        self.charset = charset
        self.stringTable = stringTable
    }

    /// The header every EAS body carries: `03 01 6A 00`.
    public static let activeSync = WBXMLHeader()

    /// The IANA MIBenum of UTF-8.
    public static let utf8Charset: UInt32 = 106
}
