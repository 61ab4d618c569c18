import Foundation
import MailUpstream
import Testing

@testable import MailUpstreamEtPan

/// libetpan's MIME decoding as the gateway sees it through `MIMECodec`.
@Suite struct MIMECodecTests {
    let codec = EtPanMIMECodec()

    @Test func transferEncodingsAndCharsets() {
        let qp = codec.decodeTransferEncoding(Array("Gr=FC=DFe, soft=\r\nbreak".utf8), encoding: "Quoted-Printable")
        #expect(codec.decodeText(qp, charset: "ISO-8859-1") == "Grüße, softbreak")
        let base64 = Array(Data("Привет, мир".utf8).base64EncodedString().utf8)
        #expect(codec.decodeText(codec.decodeTransferEncoding(base64, encoding: "base64"), charset: "utf-8") == "Привет, мир")
        // Windows-1252 curly quotes and euro sign.
        #expect(codec.decodeText([0x93, 0x80, 0x94], charset: "windows-1252") == "\u{201C}€\u{201D}")
        #expect(codec.decodeText(Array("日本".utf8), charset: nil) == "日本")
        #expect(codec.decodeText(Array("plain".utf8), charset: "x-unknown-charset") == "plain")
        #expect(codec.decodeTransferEncoding(Array("as is".utf8), encoding: "7bit") == Array("as is".utf8))
    }

    @Test func truncatedBase64DecodesWhatIsWhole() {
        let full = Array(Data(String(repeating: "abcdefghij", count: 100).utf8).base64EncodedString().utf8)
        let decoded = codec.decodeTransferEncoding(Array(full.prefix(403)), encoding: "base64")
        #expect(decoded.count >= 300 && decoded.count <= 303)
        #expect(String(decoding: decoded.prefix(20), as: UTF8.self) == "abcdefghijabcdefghij")
    }

    @Test func headersAndAddressLists() throws {
        #expect(codec.decodeHeader("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus =?ISO-8859-1?B?S/Zsbg==?=") == "Grüße aus Köln")
        #expect(codec.decodeHeader("no encoded words") == "no encoded words")
        let list = try codec.addresses(in: "\"Doe, Jane\" <jane@example.net>, =?UTF-8?B?w4lsaXNl?= <elise@example.org>, "
            + "Team: a@example.com, b@example.com;, plain@example.net")
        #expect(list == [
            MailAddress(name: "Doe, Jane", address: "jane@example.net"),
            MailAddress(name: "Élise", address: "elise@example.org"),
            MailAddress(address: "a@example.com"), MailAddress(address: "b@example.com"),
            MailAddress(address: "plain@example.net"),
        ])
        #expect(try codec.addresses(in: "  ").isEmpty)
        #expect(throws: UpstreamError.self) { try codec.addresses(in: "<<<") }
    }

    @Test func partFetchedFromDovecotDecodes() async throws {
        guard MailStack.available() else { return }
        let adapter = IMAPAdapter(threads: 1)
        let session = IMAPMailSession(pool: adapter.pool(endpoint: MailStack.imap(), credentials: MailStack.demoLogin))
        let mailbox = MailStack.uniqueMailbox("Codec")
        try await session.createMailbox(mailbox)
        defer { Task { try? await session.deleteMailbox(mailbox) } }
        let uid = try #require(try await session.append(to: mailbox, message: IMAPBodyStructureTests.structured, flags: [], internalDate: nil))
        let part = try #require(try await session.summaries(in: mailbox, uids: UIDSet(uids: [uid])).first?.structure?.part("1.1"))
        let bytes = try await session.fetch(in: mailbox, uid: uid, section: part.section, range: nil)
        #expect(codec.text(of: bytes, part: part).trimmingCharacters(in: .whitespacesAndNewlines) == "Grüße")
    }
}
