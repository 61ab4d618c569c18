import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a WBXML 1.3 document token by token.
///
/// `SWITCH_PAGE` is written only when a tag's page differs from the current one, which is
/// what Exchange does; strings go out as `STR_I` (the string table stays empty).
public struct WBXMLWriter {
    // Small tokens collect in an array and go to the ByteBuffer in blocks: appending a byte to
    // an array costs a fraction of a ByteBuffer write, and most of a Sync response is one-byte
    // tokens. Long strings and opaque data go to the ByteBuffer directly, which grows by
    // realloc instead of copying.
    private var buffer: ByteBuffer
    private var pending: [UInt8] = []
    private var page: UInt8 = 0
    private var depth = 0

    /// Tokens collected before they are copied into the buffer.
    private static let blockSize = 4096
    /// Strings at least this long bypass the block.
    private static let directStringLength = 256

    /// Starts a document with `header` (by default the EAS header `03 01 6A 00`).
    public init(header: WBXMLHeader = .activeSync, capacity: Int = 4096) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
        pending.reserveCapacity(Self.blockSize)
        pending.append(header.version)
        MultiByteInteger.write(header.publicIdentifier, to: &pending)
        if header.publicIdentifier == 0 {
            MultiByteInteger.write(0, to: &pending)
        }
        MultiByteInteger.write(header.charset, to: &pending)
        MultiByteInteger.write(UInt32(header.stringTable.count), to: &pending)
        pending.append(contentsOf: header.stringTable)
    }

    /// The number of bytes written so far.
    public var count: Int { buffer.readableBytes + pending.count }

    /// Opens an element that has content; close it with `endElement()`.
    public mutating func startElement(_ tag: WBXMLTag) {
        switchPage(to: tag.page)
        append(tag.token | WBXMLGlobalToken.contentFlag)
        depth += 1
    }

    /// Writes an element without content (`<Tag/>`).
    public mutating func emptyElement(_ tag: WBXMLTag) {
        switchPage(to: tag.page)
        append(tag.token)
    }

    /// Closes the innermost open element.
    public mutating func endElement() throws(WBXMLError) {
        guard depth > 0 else { throw WBXMLError(.unbalancedWrite, at: count) }
        append(WBXMLGlobalToken.end)
        depth -= 1
    }

    /// Writes character data as `STR_I`. A string containing NUL cannot be written.
    public mutating func text(_ string: String) throws(WBXMLError) {
        var string = string
        let offset = count
        let hasNul = string.withUTF8 { bytes in
            bytes.count > 0 && memchr(bytes.baseAddress!, 0, bytes.count) != nil
        }
        guard !hasNul else { throw WBXMLError(.nulInString, at: offset) }
        if string.utf8.count >= Self.directStringLength {
            flush()
            buffer.writeInteger(WBXMLGlobalToken.stringInline)
            buffer.writeString(string)
            buffer.writeInteger(UInt8(0))
        } else {
            append(WBXMLGlobalToken.stringInline)
            string.withUTF8 { pending.append(contentsOf: $0) }
            pending.append(0)
        }
    }

    /// Writes opaque bytes as `OPAQUE`.
    public mutating func opaque(_ data: ByteBuffer) {
        append(WBXMLGlobalToken.opaque)
        MultiByteInteger.write(UInt32(data.readableBytes), to: &pending)
        flush()
        var data = data
        buffer.writeBuffer(&data)
    }

    /// Writes opaque bytes as `OPAQUE`.
    public mutating func opaque(_ data: some Collection<UInt8>) {
        append(WBXMLGlobalToken.opaque)
        MultiByteInteger.write(UInt32(data.count), to: &pending)
        flush()
        buffer.writeBytes(data)
    }

    /// The finished document; every opened element must have been closed.
    public mutating func finished() throws(WBXMLError) -> ByteBuffer {
        guard depth == 0 else { throw WBXMLError(.unbalancedWrite, at: count) }
        // Flushing into our own buffer, not a copy of it, so that nothing is copied on write.
        flush()
        return buffer
    }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        if pending.count >= Self.blockSize { flush() }
        pending.append(byte)
    }

    private mutating func flush() {
        buffer.writeBytes(pending)
        pending.removeAll(keepingCapacity: true)
    }

    private mutating func switchPage(to newPage: UInt8) {
        guard newPage != page else { return }
        append(WBXMLGlobalToken.switchPage)
        append(newPage)
        page = newPage
    }
}
