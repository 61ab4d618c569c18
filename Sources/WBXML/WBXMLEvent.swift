import NIOCore

/// One step of a WBXML document body, as `WBXMLReader` produces them.
public enum WBXMLEvent: Equatable, Sendable {
    /// An element begins. `hasContent` is false for a tag written without the content flag
    /// (`<Tag/>`); its `endElement` follows at once.
    case startElement(WBXMLTag, hasContent: Bool)
    /// The innermost open element ends.
    case endElement(WBXMLTag)
    /// Character data (`STR_I`, `STR_T` or `ENTITY`), validated as UTF-8.
    case text(String)
    /// Opaque bytes (`OPAQUE`).
    case opaque(ByteBuffer)
}
