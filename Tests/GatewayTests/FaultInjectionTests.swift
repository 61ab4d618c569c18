import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import MailUpstream
import MailUpstreamEtPan
import Testing

/// An initial Sync of 10,000 messages through faults: the gateway process SIGKILLed mid-request
/// and restarted, Dovecot restarted, PostgreSQL restarted (immediate shutdown, as a crash), the
/// answer cut mid-body, an answer lost and the request repeated, and client operations (a flag
/// change, a move) whose request is interrupted and sent again. The client's view must end as
/// exactly the IMAP mailbox: every message once, none twice, no stuck key, operations applied
/// once.
@Suite(.serialized) struct FaultInjectionTests {
    typealias AS = EASTag.AirSync

    static let messages = 10_000

    /// `airgate serve` as a separate process, so that SIGKILL is real.
    final class GatewayProcess: @unchecked Sendable {
        // @unchecked Sendable: driven from one task at a time.
        let port: Int
        let config: String
        private var process: Process?
        let output: URL

        init(port: Int, config: String) {
            self.port = port
            self.config = config
            output = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-fault-\(UUID().uuidString).log")
        }

        func start() async throws {
            FileManager.default.createFile(atPath: output.path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: DevicesCommandTests.binary)
            process.arguments = ["serve", "--config", config]
            let handle = try FileHandle(forWritingTo: output)
            handle.seekToEndOfFile()
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            self.process = process
            for _ in 0..<150 {
                if let answer = try? await HTTPExchange(host: "127.0.0.1", port: port, timeout: .seconds(2))
                    .send(method: .GET, path: "/healthz", headers: [], body: []), answer.status == 200 { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw EASClientError("the gateway did not start: \(log)")
        }

        var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

        /// SIGKILL, then the exit.
        func kill() async {
            guard let process, process.isRunning else { return }
            Foundation.kill(process.processIdentifier, SIGKILL)
            for _ in 0..<200 where process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }

        deinit {
            if let process, process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// What the client holds: ServerId → subject.
    struct Held {
        var items: [String: String] = [:]
        var duplicates: [String] = []

        mutating func apply(_ collection: EASElement) {
            for add in collection.child(AS.commands)?.children(AS.add) ?? [] {
                guard let id = add.child(AS.serverId)?.text else { continue }
                let subject = add.child(AS.applicationData)?.child(EASTag.Email.subject)?.text ?? "?"
                if items[id] != nil { duplicates.append(subject) }
                items[id] = subject
            }
            for delete in collection.child(AS.commands)?.children(AS.delete) ?? [] {
                if let id = delete.child(AS.serverId)?.text { items[id] = nil }
            }
        }
    }

    @Test func tenThousandMessagesThroughEveryFault() async throws {
        guard Stack.available(), !Stack["BETA_DOVECOT_CONFIG"].isEmpty, FileManager.default.isExecutableFile(atPath: "/usr/sbin/dovecot"),
              FileManager.default.isExecutableFile(atPath: DevicesCommandTests.binary)
        else { return }
        let (dovecot, imapPort, mailDirectory) = try await PrivateServers.dovecot(seed: Self.messages)
        let (url, control, data, pgDirectory) = try await PrivateServers.postgres()
        try await PrivateServers.pgControl(control, data, "start")
        defer {
            dovecot.terminate()
            PrivateServers.pgStop(control, data)
            try? FileManager.default.removeItem(atPath: mailDirectory)
            try? FileManager.default.removeItem(atPath: pgDirectory)
        }
        let port = try await MultiNodeTests.freePort()
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-fault-\(UUID().uuidString).toml").path
        try """
            [server]
            listen = "127.0.0.1:\(port)"
            [imap]
            host = "127.0.0.1"
            port = \(imapPort)
            ca_file = "\(Stack["TLS_CA_FILE"])"
            server_name = "localhost"
            timeout_seconds = 10
            [store]
            postgres = "\(url)"
            [cluster]
            folder_poll_seconds = 1
            [log]
            level = "notice"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let gateway = GatewayProcess(port: port, config: config)
        try await gateway.start()
        defer { withExtendedLifetime(gateway) {} }

        let user = Stack["BETA_USER"], password = Stack["BETA_PASSWORD"]
        let side = IMAPMailSession(pool: Stack.sideAdapter.pool(endpoint: PrivateServers.endpoint(port: imapPort, timeout: .seconds(30)),
                                                               credentials: .login(user: user, password: password)))
        var device = EASDevice(exchange: HTTPExchange(host: "127.0.0.1", port: port, timeout: .seconds(60)), user: user,
                               password: password, deviceId: "FAULT" + String(UUID().uuidString.prefix(8)).replacing("-", with: ""),
                               deviceType: "iPhone", version: .v14_1)

        /// Sends until an answer other than 503 or a dropped connection comes (bounded).
        func sendPatiently(_ command: String, _ body: EASElement) async throws -> EASDevice.Answer {
            for _ in 0..<120 {
                if let answer = try? await device.send(command, body), answer.status != 503 { return answer }
                try await Task.sleep(for: .milliseconds(250))
            }
            throw EASClientError("\(command) never answered: \(gateway.log.suffix(2000))")
        }

        try await device.provision()
        let folders = try await sendPatiently("FolderSync", EASRequests.folderSync(key: "0"))
        let inbox = try #require(folders.addedFolder(type: "2"))
        let archive = try #require(folders.addedFolder(named: "Archive"))
        let first = try await sendPatiently("Sync", SyncEndToEndTests.syncRequest("0", collection: inbox))
        var key = try #require(SyncEndToEndTests.collection(first)?.child(AS.syncKey)?.text)
        var held = Held()
        var statusThree = 0
        var moved: String?
        var read: String?
        func request(_ key: String, commands: [EASElement] = []) -> EASElement {
            var request = SyncEndToEndTests.syncRequest(key, collection: inbox, window: 100, bodyType: 1, truncation: 64)
            if !commands.isEmpty {
                let collection = request.child(AS.collections)!.child(AS.collection)!
                let changed = EASElement(AS.collection, children: collection.children + [EASElement(AS.commands, children: commands)])
                request = EASElement(AS.sync, children: [EASElement(AS.collections, children: [changed])])
            }
            return request
        }

        for round in 0..<400 {
            var commands: [EASElement] = []
            // Round 12: mark a held message read, in the request the gateway is killed during.
            if round == 12, let (id, subject) = held.items.min(by: { $0.value < $1.value }) {
                read = subject
                commands = [EASElement(AS.change, children: [
                    EASElement(AS.serverId, text: id),
                    EASElement(AS.applicationData, children: [EASElement(EASTag.Email.read, text: "1")]),
                ])]
            }
            let body = request(key, commands: commands)
            switch round {
            case 5, 12:
                // The gateway dies while the request is in flight, then comes back; the
                // client sends the same request again.
                let inFlight = Task { [device] in try? await device.send("Sync", body) }
                try await Task.sleep(for: .milliseconds(30))
                await gateway.kill()
                _ = await inFlight.value
                try await gateway.start()
            case 8:
                // The answer is cut after 1,000 bytes: the client never sees it whole.
                var cut = device
                cut.exchange.cutAfterBodyBytes = 1000
                _ = try? await cut.send("Sync", body)
            case 10:
                // The answer is lost: the client sends the same request again.
                _ = try await sendPatiently("Sync", body)
            case 15:
                // Dovecot restarts between two requests.
                await dovecot.stop()
                try await PrivateServers.waitUntilGone("airgate-outage-\(imapPort)")
                try dovecot.start()
                try await PrivateServers.waitForPort(imapPort)
            case 20:
                // PostgreSQL crashes (immediate shutdown) and comes back.
                try await PrivateServers.pgControl(control, data, "stop")
                try await Task.sleep(for: .seconds(1))
                try await PrivateServers.pgControl(control, data, "start")
            case 25:
                // A move whose request the gateway dies during, then sent again.
                if let (id, subject) = held.items.filter({ $0.value != read }).min(by: { $0.value < $1.value }) {
                    let move = EASElement(EASTag.Move.moveItems, children: [EASElement(EASTag.Move.move, children: [
                        EASElement(EASTag.Move.srcMsgId, text: id), EASElement(EASTag.Move.srcFldId, text: inbox),
                        EASElement(EASTag.Move.dstFldId, text: archive),
                    ])])
                    let inFlight = Task { [device] in try? await device.send("MoveItems", move) }
                    try await Task.sleep(for: .milliseconds(20))
                    await gateway.kill()
                    _ = await inFlight.value
                    try await gateway.start()
                    let again = try await sendPatiently("MoveItems", move)
                    #expect(again.status == 200)
                    held.items[id] = nil
                    moved = subject
                }
            default:
                break
            }
            let answer = try await sendPatiently("Sync", body)
            #expect(answer.status == 200)
            guard let collection = SyncEndToEndTests.collection(answer) else { break }
            let status = collection.child(AS.status)?.text
            if status == "3" {
                statusThree += 1
                break
            }
            #expect(status == "1")
            held.apply(collection)
            key = try #require(collection.child(AS.syncKey)?.text)
            if collection.child(AS.moreAvailable) == nil, round > 30 { break }
        }

        // Converged: every message exactly once, the moved one gone from the Inbox, no reset.
        #expect(statusThree == 0)
        #expect(held.duplicates.isEmpty, "\(held.duplicates.prefix(5))")
        let expected = Set((0..<Self.messages).map { String(format: "fault-%05d end", $0) }).subtracting([moved ?? ""])
        let movedSubject = try #require(moved)
        let readSubject = try #require(read)
        #expect(Set(held.items.values) == expected)
        #expect(held.items.count == expected.count)
        let inboxOnIMAP = try await side.search(in: IMAPMailboxName(wire: "INBOX"), MailSearch())
        #expect(inboxOnIMAP.count == expected.count)
        // The flag change and the move were applied, once.
        #expect(try await side.search(in: IMAPMailboxName(wire: "INBOX"), MailSearch(subject: readSubject)).count == 1)
        #expect(try await side.search(in: IMAPMailboxName(wire: "INBOX"), MailSearch(subject: readSubject, unseenOnly: true)).isEmpty)
        #expect(try await side.search(in: IMAPMailboxName(wire: "Archive"), MailSearch(subject: movedSubject)).count == 1)
        #expect(try await side.search(in: IMAPMailboxName(wire: "INBOX"), MailSearch(subject: movedSubject)).isEmpty)
        // And a steady state: one more Sync says nothing changed.
        let steady = try await sendPatiently("Sync", request(key))
        #expect(SyncEndToEndTests.collection(steady)?.child(AS.commands) == nil)
        try? FileManager.default.removeItem(atPath: config)
    }
}
