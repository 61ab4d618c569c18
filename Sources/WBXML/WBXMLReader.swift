import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A streaming pull reader of WBXML 1.3 documents (WAP-192-WBXML-20010725).
///
/// Feed it bytes as they arrive with `feed(_:)`, call `finish()` when the body is complete, and
/// pull events with `next()`. `next()` returns `nil` when it needs more bytes (or, after the root
/// element closed, when the document is over); a token is only consumed once all of its bytes
/// are there, so the events are the same whether the body arrives in one piece or byte by byte.
///
/// Everything untrusted input controls is bounded by `WBXMLLimits`: an `OPAQUE` or string
/// longer than allowed fails as soon as its length is known, not after its bytes arrived.
/// Attributes, `LITERAL`, `EXT_*` and `PI` tokens, which EAS never sends, are refused with
/// `WBXMLError.Code.attributesUnsupported` and `.unsupportedToken`.
public struct WBXMLReader {
    /// The bounds this reader enforces.
    public let limits: WBXMLLimits
    /// The document header, once it has been read.
    public private(set) var header: WBXMLHeader?
    /// True once the root element has been closed.
    public private(set) var isComplete = false
    /// The offset of the token behind the event `next()` returned last.
    public private(set) var eventOffset = 0

    // The unread body as an array: indexing an array is a fraction of the cost of ByteBuffer's
    // accessors, and the reader touches every byte. Opaque values are copied out when read.
    private var bytes: [UInt8]
    private var position = 0
    /// Bytes dropped from the front of `bytes`, so that offsets stay absolute.
    private var discardedBytes = 0
    private var receivedBytes = 0
    private var isFinished = false
    private var page: UInt8 = 0
    private var openElements: [WBXMLTag] = []
    private var sawRoot = false
    /// The element written without content whose `endElement` is due next.
    private var pendingEnd: WBXMLTag?

    /// A reader waiting for bytes.
    public init(limits: WBXMLLimits = .default) {
        self.limits = limits
        self.bytes = []
    }

    /// A reader over a complete body.
    public init(body: ByteBuffer, limits: WBXMLLimits = .default) throws(WBXMLError) {
        self.limits = limits
        guard body.readableBytes <= limits.maxBodySize else {
            throw WBXMLError(.bodyTooLarge, at: limits.maxBodySize)
        }
        self.bytes = Array(body.readableBytesView)
        self.receivedBytes = body.readableBytes
        self.isFinished = true
    }

    /// The absolute offset of the next unread byte.
    public var offset: Int { discardedBytes + position }

    /// Appends more of the body.
    public mutating func feed(_ bytes: ByteBuffer) throws(WBXMLError) {
        precondition(!isFinished, "feed(_:) after finish()")
        receivedBytes += bytes.readableBytes
        guard receivedBytes <= limits.maxBodySize else { throw WBXMLError(.bodyTooLarge, at: limits.maxBodySize) }
        // Reclaim consumed space now and then rather than on every feed.
        if position > 0 && (position == self.bytes.count || position >= 64 * 1024) {
            discardedBytes += position
            self.bytes.removeFirst(position)
            position = 0
        }
        self.bytes.append(contentsOf: bytes.readableBytesView)
    }

