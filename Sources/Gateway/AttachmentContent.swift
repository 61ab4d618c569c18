import EASProtocol
import MailUpstream
import NIOCore

/// An attachment's bytes for ItemOperations and GetAttachment: the part is read from IMAP in
/// chunks and a base64 part is decoded as the chunks arrive, into one buffer sized up front,
/// so a large attachment is held once (decoded) rather than encoded, copied and decoded.
extension Gateway {
    /// The decoded content of `part` of message `uid`; with `encodedLimit`, only that many
    /// encoded bytes are read.
    func attachmentContent(_ part: MIMEPart, uid: UInt32, in mailbox: IMAPMailboxName, session: any MailSession,
                           encodedLimit: Int? = nil) async throws -> ByteBuffer {
        let range = encodedLimit.flatMap { part.size > $0 ? 0..<$0 : nil }
        let chunks = session.fetchChunks(in: mailbox, uid: uid, section: part.section, range: range)
        let expected = min(part.size, encodedLimit ?? part.size)
        guard part.encoding == "base64" else {
            // Quoted-printable and the identity encodings: rare for large parts; decoded whole.
            var encoded: [UInt8] = []
            encoded.reserveCapacity(expected)
            for try await chunk in chunks { encoded += chunk }
            return ByteBuffer(bytes: codec.decodeTransferEncoding(encoded, encoding: part.encoding))
        }
        var decoder = MIMEBase64Decoder()
        // Base64 takes 4 characters for 3 bytes, plus line breaks: the decoded size stays under
        // three quarters of the encoded one, so the buffer never grows (and is never copied).
        var decoded = ByteBufferAllocator().buffer(capacity: MIMEBase64Decoder.capacity(for: expected))
        for try await chunk in chunks {
            chunk.withUnsafeBufferPointer { input in
                _ = decoded.writeWithUnsafeMutableBytes(minimumWritableBytes: MIMEBase64Decoder.capacity(for: input.count)) {
                    decoder.decode(input, into: $0.bindMemory(to: UInt8.self))
                }
            }
        }
        _ = decoded.writeWithUnsafeMutableBytes(minimumWritableBytes: 2) { decoder.finish(into: $0.bindMemory(to: UInt8.self)) }
        return decoded
    }
}
