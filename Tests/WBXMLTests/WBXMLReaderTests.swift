import NIOCore
import Testing

@testable import WBXML

/// Reads a whole body, feeding it in pieces of `chunkSize` bytes (0: all at once).
func readEvents(_ bytes: [UInt8], chunkSize: Int = 0, limits: WBXMLLimits = .default) throws(WBXMLError) -> [WBXMLEvent] {
    var events: [WBXMLEvent] = []
    if chunkSize == 0 {
        var reader = try WBXMLReader(body: ByteBuffer(bytes: bytes), limits: limits)
        while let event = try reader.next() { events.append(event) }
        #expect(reader.isComplete)
        return events
    }
    var reader = WBXMLReader(limits: limits)
    var index = 0
    while index < bytes.count {
        try reader.feed(bytes[index..<min(index + chunkSize, bytes.count)])
        index += chunkSize
        while let event = try reader.next() { events.append(event) }
    }
    reader.finish()
    while let event = try reader.next() { events.append(event) }
    #expect(reader.isComplete)
    return events
}

let easHeader: [UInt8] = [0x03, 0x01, 0x6A, 0x00]

@Suite("WBXMLReader")
struct WBXMLReaderTests {
    /// `<A xmlns=page0><B>hi</B><C/>` then page 1 `<D>` opaque `</D></A>`.
    let sample: [UInt8] = easHeader + [
        0x45,  // A, content
        0x46, 0x03, 0x68, 0x69, 0x00, 0x01,  // B "hi"
        0x07,  // C, empty
        0x00, 0x01, 0x48, 0xC3, 0x03, 0x01, 0x02, 0x03, 0x01,  // page 1, D opaque 01 02 03
        0x01,
    ]

    var sampleEvents: [WBXMLEvent] {
        let page1 = WBXMLTag(page: 1, token: 0x08)
        return [
            .startElement(WBXMLTag(page: 0, token: 0x05), hasContent: true),
            .startElement(WBXMLTag(page: 0, token: 0x06), hasContent: true),
            .text("hi"),
            .endElement(WBXMLTag(page: 0, token: 0x06)),
            .startElement(WBXMLTag(page: 0, token: 0x07), hasContent: false),
            .endElement(WBXMLTag(page: 0, token: 0x07)),
            .startElement(page1, hasContent: true),
            .opaque(ByteBuffer(bytes: [1, 2, 3])),
            .endElement(page1),
            .endElement(WBXMLTag(page: 0, token: 0x05)),
        ]
    }

    @Test("reads tags, text, opaque data and page switches")
    func events() throws {
        #expect(try readEvents(sample) == sampleEvents)
    }

    @Test("gives the same events whatever size the pieces arrive in", arguments: [1, 2, 3, 5, 7, 64])
    func streaming(chunkSize: Int) throws {
        #expect(try readEvents(sample, chunkSize: chunkSize) == sampleEvents)
    }

    @Test("reads the header, including a string table, and STR_T and ENTITY text")
    func headerAndStringTable() throws {
        let body: [UInt8] = [0x03, 0x01, 0x6A, 0x04, 0x61, 0x00, 0x62, 0x00,  // table "a\0b\0"
                             0x45, 0x83, 0x02, 0x02, 0x81, 0x5C, 0x01]  // <A> STR_T(2) ENTITY(0xDC) </A>
        var reader = try WBXMLReader(body: ByteBuffer(bytes: body))
        #expect(try reader.next() == .startElement(WBXMLTag(page: 0, token: 5), hasContent: true))
        #expect(reader.header == WBXMLHeader(stringTable: [0x61, 0x00, 0x62, 0x00]))
        #expect(try reader.next() == .text("b"))
        #expect(try reader.next() == .text("Ü"))
    }

    @Test("an empty root element is a whole document")
    func emptyRoot() throws {
        let events = try readEvents(easHeader + [0x05])
        #expect(events.count == 2)
    }

    @Test("a root closed before the body ends leaves the rest unread until pulled")
    func trailingData() {
        #expect(throws: WBXMLError(.trailingData, at: 6)) { try readEvents(easHeader + [0x45, 0x01, 0x03]) }
        #expect(throws: WBXMLError(.trailingData, at: 5)) { try readEvents(easHeader + [0x05, 0x05]) }
    }
}

@Suite("WBXMLReader with bad input")
struct WBXMLReaderBadInputTests {
    let valid: [UInt8] = easHeader + [0x45, 0x46, 0x03, 0x68, 0x69, 0x00, 0x01, 0xC3, 0x00, 0x01]

    @Test("every truncation of a valid body is a typed error, never a crash")
    func truncations() {
        for length in 0..<valid.count {
            #expect(throws: WBXMLError.self) { try readEvents(Array(valid.prefix(length))) }
        }
        #expect(throws: WBXMLError(.truncated, at: 5)) { try readEvents(Array(valid.prefix(5))) }
        #expect(throws: WBXMLError(.missingRoot, at: 4)) { try readEvents(easHeader) }
    }

