import Foundation
import NIOCore
import Testing
import WBXML

@testable import EASProtocol

@Suite("Every token of every code page round-trips")
struct RoundTripTests {
    static let pages = EASCodePage.standard.filter { !$0.tokens.isEmpty }.map(\.number)

    /// A document whose root holds every tag of `page` three ways: empty, with text, and with
    /// an empty child list.
    static func everyTag(of page: UInt8) -> EASElement {
        let codePage = EASCodePage.standard[Int(page)]
        let tags = codePage.tokens.map { EASTag(known: page, $0.token) }
        var children: [EASElement] = []
        for tag in tags {
            children.append(EASElement(tag))
            children.append(EASElement(tag, text: "\(tag.name) ü 中 ש"))
            children.append(EASElement(tag, children: [EASElement(tags[0], text: "1")]))
        }
        return EASElement(tags[0], children: children)
    }

    @Test("through our encoder and decoder, to the same tree and the same bytes", arguments: pages)
    func ours(page: UInt8) throws {
        let document = Self.everyTag(of: page)
        let body = try document.wbxml()
        let decoded = try EASDecoder.decode(body)
        #expect(decoded == document)
        #expect(try decoded.wbxml() == body)
        #expect(try EASXMLParser.parse(document.xml()) == document)
    }

    /// libwbxml's ActiveSync tables stop at page 24; page 25 (Find) is 16.1 only.
    static let libwbxmlPages = pages.filter { $0 <= 24 }

    @Test(
        "libwbxml decodes every token we encode at the same position, under the names we know it uses",
        .enabled(if: externalTool("wbxml2xml"), "needs wbxml2xml (Debian libwbxml2-utils)"))
    func libwbxml() throws {
        let tool = try #require(which("wbxml2xml"), "wbxml2xml is required: apt-get install libwbxml2-utils")
        var renamed: [String: String] = [:]
        var shownAsBase64: Set<String> = []
        for page in Self.libwbxmlPages {
            let document = Self.everyTag(of: page)
            let input = try temporaryFile("page-\(page).wbxml", try document.wbxml().readableBytesView)
            let output = input.appendingPathExtension("xml")
            let result = try run(tool, ["-l", "ACTIVESYNC", "-m", "0", "-o", output.path, input.path])
            #expect(result.status == 0, "\(result.output)")
            let theirs = try GenericXML.parse(Data(contentsOf: output))
            try LibwbxmlDifferences.compare(document, theirs, renamed: &renamed, shownAsBase64: &shownAsBase64)
        }
        #expect(renamed == LibwbxmlDifferences.names, "\(renamed.sorted { $0.key < $1.key })")
        #expect(shownAsBase64 == LibwbxmlDifferences.base64Text, "\(shownAsBase64.sorted())")
    }
}

@Suite("EAS decoding")
struct EASDecoderTests {
    let header: [UInt8] = [0x03, 0x01, 0x6A, 0x00]

    @Test("Outlook's page 0xFE annotations are skipped, whatever they hold")
    func windowsLiveAnnotations() throws {
        // <Sync><Collections><Collection> [FE: <x><y>text</y></x>] <SyncKey>1</SyncKey></Collection></Collections></Sync>
        let body: [UInt8] = header + [0x45, 0x5C, 0x4F,
                                      0x00, 0xFE, 0x45, 0x46, 0x03, 0x61, 0x00, 0x01, 0x07, 0xC3, 0x01, 0x00, 0x01,
                                      0x00, 0x00, 0x4B, 0x03, 0x31, 0x00, 0x01, 0x01, 0x01, 0x01]
        let decoded = try EASDecoder.decode(ByteBuffer(bytes: body))
        let expected = EASElement(EASTag.AirSync.sync, children: [
            EASElement(EASTag.AirSync.collections, children: [
                EASElement(EASTag.AirSync.collection, children: [EASElement(EASTag.AirSync.syncKey, text: "1")])
            ])
        ])
        #expect(decoded == expected)
    }

    @Test("a body whose only element is an annotation has no root")
    func annotationOnly() {
        #expect {
            try EASDecoder.decode(ByteBuffer(bytes: header + [0x00, 0xFE, 0x05]))
        } throws: { error in
            (error as? EASDecodingError)?.wbxmlCode == .missingRoot
        }
    }

    static let malformed: [([UInt8], EASDecodingError.Code, Int)] = [
        ([0x00, 0x1A, 0x45, 0x01], .unknownCodePage, 6),  // page 26 does not exist
        ([0x00, 0x03, 0x45, 0x01], .unknownTag, 6),  // page 3 (AirNotify) defines nothing
        ([0x45, 0x51, 0x01, 0x01], .unknownTag, 5),  // AirSync 0x11 is not defined
        ([0x45, 0x4B, 0x03, 0x31, 0x00, 0x4B, 0x01, 0x01, 0x01], .mixedContent, 9),
        ([0x45, 0x4B, 0x03, 0x31, 0x00, 0xC3, 0x00, 0x01, 0x01], .mixedContent, 9),
        ([0x45, 0x4B, 0x05, 0x03, 0x31, 0x00, 0x01, 0x01], .mixedContent, 7),
        ([0x45, 0x4B, 0x03, 0xFF, 0x00, 0x01, 0x01], .wbxml, 6),
        ([0x45, 0x4B], .wbxml, 6),
    ]

    @Test("malformed EAS is a typed error with the byte offset", arguments: malformed)
    func malformedBodies(body: [UInt8], code: EASDecodingError.Code, offset: Int) {
        #expect {
            try EASDecoder.decode(ByteBuffer(bytes: header + body))
        } throws: { error in
            guard let error = error as? EASDecodingError else { return false }
            return error.code == code && error.offset == offset
        }
    }

    @Test("strings that arrive as several tokens are one text")
    func concatenatedText() throws {
        let body: [UInt8] = header + [0x45, 0x4B, 0x03, 0x61, 0x00, 0x02, 0x62, 0x03, 0x63, 0x00, 0x01, 0x01]
        let decoded = try EASDecoder.decode(ByteBuffer(bytes: body))
        #expect(decoded.child(EASTag.AirSync.syncKey)?.text == "abc")
    }

    @Test("a depth bomb of valid tags stops at the limit")
    func depthBomb() {
        let body = header + [UInt8](repeating: 0x45, count: 1_000_000)
        #expect {
            try EASDecoder.decode(ByteBuffer(bytes: body))
        } throws: { error in
            (error as? EASDecodingError)?.wbxmlCode == .tooDeep
        }
    }
}

