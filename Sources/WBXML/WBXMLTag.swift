/// A tag as WBXML names it: a code page and the six-bit identity of the tag on that page.
///
/// WBXML 1.3, 5.8.2 and 5.8.4.7.1. Identities 0x00–0x04 collide with global tokens and are
/// never tags, so valid identities are 0x05–0x3F.
public struct WBXMLTag: Hashable, Sendable, CustomStringConvertible {
    /// The code page, as selected by `SWITCH_PAGE`.
    public var page: UInt8
    /// The tag's identity on its page, without the content and attribute flags.
    public var token: UInt8

    /// Creates a tag; `token` must be 0x05–0x3F.
    public init(page: UInt8, token: UInt8) {
        precondition(token >= 0x05 && token <= 0x3F, "a WBXML tag identity is 0x05-0x3F")
        self.page = page
        self.token = token
    }

    public var description: String {
        "page \(page) token 0x" + String(token, radix: 16, uppercase: true)
    }
}
