import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a WBXML 1.3 document token by token into a `ByteBuffer`.
///
/// `SWITCH_PAGE` is written only when a tag's page differs from the current one, which is
/// what Exchange does; strings go out as `STR_I` (the string table stays empty).
public struct WBXMLWriter {
    /// The bytes written so far.
    public private(set) var buffer: ByteBuffer
    private var page: UInt8 = 0
    private var depth = 0

    /// Starts a document with `header` (by default the EAS header `03 01 6A 00`).
    public init(header: WBXMLHeader = .activeSync, buffer: ByteBuffer = ByteBuffer()) {
        self.buffer = buffer
        self.buffer.writeInteger(header.version)
        MultiByteInteger.write(header.publicIdentifier, to: &self.buffer)
        if header.publicIdentifier == 0 {
            MultiByteInteger.write(0, to: &self.buffer)
        }
        MultiByteInteger.write(header.charset, to: &self.buffer)
        MultiByteInteger.write(UInt32(header.stringTable.count), to: &self.buffer)
        self.buffer.writeBytes(header.stringTable)
    }

    /// Opens an element that has content; close it with `endElement()`.
    public mutating func startElement(_ tag: WBXMLTag) {
        switchPage(to: tag.page)
        buffer.writeInteger(tag.token | WBXMLGlobalToken.contentFlag)
        depth += 1
    }

    /// Writes an element without content (`<Tag/>`).
    public mutating func emptyElement(_ tag: WBXMLTag) {
        switchPage(to: tag.page)
        buffer.writeInteger(tag.token)
    }

    /// Closes the innermost open element.
    public mutating func endElement() throws(WBXMLError) {
        guard depth > 0 else { throw WBXMLError(.unbalancedWrite, at: buffer.writerIndex) }
        buffer.writeInteger(WBXMLGlobalToken.end)
        depth -= 1
    }

    /// Writes character data as `STR_I`. A string containing NUL cannot be written.
    public mutating func text(_ string: String) throws(WBXMLError) {
        var string = string
        let hasNul = string.withUTF8 { bytes in
            bytes.count > 0 && memchr(bytes.baseAddress!, 0, bytes.count) != nil
        }
        guard !hasNul else { throw WBXMLError(.nulInString, at: buffer.writerIndex) }
        buffer.writeInteger(WBXMLGlobalToken.stringInline)
        buffer.writeString(string)
        buffer.writeInteger(UInt8(0))
    }

    /// Writes opaque bytes as `OPAQUE`.
    public mutating func opaque(_ bytes: ByteBuffer) {
        buffer.writeInteger(WBXMLGlobalToken.opaque)
        MultiByteInteger.write(UInt32(bytes.readableBytes), to: &buffer)
        var bytes = bytes
        buffer.writeBuffer(&bytes)
    }

    /// Writes opaque bytes as `OPAQUE`.
    public mutating func opaque(_ bytes: some Collection<UInt8>) {
        buffer.writeInteger(WBXMLGlobalToken.opaque)
        MultiByteInteger.write(UInt32(bytes.count), to: &buffer)
        buffer.writeBytes(bytes)
    }

    /// The finished document; every opened element must have been closed.
    public func finished() throws(WBXMLError) -> ByteBuffer {
        guard depth == 0 else { throw WBXMLError(.unbalancedWrite, at: buffer.writerIndex) }
        return buffer
    }

    private mutating func switchPage(to newPage: UInt8) {
        guard newPage != page else { return }
        buffer.writeInteger(WBXMLGlobalToken.switchPage)
        buffer.writeInteger(newPage)
        page = newPage
    }
}