    @Test("a depth bomb stops at the depth limit")
    func depthBomb() {
        let body = easHeader + [UInt8](repeating: 0x45, count: 100_000)
        #expect(throws: WBXMLError(.tooDeep, at: 4 + WBXMLLimits.defaultMaxDepth)) { try readEvents(body) }
    }

    @Test("a huge opaque length fails at once, before its data is awaited")
    func hugeOpaque() throws {
        var reader = WBXMLReader()
        try reader.feed(easHeader + [0x45, 0xC3, 0x87, 0xFF, 0xFF, 0xFF, 0x7F])
        #expect(throws: WBXMLError(.opaqueTooLong, at: 5)) {
            while try reader.next() != nil {}
        }
    }

    @Test("a string without its NUL fails once it is longer than the limit")
    func unterminatedString() throws {
        var reader = WBXMLReader(limits: WBXMLLimits(maxStringLength: 16))
        try reader.feed(easHeader + [0x45, 0x03] + [UInt8](repeating: 0x61, count: 16))
        _ = try reader.next()
        #expect(try reader.next() == nil)
        try reader.feed([0x61])
        #expect(throws: WBXMLError(.stringTooLong, at: 5)) { try reader.next() }
    }

    @Test("more bytes than the body limit are refused as they are fed")
    func bodyTooLarge() throws {
        var reader = WBXMLReader(limits: WBXMLLimits(maxBodySize: 10))
        try reader.feed(easHeader + [0x45, 0x03])
        #expect(throws: WBXMLError(.bodyTooLarge, at: 10)) { try reader.feed([UInt8](repeating: 0x61, count: 5)) }
    }

    @Test("invalid UTF-8 is refused", arguments: [
        [UInt8(0xC3), 0x28],  // bad continuation
        [0xED, 0xA0, 0x80],  // UTF-16 surrogate
        [0xC0, 0xAF],  // overlong
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0xFF],
    ])
    func invalidUTF8(bytes: [UInt8]) {
        #expect(throws: WBXMLError(.invalidUTF8, at: 5)) { try readEvents(easHeader + [0x45, 0x03] + bytes + [0x00, 0x01]) }
    }

    static let unsupportedBodies: [([UInt8], WBXMLError)] = [
        ([0x45, 0x85], WBXMLError(.attributesUnsupported, at: 5)),
        ([0x45, 0x04, 0x00], WBXMLError(.unsupportedToken, at: 5)),
        ([0x45, 0x43], WBXMLError(.unsupportedToken, at: 5)),
        ([0x45, 0x40, 0x61, 0x00], WBXMLError(.unsupportedToken, at: 5)),
        ([0x45, 0xC0], WBXMLError(.unsupportedToken, at: 5)),
        ([0x45, 0x83, 0x00, 0x01], WBXMLError(.invalidStringTableReference, at: 5)),
        ([0x45, 0x02, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x01], WBXMLError(.invalidEntity, at: 5)),
        // Found by the fuzzer: ENTITY 0 decoded to a NUL that no STR_I can carry back.
        ([0x45, 0x02, 0x00, 0x01], WBXMLError(.invalidEntity, at: 5)),
        ([0x01], WBXMLError(.unexpectedEnd, at: 4)),
        ([0x03, 0x61, 0x00], WBXMLError(.contentOutsideRoot, at: 4)),
        ([0xC3, 0x00], WBXMLError(.contentOutsideRoot, at: 4)),
    ]

    @Test("tokens EAS never uses are refused with their offset", arguments: unsupportedBodies)
    func unsupported(body: [UInt8], expected: WBXMLError) {
        #expect(throws: expected) { try readEvents(easHeader + body) }
    }

    static let badHeaders: [([UInt8], WBXMLError)] = [
        ([0x04, 0x01, 0x6A, 0x00], WBXMLError(.unsupportedVersion, at: 0)),
        ([0x03, 0x01, 0x04, 0x00], WBXMLError(.unsupportedCharset, at: 2)),  // ISO-8859-1
        ([0x03, 0x01, 0x6A, 0x84, 0x80, 0x80, 0x00], WBXMLError(.stringTableTooLong, at: 3)),
    ]

    @Test("headers it cannot read are refused", arguments: badHeaders)
    func badHeader(body: [UInt8], expected: WBXMLError) {
        #expect(throws: expected) { try readEvents(body + [0x05]) }
    }

    @Test("random bytes after a valid header end in a typed error or a document, never a crash")
    func randomBodies() {
        var generator = SplitMix64(seed: 0x41_69_72_67)
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 64)
            var body = easHeader
            for _ in 0..<length { body.append(UInt8(truncatingIfNeeded: generator.next())) }
            _ = try? readEvents(body)
            _ = try? readEvents(body, chunkSize: 1)
        }
    }
}

/// A small deterministic generator, so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
