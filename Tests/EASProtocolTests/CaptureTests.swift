import Foundation
import NIOCore
import Testing
import WBXML

@testable import EASProtocol

/// Real Exchange bodies, each with libwbxml's decoding beside it.
@Suite("Exchange captures")
struct CaptureTests {
    @Test("the fixtures are there")
    func present() {
        #expect(SharedFixtures.captureNames.count == 15)
    }

    @Test("decodes to the same tree and text as libwbxml", arguments: SharedFixtures.captureNames)
    func sameAsLibwbxml(name: String) throws {
        let body = try SharedFixtures.bytes(SharedFixtures.captures.appendingPathComponent("\(name).wbxml"))
        let expectedXML = try String(
            contentsOf: SharedFixtures.captures.appendingPathComponent("\(name).libwbxml.xml"), encoding: .utf8)
        let decoded = try EASDecoder.decode(ByteBuffer(bytes: body))
        let theirs = try GenericXML.parse(Data(expectedXML.utf8))
        var renamed: [String: String] = [:]
        var shownAsBase64: Set<String> = []
        try LibwbxmlDifferences.compare(decoded, theirs, renamed: &renamed, shownAsBase64: &shownAsBase64)
        for (ours, theirs) in renamed {
            #expect(LibwbxmlDifferences.names[ours] == theirs, "libwbxml calls \(ours) \(theirs)")
        }
        #expect(shownAsBase64.isSubset(of: LibwbxmlDifferences.base64Text))
    }

    @Test("re-encodes to the same bytes", arguments: SharedFixtures.captureNames)
    func reencodes(name: String) throws {
        let body = try SharedFixtures.bytes(SharedFixtures.captures.appendingPathComponent("\(name).wbxml"))
        let decoded = try EASDecoder.decode(ByteBuffer(bytes: body))
        #expect(Array(try decoded.wbxml().readableBytesView) == body)
        // And through our XML rendering and back.
        let viaXML = try EASXMLParser.parse(decoded.xml())
        #expect(Array(try viaXML.wbxml().readableBytesView) == body)
    }

    @Test("libwbxml's XML of each capture encodes back to the captured bytes", arguments: SharedFixtures.captureNames)
    func libwbxmlXMLEncodes(name: String) throws {
        let body = try SharedFixtures.bytes(SharedFixtures.captures.appendingPathComponent("\(name).wbxml"))
        let xml = try String(contentsOf: SharedFixtures.captures.appendingPathComponent("\(name).libwbxml.xml"),
                             encoding: .utf8)
        // libwbxml prints `<Tag/>` and `<Tag></Tag>` alike; Exchange wrote the first.
        #expect(Array(try EASXMLParser.parse(xml).wbxml().readableBytesView) == body)
    }

    @Test("decodes the same fed byte by byte", arguments: SharedFixtures.captureNames)
    func byteByByte(name: String) throws {
        let body = try SharedFixtures.bytes(SharedFixtures.captures.appendingPathComponent("\(name).wbxml"))
        var decoder = EASDecoder()
        for byte in body {
            try decoder.feed(ByteBuffer(bytes: [byte]))
        }
        #expect(try decoder.finish() == EASDecoder.decode(ByteBuffer(bytes: body)))
    }
}
