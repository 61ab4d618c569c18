import NIOCore
import Testing

@testable import WBXML

@Suite("WBXMLWriter")
struct WBXMLWriterTests {
    @Test("writes the EAS header and switches pages only when the page changes")
    func pageSwitches() throws {
        var writer = WBXMLWriter()
        writer.startElement(WBXMLTag(page: 14, token: 0x05))
        writer.emptyElement(WBXMLTag(page: 14, token: 0x06))
        writer.startElement(WBXMLTag(page: 18, token: 0x16))
        try writer.text("x")
        try writer.endElement()
        writer.opaque([0xAA, 0xBB])
        try writer.endElement()
        let bytes = Array(try writer.finished().readableBytesView)
        #expect(bytes == [0x03, 0x01, 0x6A, 0x00, 0x00, 0x0E, 0x45, 0x06, 0x00, 0x12, 0x56, 0x03, 0x78, 0x00, 0x01,
                          0xC3, 0x02, 0xAA, 0xBB, 0x01])
    }

    @Test("what it writes, the reader reads back")
    func roundTrip() throws {
        var writer = WBXMLWriter()
        let long = String(repeating: "é", count: 300)
        writer.startElement(WBXMLTag(page: 0, token: 0x05))
        try writer.text(long)
        writer.opaque(ByteBuffer(repeating: 7, count: 200))
        try writer.endElement()
        let events = try readEvents(Array(try writer.finished().readableBytesView))
        #expect(events[1] == .text(long))
        #expect(events[2] == .opaque(ByteBuffer(repeating: 7, count: 200)))
    }

    @Test("a string with NUL cannot be written")
    func nul() {
        var writer = WBXMLWriter()
        writer.startElement(WBXMLTag(page: 0, token: 0x05))
        #expect(throws: WBXMLError(.nulInString, at: 5)) { try writer.text("a\u{0}b") }
    }

    @Test("unbalanced elements are refused")
    func unbalanced() {
        var writer = WBXMLWriter()
        #expect(throws: WBXMLError(.unbalancedWrite, at: 4)) { try writer.endElement() }
        writer.startElement(WBXMLTag(page: 0, token: 0x05))
        #expect(throws: WBXMLError(.unbalancedWrite, at: 5)) { try writer.finished() }
    }
}
