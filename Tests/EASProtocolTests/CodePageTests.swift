import Foundation
import Testing

@testable import EASProtocol

@Suite("Code pages against Microsoft's token table ([MS-ASWBXML] 2.1.2.1)")
struct CodePageTests {
    struct Row: Hashable, CustomStringConvertible {
        var page: UInt8
        var namespace: String
        var token: UInt8
        var name: String
        var description: String { "\(page)\t\(namespace)\t0x\(String(token, radix: 16))\t\(name)" }
    }

    static func referenceRows() throws -> [Row] {
        let text = try String(contentsOf: SharedFixtures.tokenTable, encoding: .utf8)
        return try text.split(separator: "\n").dropFirst().map { line in
            let fields = line.split(separator: "\t").map(String.init)
            guard fields.count == 4, let page = UInt8(fields[0]), fields[2].hasPrefix("0x"),
                let token = UInt8(fields[2].dropFirst(2), radix: 16)
            else { throw CocoaError(.fileReadCorruptFile) }
            return Row(page: page, namespace: fields[1], token: token, name: fields[3])
        }
    }

    static var ourRows: [Row] {
        EASCodePage.standard.flatMap { page in
            page.tokens.map { Row(page: page.number, namespace: page.namespace, token: $0.token, name: $0.name) }
        }
    }

    @Test("every token of Microsoft's table is ours with the same page, namespace and name, and no other")
    func tokenForToken() throws {
        let reference = try Self.referenceRows()
        #expect(reference.count == 586)
        let ours = Self.ourRows
        #expect(Set(reference).subtracting(ours).sorted { $0.description < $1.description } == [])
        #expect(Set(ours).subtracting(reference).sorted { $0.description < $1.description } == [])
        #expect(ours.count == reference.count)
    }

    @Test("pages are numbered by their position and namespaces are unique")
    func numbering() {
        #expect(EASCodePage.standard.count == 26)
        for (index, page) in EASCodePage.standard.enumerated() {
            #expect(Int(page.number) == index)
        }
        #expect(Set(EASCodePage.standard.map(\.namespace)).count == 26)
    }

    @Test("tags are found by numbers and by qualified name")
    func lookups() {
        #expect(EASTag(page: 17, token: 0x17) == EASTag.AirSyncBase.contentType)
        #expect(EASTag(page: 17, token: 0x18) == EASTag.AirSyncBase.preview)
        #expect(EASTag(namespace: "AirSync:", name: "Sync") == EASTag.AirSync.sync)
        #expect(EASTag(namespace: "Email2", name: "ConversationId") == EASTag.Email2.conversationId)
        #expect(EASTag(page: 0, token: 0x11) == nil)
        #expect(EASTag(page: 3, token: 0x05) == nil)
        #expect(EASTag(page: 26, token: 0x05) == nil)
        #expect(EASTag(namespace: "AirSync", name: "Nope") == nil)
        #expect(EASTag.Ping.heartbeatInterval.description == "Ping:HeartbeatInterval")
    }
}
