import NIOCore

/// An element of an EAS document: a tag from the code pages and what it holds.
///
/// EAS never mixes text and child elements in one element ([MS-ASCMD] 2.2.3), so the content is
/// exactly one of: nothing, text, opaque bytes, or child elements.
public struct EASElement: Hashable, Sendable {
    /// What an element holds.
    public enum Content: Hashable, Sendable {
        /// A tag written without the WBXML content flag: `<Tag/>`.
        case empty
        /// Character data, e.g. `<SyncKey>1</SyncKey>`.
        case text(String)
        /// Opaque bytes, e.g. MIME in `ComposeMail:Mime` or `AirSyncBase:Data` of a MIME body.
        case opaque(ByteBuffer)
        /// Child elements in document order. `.children([])` is a tag with the content flag and no
        /// content, which WBXML can express and some clients send.
        case children([EASElement])
    }

    /// The element's tag, which gives its namespace and name.
    public var tag: EASTag
    /// What the element holds.
    public var content: Content

    public init(_ tag: EASTag, _ content: Content = .empty) {
        self.tag = tag
        self.content = content
    }

    /// An element holding text.
    public init(_ tag: EASTag, text: String) {
        self.init(tag, .text(text))
    }

    /// An element holding child elements.
    public init(_ tag: EASTag, children: [EASElement]) {
        self.init(tag, .children(children))
    }

    /// The child elements (empty unless the content is `.children`).
    public var children: [EASElement] {
        if case .children(let children) = content { return children }
        return []
    }

    /// The text (nil unless the content is `.text`).
    public var text: String? {
        if case .text(let text) = content { return text }
        return nil
    }

    /// The opaque bytes (nil unless the content is `.opaque`).
    public var opaque: ByteBuffer? {
        if case .opaque(let bytes) = content { return bytes }
        return nil
    }

    /// The first child with `tag`.
    public func child(_ tag: EASTag) -> EASElement? {
        children.first { $0.tag == tag }
    }

    /// Every child with `tag`, in order.
    public func children(_ tag: EASTag) -> [EASElement] {
        children.filter { $0.tag == tag }
    }
}
