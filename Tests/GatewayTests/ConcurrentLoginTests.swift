import AirgateTestSupport
import EASClient
import EASProtocol
import Testing

/// A phone's first requests often come together (FolderSync, Sync, Ping on several
/// connections), and a user's devices wake together: the first login of an account is shared
/// by the requests that arrive while it runs, and none of them loses its IMAP connections to
/// another's login.
@Suite struct ConcurrentLoginTests {
    static let folderSync = EASElement(EASTag.FolderHierarchy.folderSync, children: [EASElement(EASTag.FolderHierarchy.syncKey, text: "0")])

    @Test func firstRequestsOfOneAccountArrivingTogetherAreAllServed() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let user = "load01@" + Stack["MAIL_DOMAIN"]
        let devices = (0..<12).map { _ in gateway.device(type: "WindowsOutlook15", user: user, password: Stack["LOAD_PASSWORD"]) }
        let statuses = await withTaskGroup(of: (Int, String?).self) { group in
            for device in devices {
                group.addTask {
                    guard let answer = try? await device.send("FolderSync", Self.folderSync) else { return (0, nil) }
                    return (answer.status, answer.element?.child(EASTag.FolderHierarchy.status)?.text)
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.count == 12)
        #expect(statuses.allSatisfy { $0.0 == 200 && $0.1 == "1" }, "\(statuses)")
        // And the account's connections still work afterwards, for every device.
        for device in devices {
            #expect(try await device.send("FolderSync", Self.folderSync).status == 200)
        }
    }
}
