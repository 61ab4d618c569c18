/// The MIME decoding the gateway needs ([RFC 2045]–[RFC 2047], [RFC 5322] addresses),
/// supplied by the adapter's MIME library so that nothing in the gateway parses mail by hand.
public protocol MIMECodec: Sendable {
    /// Undoes a Content-Transfer-Encoding (`base64`, `quoted-printable`); other encodings pass
    /// through. A base64 or quoted-printable text cut short (a truncated fetch) decodes as far
    /// as it is whole.
    func decodeTransferEncoding(_ bytes: [UInt8], encoding: String) -> [UInt8]

    /// Text in `charset` (nil: US-ASCII/UTF-8) as a string. Unknown charsets and invalid bytes
    /// are repaired, never refused: a phone must still see the message.
    func decodeText(_ bytes: [UInt8], charset: String?) -> String

    /// A header value with [RFC 2047] encoded words decoded.
    func decodeHeader(_ value: String) -> String

    /// The mailboxes of an address-list header (To, Cc, Bcc, Reply-To), groups flattened and
    /// display names decoded. Throws `.refused` for text that is not an address list.
    func addresses(in value: String) throws -> [MailAddress]
}

extension MIMECodec {
    /// The text of a fetched part: transfer encoding, then charset.
    public func text(of bytes: [UInt8], part: MIMEPart) -> String {
        decodeText(decodeTransferEncoding(bytes, encoding: part.encoding), charset: part.charset)
    }
}
