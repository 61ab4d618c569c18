import AirgateServer
import AirgateTestSupport
import EASClient
import EASProtocol
import Testing

/// `imap.master_user`: the user's own password is still what lets a device in; the account's
/// IMAP sessions then log in as the master (Dovecot `USER*MASTER`).
@Suite struct MasterLoginTests {
    static let folderSync = EASElement(EASTag.FolderHierarchy.folderSync, children: [EASElement(EASTag.FolderHierarchy.syncKey, text: "0")])

    @Test func theUsersPasswordIsCheckedAndSessionsUseTheMaster() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start { configuration in
            configuration.routes.fallback?.master = IMAPMasterLogin(user: Stack["MASTER_USER"], password: Stack["MASTER_PASSWORD"])
        }
        defer { Task { await gateway.stop() } }
        var device = gateway.device(user: Stack["OTHER_USER"], password: Stack["OTHER_PASSWORD"])
        try await device.provision()
        let folders = try await device.send("FolderSync", Self.folderSync)
        #expect(folders.status == 200 && folders.element?.child(EASTag.FolderHierarchy.status)?.text == "1")
        // A wrong password gets nowhere, master or not.
        var guesser = gateway.device(user: Stack["OTHER_USER"], password: "not-the-password")
        #expect(try await guesser.send("FolderSync", Self.folderSync).status == 401)

        // The proof that sessions log in as the master: with a wrong master password the
        // user's own login still passes and the session's login fails; that is the operator's
        // mistake, so 503 rather than 401 (which would make the phone ask for the password).
        let broken = try await RunningGateway.start { configuration in
            configuration.routes.fallback?.master = IMAPMasterLogin(user: Stack["MASTER_USER"], password: "wrong-master-password")
        }
        defer { Task { await broken.stop() } }
        var victim = broken.device(type: "WindowsOutlook15", user: Stack["OTHER_USER"], password: Stack["OTHER_PASSWORD"])
        let refused = try await victim.send("FolderSync", Self.folderSync)
        #expect(refused.status == 503 && refused.http.header("Retry-After") != nil)
    }
}
