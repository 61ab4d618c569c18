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
    // An array rather than a ByteBuffer: appending single bytes to an array costs a fraction
    // of ByteBuffer's per-call bookkeeping, and a Sync response is mostly single-byte tokens.
    private var bytes: [UInt8] = []
    private var page: UInt8 = 0
    private var depth = 0

    /// Starts a document with `header` (by default the EAS header `03 01 6A 00`), reserving
    /// `capacity` bytes.
    public init(header: WBXMLHeader = .activeSync, capacity: Int = 4096) {
        bytes.reserveCapacity(capacity)
        bytes.append(header.version)
        MultiByteInteger.write(header.publicIdentifier, to: &bytes)
        if header.publicIdentifier == 0 {
            MultiByteInteger.write(0, to: &bytes)
        }
        MultiByteInteger.write(header.charset, to: &bytes)
        MultiByteInteger.write(UInt32(header.stringTable.count), to: &bytes)
        bytes.append(contentsOf: header.stringTable)
    }

    /// The number of bytes written so far.
    public var count: Int { bytes.count }

    /// Opens an element that has content; close it with `endElement()`.
    public mutating func startElement(_ tag: WBXMLTag) {
        switchPage(to: tag.page)
        bytes.append(tag.token | WBXMLGlobalToken.contentFlag)
        depth += 1
    }

    /// Writes an element without content (`<Tag/>`).
    public mutating func emptyElement(_ tag: WBXMLTag) {
        switchPage(to: tag.page)
        bytes.append(tag.token)
    }

    /// Closes the innermost open element.
    public mutating func endElement() throws(WBXMLError) {
        guard depth > 0 else { throw WBXMLError(.unbalancedWrite, at: bytes.count) }
        bytes.append(WBXMLGlobalToken.end)
        depth -= 1
    }

    /// Writes character data as `STR_I`. A string containing NUL cannot be written.
    public mutating func text(_ string: String) throws(WBXMLError) {
        let start = bytes.count
        bytes.append(WBXMLGlobalToken.stringInline)
        let copied: Void? = string.utf8.withContiguousStorageIfAvailable { bytes.append(contentsOf: $0) }
        if copied == nil { bytes.append(contentsOf: string.utf8) }
        let hasNul = bytes.withUnsafeBufferPointer { written in
            memchr(written.baseAddress! + start + 1, 0, written.count - start - 1) != nil
        }
        guard !hasNul else {
            bytes.removeSubrange(start...)
            throw WBXMLError(.nulInString, at: start)
        }
        bytes.append(0)
    }

    /// Writes opaque bytes as `OPAQUE`.
    public mutating func opaque(_ data: ByteBuffer) {
        opaque(data.readableBytesView)
    }

    /// Writes opaque bytes as `OPAQUE`.
    public mutating func opaque(_ data: some Collection<UInt8>) {
        bytes.append(WBXMLGlobalToken.opaque)
        MultiByteInteger.write(UInt32(data.count), to: &bytes)
        bytes.append(contentsOf: data)
    }

    /// The finished document; every opened element must have been closed.
    public func finished() throws(WBXMLError) -> ByteBuffer {
        guard depth == 0 else { throw WBXMLError(.unbalancedWrite, at: bytes.count) }
        return ByteBuffer(bytes: bytes)
    }

    private mutating func switchPage(to newPage: UInt8) {
        guard newPage != page else { return }
        bytes.append(WBXMLGlobalToken.switchPage)
        bytes.append(newPage)
        page = newPage
    }
}
