/// Why a WBXML body could not be read or written, and where.
///
/// The code says what went wrong; `offset` is the byte offset in the body (counted from the
/// first header byte) of the token that could not be accepted.
public struct WBXMLError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// The body ended before the document was complete.
        public static let truncated = Code(name: "truncated")
        /// The version byte is not a WBXML version this reader understands (1.1–1.3).
        public static let unsupportedVersion = Code(name: "unsupported version")
        /// The character set is not UTF-8.
        public static let unsupportedCharset = Code(name: "unsupported charset")
        /// A multi-byte integer is longer than five bytes or exceeds 32 bits.
        public static let integerOverflow = Code(name: "multi-byte integer overflow")
        /// More bytes than `WBXMLLimits.maxBodySize`.
        public static let bodyTooLarge = Code(name: "body too large")
        /// Elements nested deeper than `WBXMLLimits.maxDepth`.
        public static let tooDeep = Code(name: "elements nested too deeply")
        /// An `OPAQUE` longer than `WBXMLLimits.maxOpaqueLength`.
        public static let opaqueTooLong = Code(name: "opaque data too long")
        /// An inline string longer than `WBXMLLimits.maxStringLength`.
        public static let stringTooLong = Code(name: "string too long")
        /// A string table longer than `WBXMLLimits.maxStringTableLength`.
        public static let stringTableTooLong = Code(name: "string table too long")
        /// A `STR_T` offset outside the string table, or an unterminated table string.
        public static let invalidStringTableReference = Code(name: "invalid string table reference")
        /// A string that is not valid UTF-8.
        public static let invalidUTF8 = Code(name: "invalid UTF-8")
        /// An `ENTITY` naming NUL or a value that is not a Unicode scalar.
        public static let invalidEntity = Code(name: "invalid character entity")
        /// A tag with attributes; EAS never uses attributes.
        public static let attributesUnsupported = Code(name: "attributes are not supported")
        /// `LITERAL`, `EXT_*` or `PI` tokens, which EAS never uses.
        public static let unsupportedToken = Code(name: "unsupported global token")
        /// `END` with no open element.
        public static let unexpectedEnd = Code(name: "END without an open element")
        /// Text or opaque data outside the root element.
        public static let contentOutsideRoot = Code(name: "content outside the root element")
        /// Bytes after the root element was closed.
        public static let trailingData = Code(name: "data after the root element")
        /// The body has no root element.
        public static let missingRoot = Code(name: "no root element")
        /// A string to be written contains NUL, which `STR_I` cannot carry.
        public static let nulInString = Code(name: "NUL inside a string")
        /// The writer was asked to close an element when none is open, or to finish with open elements.
        public static let unbalancedWrite = Code(name: "unbalanced elements written")
    }

    /// What went wrong.
    public var code: Code
    /// The byte offset of the offending token within the body.
    public var offset: Int

    public init(_ code: Code, at offset: Int) {
        self.code = code
        self.offset = offset
    }

    public var description: String { "WBXML \(code) at byte \(offset)" }
}
