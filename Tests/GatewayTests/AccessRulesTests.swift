import AirgateServer
import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
@testable import Gateway
import SyncState
import Testing

/// Device access rules, personal exemptions and the partnership limit.
@Suite struct AccessRulesTests {
    typealias FH = EASTag.FolderHierarchy

    static func device(_ type: String, model: String? = nil, agent: String? = nil, id: String = "d1",
                       reason: Device.AccessReason = .defaultLevel, state: Device.AccessState = .allowed) -> Device {
        var device = Device(ref: DeviceRef(account: AccountID(1), deviceId: id), deviceType: type, firstSeen: 0)
        device.information.model = model
        device.userAgent = agent
        device.accessReason = reason
        device.accessState = state
        return device
    }

    @Test func exemptionsThenRulesThenTheDefault() throws {
        let policy = DeviceAccessPolicy(
            defaultAccess: .quarantined,
            rules: try ["block model=SM-G900*", "allow type=iPhone", "allow agent=*Outlook*", "quarantine type=*"].map {
                try #require(DeviceAccessPolicy.Rule($0))
            },
            exemptions: ["ana@example.org": ["phone-7": .blocked]])
        #expect(policy.decide(Self.device("Android", model: "sm-g900f"), user: "bob") == (.blocked, .rule))
        #expect(policy.decide(Self.device("iPhone"), user: "bob") == (.allowed, .rule))
        #expect(policy.decide(Self.device("WindowsMail", agent: "Microsoft Outlook 16"), user: "bob") == (.allowed, .rule))
        #expect(policy.decide(Self.device("Nokia"), user: "bob") == (.quarantined, .rule))
        #expect(policy.decide(Self.device("iPhone", id: "phone-7"), user: "Ana@Example.org") == (.blocked, .individual))
        // An admin's decision for one device stands against the rules.
        #expect(policy.decide(Self.device("Nokia", reason: .individual, state: .allowed), user: "bob") == (.allowed, .individual))
        #expect(DeviceAccessPolicy(defaultAccess: .blocked).decide(Self.device("x"), user: "u") == (.blocked, .defaultLevel))
        #expect(DeviceAccessPolicy.Rule("permit type=x") == nil)
        #expect(DeviceAccessPolicy.Rule("block colour=red") == nil)
        #expect(DeviceAccessPolicy.wildcard("a*b*c", matches: "axxbyyc"))
        #expect(!DeviceAccessPolicy.wildcard("a*a", matches: "a"))
        #expect(DeviceAccessPolicy.wildcard("*", matches: ""))
    }

    @Test func quarantinedUntilApprovedAndNoMoreDevicesThanAllowed() async throws {
        guard Stack.available(), FileManager.default.isExecutableFile(atPath: DevicesCommandTests.binary) else { return }
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-access-\(UUID().uuidString).sqlite").path
        let gateway = try await RunningGateway.start { configuration in
            configuration.store = .sqlite(path: store)
            configuration.gateway.access = DeviceAccessPolicy(
                rules: [DeviceAccessPolicy.Rule("quarantine type=Quarantined*")!], maxDevicesPerUser: 2)
        }
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        let folderSync = EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")])
        var stranger = gateway.device(type: "QuarantinedPhone", version: .v14_1, user: Stack["AWAY_USER"], password: Stack["AWAY_PASSWORD"])
        let held = try await stranger.send("FolderSync", folderSync)
        log.record(held)
        #expect(held.element?.child(FH.status)?.text == "129")
        // The owner is told in their Inbox, once, naming the device.
        #expect(try await stranger.send("FolderSync", folderSync).element?.child(FH.status)?.text == "129")
        let notices = try await Stack.python(LocalStack.imaplibLogin(as: "AWAY") + """
            import email
            m.select("INBOX")
            _, found = m.uid("SEARCH", "TEXT", sys.argv[1])
            for uid in found[0].split():
                _, data = m.uid("FETCH", uid, "(RFC822)")
                message = email.message_from_bytes(data[0][1])
                print(message["Subject"], "|", message["Auto-Submitted"], "|", "QuarantinedPhone" in message.get_payload())
                m.uid("STORE", uid, "+FLAGS", "(\\Deleted)")
            m.expunge()
            """, [stranger.deviceId])
        #expect(notices.split(separator: "\n") == ["A new device is waiting for approval | auto-generated | True"])
        let listed = try await LocalStack.run(DevicesCommandTests.binary, ["devices", "list", "--sqlite", store])
        #expect(listed.output.contains("quarantined (rule)"))
        let approved = try await LocalStack.run(DevicesCommandTests.binary, [
            "devices", "quarantine", "approve", "--user", Stack["AWAY_USER"], "--device", stranger.deviceId, "--sqlite", store,
        ])
        #expect(approved.status == 0)
        try await stranger.provision()
        #expect(try await stranger.send("FolderSync", folderSync).element?.child(FH.status)?.text == "1")

        // The mailbox already has one device; a second is fine, a third is refused (177).
        var second = gateway.device(type: "iPhone", version: .v14_1, user: Stack["AWAY_USER"], password: Stack["AWAY_PASSWORD"])
        try await second.provision()
        var third = gateway.device(type: "iPhone", version: .v14_1, user: Stack["AWAY_USER"], password: Stack["AWAY_PASSWORD"])
        let refused = try await third.send("FolderSync", folderSync)
        log.record(refused)
        #expect(refused.element?.child(FH.status)?.text == "177")
        let after = try await LocalStack.run(DevicesCommandTests.binary, ["devices", "list", "--sqlite", store, "--json"])
        #expect(!after.output.contains(third.deviceId))
        try log.validate()
    }
}
