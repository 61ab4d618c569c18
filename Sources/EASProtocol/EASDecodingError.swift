import WBXML

/// Why a body is not a well-formed EAS document, and where.
public struct EASDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// The WBXML layer refused the body; `wbxmlCode` says why.
        public static let wbxml = Code(name: "invalid WBXML")
        /// A `SWITCH_PAGE` to a page [MS-ASWBXML] does not define (other than Outlook's 0xFE).
        public static let unknownCodePage = Code(name: "unknown code page")
        /// A tag token its code page does not define.
        public static let unknownTag = Code(name: "unknown tag")
        /// An element holding text or opaque data together with other content.
        public static let mixedContent = Code(name: "mixed content")
    }

    /// What went wrong.
    public var code: Code
    /// The byte offset in the body.
    public var offset: Int
    /// For `.wbxml`, the WBXML layer's reason.
    public var wbxmlCode: WBXMLError.Code?
    /// For `.unknownCodePage` and `.unknownTag`, the offending tag.
    public var tag: WBXMLTag?

    public init(_ code: Code, at offset: Int, tag: WBXMLTag? = nil) {
        self.code = code
        self.offset = offset
        self.tag = tag
    }

    /// The EAS form of a WBXML error.
    public init(_ error: WBXMLError) {
        self.init(.wbxml, at: error.offset)
        self.wbxmlCode = error.code
    }

    public var description: String {
        var text = "EAS body: \(wbxmlCode.map { "\($0)" } ?? code.description)"
        if let tag { text += " (\(tag))" }
        return text + " at byte \(offset)"
    }
}