    /// Appends more of the body.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(WBXMLError) {
        try feed(ByteBuffer(bytes: bytes))
    }

    @inline(__always)
    private func byte(at index: Int) -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    /// Declares the body complete: from now on, a missing byte is an error, not a wait.
    public mutating func finish() {
        isFinished = true
    }

    /// The next event, or `nil` when more bytes are needed or the document is over.
    public mutating func next() throws(WBXMLError) -> WBXMLEvent? {
        if let tag = pendingEnd {
            pendingEnd = nil
            if openElements.isEmpty { isComplete = true }
            return .endElement(tag)
        }
        if header == nil {
            guard let parsed = try readHeader() else { return try waitForBytes() }
            header = parsed
        }
        while true {
            let start = position
            eventOffset = offset
            guard let byte = byte(at: start) else { return try waitForBytes() }
            if isComplete { throw WBXMLError(.trailingData, at: offset) }

            switch byte {
            case WBXMLGlobalToken.switchPage:
                guard let newPage = self.byte(at: start + 1) else { return try waitForBytes() }
                page = newPage
                position += 2

            case WBXMLGlobalToken.end:
                guard let tag = openElements.popLast() else { throw WBXMLError(.unexpectedEnd, at: offset) }
                position += 1
                if openElements.isEmpty { isComplete = true }
                return .endElement(tag)

            case WBXMLGlobalToken.stringInline:
                try requireOpenElement()
                guard let (string, length) = try readInlineString(at: start + 1) else { return try waitForBytes() }
                position += 1 + length
                return .text(string)

            case WBXMLGlobalToken.opaque:
                try requireOpenElement()
                guard case .value(let length, let lengthSize) = try peekInteger(at: start + 1) else {
                    return try waitForBytes()
                }
                guard length <= limits.maxOpaqueLength else { throw WBXMLError(.opaqueTooLong, at: offset) }
                let dataStart = start + 1 + lengthSize
                guard dataStart + Int(length) <= bytes.count else { return try waitForBytes() }
                position = dataStart + Int(length)
                return .opaque(ByteBuffer(bytes: bytes[dataStart..<position]))

            case WBXMLGlobalToken.stringTable:
                try requireOpenElement()
                guard case .value(let index, let lengthSize) = try peekInteger(at: start + 1) else {
                    return try waitForBytes()
                }
                let string = try tableString(at: Int(index))
                position += 1 + lengthSize
                return .text(string)

            case WBXMLGlobalToken.entity:
                try requireOpenElement()
                guard case .value(let codePoint, let lengthSize) = try peekInteger(at: start + 1) else {
                    return try waitForBytes()
                }
                // NUL is no character: STR_I could not carry it and XML cannot show it.
                guard codePoint != 0, let scalar = Unicode.Scalar(codePoint) else {
                    throw WBXMLError(.invalidEntity, at: offset)
                }
                position += 1 + lengthSize
                return .text(String(Character(scalar)))

            case WBXMLGlobalToken.literal, WBXMLGlobalToken.literalContent, WBXMLGlobalToken.literalAttributes,
                WBXMLGlobalToken.literalAttributesContent, WBXMLGlobalToken.processingInstruction,
                WBXMLGlobalToken.extensionInline0...WBXMLGlobalToken.extensionInline2,
                WBXMLGlobalToken.extensionTable0...WBXMLGlobalToken.extensionTable2,
                WBXMLGlobalToken.extension0...WBXMLGlobalToken.extension2:
                throw WBXMLError(.unsupportedToken, at: offset)

            default:
                return try readTag(byte)
            }
        }
    }

    // MARK: - Tokens

    /// WBXML 1.3, 5.8.2: a tag token with its content and attribute flags.
    private mutating func readTag(_ byte: UInt8) throws(WBXMLError) -> WBXMLEvent {
        if isComplete || (sawRoot && openElements.isEmpty) { throw WBXMLError(.trailingData, at: offset) }
        guard byte & WBXMLGlobalToken.attributesFlag == 0 else { throw WBXMLError(.attributesUnsupported, at: offset) }
        guard openElements.count < limits.maxDepth else { throw WBXMLError(.tooDeep, at: offset) }
        let tag = WBXMLTag(page: page, token: byte & WBXMLGlobalToken.tagIdentityMask)
        let hasContent = byte & WBXMLGlobalToken.contentFlag != 0
        position += 1
        sawRoot = true
        if hasContent {
            openElements.append(tag)
        } else {
            pendingEnd = tag
        }
        return .startElement(tag, hasContent: hasContent)
    }

    /// WBXML 1.3, 5.8.4.1 `termstr`: the bytes up to a NUL, which must be UTF-8.
    /// Returns the string and the number of bytes it took including the NUL.
    private func readInlineString(at index: Int) throws(WBXMLError) -> (String, Int)? {
        let available = bytes.count - index
        guard available > 0 else { return nil }
        let maxLength = limits.maxStringLength
        let result: Result<(String, Int)?, WBXMLError> = bytes.withUnsafeBufferPointer { buffer in
            let start = buffer.baseAddress! + index
            guard let nul = memchr(start, 0, min(available, maxLength + 1)) else {
                return available > maxLength ? .failure(WBXMLError(.stringTooLong, at: offset)) : .success(nil)
            }
            let length = UnsafeRawPointer(nul) - UnsafeRawPointer(start)
            guard let string = decodeUTF8(UnsafeBufferPointer(start: start, count: length)) else {
                return .failure(WBXMLError(.invalidUTF8, at: offset))
            }
            return .success((string, length + 1))
        }
        return try result.get()
    }

    /// WBXML 1.3, 5.7: the NUL-terminated string at `index` of the string table.
    private func tableString(at index: Int) throws(WBXMLError) -> String {
        guard let table = header?.stringTable, index < table.count,
            let end = table[index...].firstIndex(of: 0)
        else { throw WBXMLError(.invalidStringTableReference, at: offset) }
        guard let string = String(validating: table[index..<end], as: UTF8.self) else {
            throw WBXMLError(.invalidUTF8, at: offset)
        }
        return string
    }

    /// WBXML 1.3, 5.3: version, public identifier, charset and string table.
    private mutating func readHeader() throws(WBXMLError) -> WBXMLHeader? {
        var index = position
        guard let version = byte(at: index) else { return nil }
        // 1.1, 1.2 and 1.3 share this layout; EAS sends 1.3.
        guard (0x01...0x03).contains(version) else { throw WBXMLError(.unsupportedVersion, at: offset) }
        index += 1
        guard case .value(let publicIdentifier, let publicIdentifierSize) = try peekInteger(at: index) else { return nil }
        index += publicIdentifierSize
        if publicIdentifier == 0 {
            // The public identifier is a string-table reference; skip its index.
            guard case .value(_, let size) = try peekInteger(at: index) else { return nil }
            index += size
        }
        let charsetOffset = discardedBytes + index
        guard case .value(let charset, let charsetSize) = try peekInteger(at: index) else { return nil }
        guard charset == WBXMLHeader.utf8Charset else { throw WBXMLError(.unsupportedCharset, at: charsetOffset) }
        index += charsetSize
        let tableOffset = discardedBytes + index
        guard case .value(let tableLength, let tableLengthSize) = try peekInteger(at: index) else { return nil }
        guard tableLength <= limits.maxStringTableLength else {
            throw WBXMLError(.stringTableTooLong, at: tableOffset)
        }
        index += tableLengthSize
        guard index + Int(tableLength) <= bytes.count else { return nil }
        let table = Array(bytes[index..<(index + Int(tableLength))])
        index += Int(tableLength)
        position = index
        return WBXMLHeader(version: version, publicIdentifier: publicIdentifier, charset: charset, stringTable: table)
    }

    // MARK: - Helpers

    private func peekInteger(at index: Int) throws(WBXMLError) -> MultiByteInteger.Peeked {
        try MultiByteInteger.peek(bytes, at: index, absoluteOffset: offset)
    }

    private func requireOpenElement() throws(WBXMLError) {
        guard !openElements.isEmpty else { throw WBXMLError(.contentOutsideRoot, at: offset) }
    }

    /// `nil` while more bytes may come; once the body is finished, the reason it is incomplete.
    private func waitForBytes() throws(WBXMLError) -> WBXMLEvent? {
        guard isFinished else { return nil }
        if isComplete { return nil }
        if header != nil && !sawRoot && position == bytes.count { throw WBXMLError(.missingRoot, at: offset) }
        throw WBXMLError(.truncated, at: offset)
    }
}

/// The string in `bytes`, or `nil` if they are not valid UTF-8.
///
/// Most EAS strings are ASCII (ids, keys, numbers, dates); for those the check is a word-wise
/// scan and the string is built without the general validator's overhead.
@inline(__always)
func decodeUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
    if isASCII(bytes) {
        return String(decoding: bytes, as: UTF8.self)
    }
    return String(validating: bytes, as: UTF8.self)
}

@inline(__always)
private func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return true }
    let raw = UnsafeRawPointer(base)
    var index = 0
    var accumulated: UInt64 = 0
    while index + 8 <= bytes.count {
        accumulated |= raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
        index += 8
    }
    while index < bytes.count {
        accumulated |= UInt64(base[index])
        index += 1
    }
    return accumulated & 0x8080_8080_8080_8080 == 0
}