@Suite("XML rendering")
struct XMLTests {
    @Test("text, opaque data and empty forms survive XML and back", arguments: EASElement.OpaqueRendering.allCases)
    func lossless(opaque: EASElement.OpaqueRendering) throws {
        let tricky = "a & b < c > d \"q\" 'a'\r\n\ttab \u{1} \u{7F} Ünïcødé 日本語 עברית العربية 👍🏽"
        let document = EASElement(EASTag.ComposeMail.sendMail, children: [
            EASElement(EASTag.ComposeMail.clientId, text: tricky),
            EASElement(EASTag.ComposeMail.saveInSentItems),
            EASElement(EASTag.ComposeMail.accountId, text: ""),
            EASElement(EASTag.ComposeMail.source, children: []),
            EASElement(EASTag.ComposeMail.mime, .opaque(ByteBuffer(bytes: Array(0...255)))),
            EASElement(EASTag.AirSyncBase.body, children: [EASElement(EASTag.AirSyncBase.type, text: "1")]),
        ])
        let xml = document.xml(opaque: opaque)
        #expect(xml.contains("<Body xmlns=\"AirSyncBase:\">"))
        #expect(try EASXMLParser.parse(xml) == document)
    }

    @Test("reads prefixed namespaces as the [MS-ASCMD] examples write them")
    func prefixes() throws {
        let xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <!-- a comment -->
            <Sync xmlns="AirSync:" xmlns:airsyncbase="AirSyncBase:">
              <Collections><Collection>
                <SyncKey>0</SyncKey><CollectionId>1</CollectionId>
                <Options><airsyncbase:BodyPreference><airsyncbase:Type>2</airsyncbase:Type>
                </airsyncbase:BodyPreference></Options>
              </Collection></Collections>
            </Sync>
            """
        let parsed = try EASXMLParser.parse(xml)
        let preference = parsed.child(EASTag.AirSync.collections)?.child(EASTag.AirSync.collection)?
            .child(EASTag.AirSync.options)?.child(EASTag.AirSyncBase.bodyPreference)
        #expect(preference?.child(EASTag.AirSyncBase.type)?.text == "2")
    }

    static let badXML: [String] = [
        "<Sync xmlns=\"AirSync:\"><Nope/></Sync>",
        "<Sync><SyncKey/></Sync>",
        "<Sync xmlns=\"AirSync:\"><SyncKey>1</Status></Sync>",
        "<Sync xmlns=\"AirSync:\">text<SyncKey/></Sync>",
        "<Sync xmlns=\"AirSync:\"><SyncKey>&bogus;</SyncKey></Sync>",
        "<Sync xmlns=\"AirSync:\"><SyncKey opaque=\"base64\">!!</SyncKey></Sync>",
        "<Sync xmlns=\"AirSync:\">",
        "<Sync xmlns=\"AirSync:\"/><Sync xmlns=\"AirSync:\"/>",
        String(repeating: "<Sync xmlns=\"AirSync:\">", count: 100),
    ]

    @Test("bad XML is a clear error", arguments: badXML)
    func errors(xml: String) {
        #expect(throws: EASXMLParser.Error.self) { try EASXMLParser.parse(xml) }
    }
}

@Suite("Protocol versions")
struct ProtocolVersionTests {
    @Test("parse, order and advertise")
    func versions() {
        #expect(EASProtocolVersion(headerValue: " 14.1 ") == .v14_1)
        #expect(EASProtocolVersion(headerValue: "15.0") == nil)
        #expect(EASProtocolVersion.v2_5 < .v12_0 && EASProtocolVersion.v14_1 < .v16_0)
        #expect(EASProtocolVersion.advertised(upTo: .v16_1) == "2.5,12.0,12.1,14.0,14.1,16.0,16.1")
        #expect(EASProtocolVersion.advertised(upTo: .v14_1) == "2.5,12.0,12.1,14.0,14.1")
        #expect(EASProtocolVersion.v12_1.sendsClassInSyncCollection)
        #expect(!EASProtocolVersion.v14_0.sendsClassInSyncCollection)
        #expect(EASProtocolVersion.v14_0.usesInBandProvisioningStatus)
    }
}
