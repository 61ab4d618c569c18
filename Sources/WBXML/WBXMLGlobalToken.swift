/// The global tokens of WBXML 1.3 (WAP-192-WBXML-20010725, section 7.1), which have the same
/// meaning on every code page.
public enum WBXMLGlobalToken {
    /// Change the code page for the tag tokens that follow; followed by one page byte.
    public static let switchPage: UInt8 = 0x00
    /// End of the content of the innermost open element.
    public static let end: UInt8 = 0x01
    /// A character entity; followed by its code point as a multi-byte integer.
    public static let entity: UInt8 = 0x02
    /// An inline string; followed by the string's bytes and a terminating NUL.
    public static let stringInline: UInt8 = 0x03
    /// An unknown tag named by the string table.
    public static let literal: UInt8 = 0x04
    /// Inline extension tokens carrying a string.
    public static let extensionInline0: UInt8 = 0x40
    public static let extensionInline1: UInt8 = 0x41
    public static let extensionInline2: UInt8 = 0x42
    /// A processing instruction.
    public static let processingInstruction: UInt8 = 0x43
    /// An unknown tag with content named by the string table.
    public static let literalContent: UInt8 = 0x44
    /// Extension tokens carrying a string-table index.
    public static let extensionTable0: UInt8 = 0x80
    public static let extensionTable1: UInt8 = 0x81
    public static let extensionTable2: UInt8 = 0x82
    /// A string taken from the string table; followed by its offset as a multi-byte integer.
    public static let stringTable: UInt8 = 0x83
    /// An unknown tag with attributes named by the string table.
    public static let literalAttributes: UInt8 = 0x84
    /// Single-byte extension tokens.
    public static let extension0: UInt8 = 0xC0
    public static let extension1: UInt8 = 0xC1
    public static let extension2: UInt8 = 0xC2
    /// Opaque data; followed by its length as a multi-byte integer and that many bytes.
    public static let opaque: UInt8 = 0xC3
    /// An unknown tag with attributes and content named by the string table.
    public static let literalAttributesContent: UInt8 = 0xC4

    /// Bit 7 of a tag token: the element has attributes (WBXML 1.3, 5.8.2).
    public static let attributesFlag: UInt8 = 0x80
    /// Bit 6 of a tag token: the element has content and is closed by `END` (WBXML 1.3, 5.8.2).
    public static let contentFlag: UInt8 = 0x40
    /// The low six bits of a tag token identify the tag within its code page.
    public static let tagIdentityMask: UInt8 = 0x3F
}
