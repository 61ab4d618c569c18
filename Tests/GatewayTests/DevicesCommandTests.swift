import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import Testing

/// `airgate devices`, the real binary, against the SQLite store a running gateway uses: what
/// the admin does reaches the device's next request.
@Suite struct DevicesCommandTests {
    typealias FH = EASTag.FolderHierarchy

    static var binary: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/airgate").path
    }

    static func devices(_ arguments: [String], store: String) async throws -> (status: Int32, output: String) {
        try await LocalStack.run(binary, ["devices"] + arguments + ["--sqlite", store])
    }

    @Test func wipeBlockAllowAndRemoveReachTheDevice() async throws {
        guard Stack.available(), FileManager.default.isExecutableFile(atPath: Self.binary) else { return }
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-devices-\(UUID().uuidString).sqlite").path
        let gateway = try await RunningGateway.start { $0.store = .sqlite(path: store) }
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device(type: "iPhone", version: .v14_1)
        try await device.provision()
        _ = try await device.send("Settings", EASElement(EASTag.Settings.settings, children: [
            EASElement(EASTag.Settings.deviceInformation, children: [EASElement(EASTag.Settings.set, children: [
                EASElement(EASTag.Settings.model, text: "iPhone16,1"), EASElement(EASTag.Settings.os, text: "iOS 18.1"),
            ])]),
        ]))
        let folderSync = EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")])
        #expect(try await device.send("FolderSync", folderSync).status == 200)
        let user = device.user

        // list and show, as a table and as JSON.
        let table = try await Self.devices(["list", "--user", user], store: store)
        #expect(table.status == 0)
        #expect(table.output.contains(device.deviceId) && table.output.contains("iPhone16,1") && table.output.contains("allowed"))
        let json = try await Self.devices(["show", "--user", user, "--device", device.deviceId, "--json"], store: store)
        let shown = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        #expect(shown?["os"] as? String == "iOS 18.1")
        #expect(shown?["protocolVersion"] as? String == "14.1")

        // A wipe goes out with the device's next request: in-band 140, then the wipe itself.
        #expect(try await Self.devices(["wipe", "--user", user, "--device", device.deviceId], store: store).status == 0)
        let refused = try await device.send("FolderSync", folderSync)
        log.record(refused)
        #expect(refused.element?.child(FH.status)?.text == "140")
        let provision = try await device.send("Provision", EASElement(EASTag.Provision.provision, children: [
            EASElement(EASTag.Provision.policies, children: [EASElement(EASTag.Provision.policy, children: [
                EASElement(EASTag.Provision.policyType, text: "MS-EAS-Provisioning-WBXML"),
            ])]),
        ]))
        log.record(provision)
        #expect(provision.element?.child(EASTag.Provision.remoteWipe) != nil)
        let afterWipe = try await Self.devices(["show", "--user", user, "--device", device.deviceId, "--json"], store: store)
        #expect(afterWipe.output.contains("\"wipe\" : \"sent\""))
        // Withdrawing is only for a wipe not yet sent.
        let late = try await Self.devices(["cancel-wipe", "--user", user, "--device", device.deviceId], store: store)
        #expect(late.status != 0 && late.output.contains("no wipe is pending"))

        // Blocked: refused from the next request on (in-band 129 from 14.0, 403 for Ping);
        // allowed: back in.
        var other = gateway.device(type: "Android", version: .v14_1)
        try await other.provision()
        #expect(try await other.send("FolderSync", folderSync).status == 200)
        #expect(try await Self.devices(["block", "--user", user, "--device", other.deviceId], store: store).status == 0)
        let blocked = try await other.send("FolderSync", folderSync)
        log.record(blocked)
        #expect(blocked.element?.child(FH.status)?.text == "129")
        #expect(try await other.send("Ping", nil).status == 403)
        #expect(try await Self.devices(["allow", "--user", user, "--device", other.deviceId], store: store).status == 0)
        #expect(try await other.send("FolderSync", folderSync).status == 200)

        // Removed: gone from the list.
        #expect(try await Self.devices(["remove", "--user", user, "--device", other.deviceId], store: store).status == 0)
        let remaining = try await Self.devices(["list", "--user", user, "--json"], store: store)
        #expect(!remaining.output.contains(other.deviceId) && remaining.output.contains(device.deviceId))

        // Mistakes get a clear message and a non-zero exit.
        let unknown = try await Self.devices(["block", "--user", user, "--device", "no-such-device"], store: store)
        #expect(unknown.status != 0 && unknown.output.contains("no device no-such-device of \(user)"))
        let notQuarantined = try await Self.devices(["quarantine", "approve", "--user", user, "--device", device.deviceId],
                                                    store: store)
        #expect(notQuarantined.status != 0 && notQuarantined.output.contains("not quarantined"))
        let missing = try await LocalStack.run(Self.binary, ["devices", "list", "--sqlite", store + ".missing"])
        #expect(missing.status != 0 && missing.output.contains("no state database"))
        try log.validate()
    }

    @Test func resyncMakesTheDeviceFetchAFolderOrEverythingAgain() async throws {
        guard Stack.available(), FileManager.default.isExecutableFile(atPath: Self.binary) else { return }
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-resync-\(UUID().uuidString).sqlite").path
        let gateway = try await RunningGateway.start { $0.store = .sqlite(path: store) }
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device(type: "iPhone", version: .v14_1)
        let (folderId, mailbox, uids) = try await SyncEndToEndTests.prepare(&device, log: log, count: 3)
        let (key, ids) = try await PingAndFetchTests.syncToEnd(device, folderId, log: log)
        #expect(ids.count == uids.count)
        let user = device.user

        // One folder, named as the admin knows it: the next Sync of it answers Status 3, the
        // device starts over from key 0 and gets every message again.
        let one = try await Self.devices(["resync", "--user", user, "--device", device.deviceId, "--folder", mailbox.wireName],
                                         store: store)
        #expect(one.status == 0 && one.output.contains("resync of folder \(folderId)"))
        let stale = try await device.send("Sync", SyncEndToEndTests.syncRequest(key, collection: folderId))
        log.record(stale)
        #expect(SyncEndToEndTests.collection(stale)?.child(EASTag.AirSync.status)?.text == "3")
        let (_, again) = try await PingAndFetchTests.syncToEnd(device, folderId, log: log)
        #expect(Set(again) == Set(ids))

        // Everything: the folder list too (FolderSync Status 9 for the old key).
        let folders = try await device.send("FolderSync", EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
        let folderKey = try #require(folders.element?.child(FH.syncKey)?.text)
        #expect(try await Self.devices(["resync", "--user", user, "--device", device.deviceId], store: store).status == 0)
        let refused = try await device.send("FolderSync", EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: folderKey)]))
        log.record(refused)
        #expect(refused.element?.child(FH.status)?.text == "9")

        let unknown = try await Self.devices(["resync", "--user", user, "--device", device.deviceId, "--folder", "No such"],
                                             store: store)
        #expect(unknown.status != 0 && unknown.output.contains("has no folder No such"))
        try log.validate()
    }
}
