import Foundation
import NIOCore
import Testing

@testable import EASProtocol

/// Bodies the codec writes, checked by a decoder and schemas this project did not write:
/// libwbxml plus Microsoft's XSDs, through `eas-validate`.
@Suite("eas-validate accepts what the codec writes")
struct ValidatorTests {
    typealias AirSync = EASTag.AirSync
    typealias Email = EASTag.Email
    typealias Base = EASTag.AirSyncBase

    /// A 14.1 Sync response carrying one new message ([MS-ASCMD] 2.2.3.166, 4.5.x examples).
    static let syncResponse = EASElement(AirSync.sync, children: [
        EASElement(AirSync.collections, children: [
            EASElement(AirSync.collection, children: [
                EASElement(AirSync.syncKey, text: "7f3a9c-2"),
                EASElement(AirSync.collectionId, text: "1"),
                EASElement(AirSync.status, text: "1"),
                EASElement(AirSync.moreAvailable),
                EASElement(AirSync.commands, children: [
                    EASElement(AirSync.add, children: [
                        EASElement(AirSync.serverId, text: "1:4711"),
                        EASElement(AirSync.applicationData, children: [
                            EASElement(Email.to, text: "\"Ünal Şahin\" <other@airgate.test>"),
                            EASElement(Email.from, text: "\"דנה כהן\" <demo@airgate.test>"),
                            EASElement(Email.subject, text: "Grüße — שלום — 👋"),
                            EASElement(Email.dateReceived, text: "2026-11-23T09:41:00.000Z"),
                            EASElement(Email.displayTo, text: "Ünal Şahin"),
                            EASElement(Email.threadTopic, text: "Grüße"),
                            EASElement(Email.importance, text: "1"),
                            EASElement(Email.read, text: "0"),
                            EASElement(Base.body, children: [
                                EASElement(Base.type, text: "2"),
                                EASElement(Base.estimatedDataSize, text: "5120"),
                                EASElement(Base.truncated, text: "1"),
                                EASElement(Base.data, text: "<html><body><p>Hallo &amp; שלום</p></body></html>"),
                                EASElement(Base.preview, text: "Hallo & שלום"),
                            ]),
                            EASElement(Email.messageClass, text: "IPM.Note"),
                            EASElement(Email.internetCPID, text: "65001"),
                            EASElement(Email.flag),
                            EASElement(Email.contentClass, text: "urn:content-classes:message"),
                            EASElement(Base.nativeBodyType, text: "2"),
                            EASElement(EASTag.Email2.conversationId, .opaque(ByteBuffer(bytes: Array(0..<16)))),
                        ]),
                    ])
                ]),
            ])
        ])
    ])

    /// A FolderSync response with the special folders ([MS-ASCMD] 2.2.3.75).
    static let folderSyncResponse = EASElement(EASTag.FolderHierarchy.folderSync, children: [
        EASElement(EASTag.FolderHierarchy.status, text: "1"),
        EASElement(EASTag.FolderHierarchy.syncKey, text: "1"),
        EASElement(EASTag.FolderHierarchy.changes, children: [
            EASElement(EASTag.FolderHierarchy.count, text: "1"),
            EASElement(EASTag.FolderHierarchy.add, children: [
                EASElement(EASTag.FolderHierarchy.serverId, text: "1"),
                EASElement(EASTag.FolderHierarchy.parentId, text: "0"),
                EASElement(EASTag.FolderHierarchy.displayName, text: "Inbox"),
                EASElement(EASTag.FolderHierarchy.type, text: "2"),
            ]),
        ]),
    ])

    /// A Ping response naming a changed folder ([MS-ASCMD] 2.2.3.134).
    static let pingResponse = EASElement(EASTag.Ping.ping, children: [
        EASElement(EASTag.Ping.status, text: "2"),
        EASElement(EASTag.Ping.folders, children: [EASElement(EASTag.Ping.folder, text: "1")]),
    ])

    @Test(
        "Sync, FolderSync and Ping responses are valid",
        .enabled(if: externalTool("wbxml2xml") && FileManager.default.fileExists(atPath: SharedFixtures.validator.path)))
    func valid() throws {
        var files: [String] = []
        for (name, document) in [("sync", Self.syncResponse), ("foldersync", Self.folderSyncResponse),
                                 ("ping", Self.pingResponse)] {
            files.append(try temporaryFile("\(name).wbxml", try document.wbxml().readableBytesView).path)
        }
        let result = try run("/usr/bin/env", ["python3", SharedFixtures.validator.path] + files)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("3 passed, 0 failed"), "\(result.output)")
    }
}
