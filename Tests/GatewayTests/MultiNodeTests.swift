import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import MailUpstream
import Testing

/// Two `airgate serve` processes on different loopback ports sharing one PostgreSQL schema, as
/// behind a proxy: one tracker per account across both, Pings on one node woken by the other
/// node's tracker, and the tracking moving over when its node is killed.
@Suite(.serialized) struct MultiNodeTests {
    typealias AS = EASTag.AirSync
    typealias FH = EASTag.FolderHierarchy
    typealias PG = EASTag.Ping

    /// One gateway process, ended (SIGKILL) by `kill` or when the test is done.
    final class Node: @unchecked Sendable {
        // @unchecked Sendable: the test drives it from one task at a time.
        let name: String
        let port: Int
        let process = Process()
        let output: URL

        init(name: String, port: Int, postgres: String) throws {
            self.name = name
            self.port = port
            output = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-\(name)-\(UUID().uuidString).log")
            FileManager.default.createFile(atPath: output.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: DevicesCommandTests.binary)
            process.arguments = ["serve", "--stack-env", LocalStack.envPath, "--postgres", postgres,
                                 "--listen", "127.0.0.1:\(port)"]
            var environment = ProcessInfo.processInfo.environment
            environment["AIRGATE_CLUSTER_NODE_NAME"] = name
            environment["AIRGATE_CLUSTER_TRACKER_LEASE_SECONDS"] = "6"
            environment["AIRGATE_CLUSTER_FOLDER_POLL_SECONDS"] = "2"
            environment["AIRGATE_LOG_LEVEL"] = "notice"
            process.environment = environment
            let handle = try FileHandle(forWritingTo: output)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        var exchange: HTTPExchange { HTTPExchange(host: "127.0.0.1", port: port, timeout: .seconds(60)) }

        func waitUntilLive() async throws {
            for _ in 0..<150 {
                if let answer = try? await exchange.send(method: .GET, path: "/healthz", headers: [], body: []), answer.status == 200 {
                    return
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw EASClientError("node \(name) did not start: \(log)")
        }

        var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

        /// This node's /metrics, read by Prometheus's parser.
        func metrics() async throws -> [String: Double] {
            try await MetricsTests.samples(String(
                decoding: try await exchange.send(method: .GET, path: "/metrics", headers: [], body: []).body, as: UTF8.self))
        }

        /// `airgate_trackers_running` (0 when never set).
        func trackersRunning() async throws -> Int {
            Int(try await metrics()["airgate_trackers_running{}"] ?? 0)
        }

        func kill() {
            guard process.isRunning else { return }
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        func device(_ id: String) -> EASDevice {
            EASDevice(exchange: exchange, user: Stack["DEMO_USER"], password: Stack["DEMO_PASSWORD"], deviceId: id,
                      deviceType: "iPhone", version: .v14_1)
        }
    }

    /// Two live nodes sharing a PostgreSQL schema of their own (named in the result).
    static func twoNodes() async throws -> (Node, Node, schema: String) {
        let schema = "nodes_" + UUID().uuidString.replacing("-", with: "").lowercased()
        let postgres = Stack["PG_URL"] + "?schema=" + schema
        let nodeA = try Node(name: "node-a", port: try await freePort(), postgres: postgres)
        let nodeB: Node
        do {
            nodeB = try Node(name: "node-b", port: try await freePort(), postgres: postgres)
        } catch {
            nodeA.kill()
            throw error
        }
        do {
            try await nodeA.waitUntilLive()
            try await nodeB.waitUntilLive()
        } catch {
            nodeA.kill()
            nodeB.kill()
            throw error
        }
        return (nodeA, nodeB, schema)
    }

    /// Drops a schema `twoNodes` made, once both nodes are gone.
    static func drop(_ schema: String) async throws {
        let dropped = try await LocalStack.run("/usr/bin/env", ["psql", Stack["PG_URL"], "-qc", "DROP SCHEMA \(schema) CASCADE"])
        #expect(dropped.status == 0, "\(dropped.output)")
    }

    static func freePort() async throws -> Int {
        let port = try await Stack.python("""
            import socket
            s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
            """)
        return try #require(Int(port))
    }

    /// Waits (up to `limit`) until `condition` holds.
    static func eventually(_ limit: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(250))
        }
        return try await condition()
    }

    static func ping(_ device: EASDevice, _ folderId: String) -> EASElement {
        EASElement(PG.ping, children: [
            EASElement(PG.heartbeatInterval, text: "120"),
            EASElement(PG.folders, children: [EASElement(PG.folder, children: [
                EASElement(PG.id, text: folderId), EASElement(PG.class, text: "Email"),
            ])]),
        ])
    }

    /// Appends a message to `mailbox` over IMAP `delay` from now, as a delivery would.
    static func deliver(_ subject: String, to mailbox: IMAPMailboxName, after delay: Duration) -> Task<Void, any Error> {
        Task.detached {
            try await Task.sleep(for: delay)
            _ = try await Stack.session().append(to: mailbox, message: Array("""
                From: sender@example.net\r
                Subject: \(subject)\r
                Message-ID: <\(UUID().uuidString)@example.net>\r
                \r
                pushed across nodes\r

                """.utf8), flags: [], internalDate: nil)
        }
    }

    @Test func aPingOnOneNodeWakesByTheOtherNodesTrackerWhichMovesWhenItsNodeDies() async throws {
        guard Stack.available(), FileManager.default.isExecutableFile(atPath: DevicesCommandTests.binary) else { return }
        let (nodeA, nodeB, schema) = try await Self.twoNodes()
        defer { nodeA.kill() }
        defer { nodeB.kill() }
        let log = ResponseLog()

        // A fresh folder that only this test uses: its tracker IDLEs on it.
        let mailbox = IMAPMailboxName(display: "Nodes-\(UUID().uuidString.prefix(8))")
        try await Stack.session().createTestMailbox(mailbox)
        func prepare(_ device: inout EASDevice) async throws -> (folderId: String, key: String) {
            try await device.provision()
            let folders = try await device.send("FolderSync", EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
            log.record(folders)
            let folderId = try #require(folders.element?.child(FH.changes)?.children(FH.add)
                .first { $0.child(FH.displayName)?.text == mailbox.displayName }?.child(FH.serverId)?.text)
            let (key, _) = try await PingAndFetchTests.syncToEnd(device, folderId, log: log)
            return (folderId, key)
        }

        // The device on node B syncs first: B takes the account's tracker.
        var onB = nodeB.device("TNodeB" + String(UUID().uuidString.prefix(8)))
        let (folderId, _) = try await prepare(&onB)
        #expect(try await Self.eventually(.seconds(10)) { try await nodeB.trackersRunning() == 1 })
        // The device on node A: A's entry stands by, B keeps tracking.
        var onA = nodeA.device("TNodeA" + String(UUID().uuidString.prefix(8)))
        let preparedA = try await prepare(&onA)
        #expect(preparedA.folderId == folderId)
        var keyA = preparedA.key
        try await Task.sleep(for: .seconds(3))
        #expect(try await nodeA.trackersRunning() == 0)
        #expect(try await nodeB.trackersRunning() == 1)

        // A Ping held on A ends when the message lands: only B's tracker (IDLE) sees it, and the
        // store's NOTIFY carries the news to A.
        func pushedToA(_ subject: String) async throws -> Bool {
            let delivery = Self.deliver(subject, to: mailbox, after: .milliseconds(1500))
            let started = ContinuousClock.now
            let ping = try await onA.send("Ping", Self.ping(onA, folderId))
            log.record(ping)
            try await delivery.value
            #expect(ping.element?.child(PG.status)?.text == "2", "Ping on node A: \(ping.element?.xml() ?? "")")
            #expect(ContinuousClock.now - started < .seconds(30))
            let sync = try await onA.send("Sync", SyncEndToEndTests.syncRequest(keyA, collection: folderId, window: 100))
            log.record(sync)
            let collection = SyncEndToEndTests.collection(sync)
            keyA = collection?.child(AS.syncKey)?.text ?? keyA
            let subjects = (collection?.child(AS.commands)?.children(AS.add) ?? [])
                .compactMap { $0.child(AS.applicationData)?.child(EASTag.Email.subject)?.text }
            return subjects == [subject]
        }
        #expect(try await pushedToA("first across nodes"))
        #expect(try await nodeA.trackersRunning() == 0, "node A ran a tracker while B held the lease")

        // Node B dies without a word: within the lease (6 s) and a retry, A tracks the account
        // and the next delivery still reaches the Ping held on A, exactly once.
        nodeB.kill()
        #expect(try await Self.eventually(.seconds(20)) { try await nodeA.trackersRunning() == 1 })
        #expect(try await pushedToA("second, after node B died"))
        // Both pushes were timed from the log append to the Ping's answer.
        let metrics = try await nodeA.metrics()
        #expect((metrics["airgate_push_latency_seconds_count{}"] ?? 0) >= 2)
        #expect((metrics["airgate_push_latency_seconds_sum{}"] ?? 100) < 60)
        try log.validate()
        nodeA.kill()
        try await Self.drop(schema)
    }

    @Test func theSameSyncReachingBothNodesAtOnceIsAnsweredByBoth() async throws {
        // A proxy that does not keep a device on one node: the phone's repeat of a Sync reaches
        // the other node while the first is still answered. Both answer Status 1 with the same
        // items (the later one replays), never Status 3.
        guard Stack.available(), FileManager.default.isExecutableFile(atPath: DevicesCommandTests.binary) else { return }
        let (nodeA, nodeB, schema) = try await Self.twoNodes()
        defer { nodeA.kill() }
        defer { nodeB.kill() }
        let log = ResponseLog()
        let deviceId = "TBoth" + String(UUID().uuidString.prefix(8))
        var onA = nodeA.device(deviceId)
        let (folderId, _, uids) = try await SyncEndToEndTests.prepare(&onA, log: log, count: 40)
        var provisionedB = nodeB.device(deviceId)
        provisionedB.policyKey = onA.policyKey
        let (phoneA, phoneB) = (onA, provisionedB)
        func ids(_ answer: EASDevice.Answer) -> [String] {
            (SyncEndToEndTests.collection(answer)?.child(AS.commands)?.children(AS.add) ?? []).compactMap { $0.child(AS.serverId)?.text }
        }
        // Syncs one message on from whichever of two keys is the collection's current one (an
        // unknown key is answered Status 3 and changes nothing): its items and the new key.
        func oneMoreFrom(_ keys: [String]) async throws -> (ids: [String], key: String) {
            for key in keys {
                let probe = try await phoneA.send("Sync", SyncEndToEndTests.syncRequest(key, collection: folderId, window: 1))
                log.record(probe)
                let collection = try #require(SyncEndToEndTests.collection(probe))
                if collection.child(AS.status)?.text == "3" { continue }
                #expect(collection.child(AS.status)?.text == "1")
                return (ids(probe), try #require(collection.child(AS.syncKey)?.text))
            }
            throw EASClientError("neither key is current: \(keys)")
        }
        async let zeroA = phoneA.send("Sync", SyncEndToEndTests.syncRequest("0", collection: folderId))
        async let zeroB = phoneB.send("Sync", SyncEndToEndTests.syncRequest("0", collection: folderId))
        let zeros = try await [zeroA, zeroB]
        for answer in zeros { log.record(answer) }
        #expect(zeros.map { SyncEndToEndTests.collection($0)?.child(AS.status)?.text } == ["1", "1"])
        var seen: [String] = []
        var keys = zeros.compactMap { SyncEndToEndTests.collection($0)?.child(AS.syncKey)?.text }
        for _ in 0..<3 {
            let (taken, key) = try await oneMoreFrom(keys)
            seen += taken
            let request = SyncEndToEndTests.syncRequest(key, collection: folderId, window: 5)
            async let first = phoneA.send("Sync", request)
            async let second = phoneB.send("Sync", request)
            let answers = try await [first, second]
            for answer in answers { log.record(answer) }
            #expect(answers.map { SyncEndToEndTests.collection($0)?.child(AS.status)?.text } == ["1", "1"])
            #expect(Set(ids(answers[0])) == Set(ids(answers[1])) && ids(answers[0]).count == 5)
            seen += ids(answers[0])
            keys = answers.compactMap { SyncEndToEndTests.collection($0)?.child(AS.syncKey)?.text }
        }
        var (taken, key) = try await oneMoreFrom(keys)
        seen += taken
        while true {
            let answer = try await phoneB.send("Sync", SyncEndToEndTests.syncRequest(key, collection: folderId, window: 20))
            log.record(answer)
            try #require(SyncEndToEndTests.collection(answer)?.child(AS.status)?.text == "1")
            seen += ids(answer)
            key = try #require(SyncEndToEndTests.collection(answer)?.child(AS.syncKey)?.text)
            if SyncEndToEndTests.collection(answer)?.child(AS.moreAvailable) == nil { break }
        }
        #expect(seen.count == uids.count && Set(seen).count == uids.count)
        try log.validate()
        nodeA.kill()
        nodeB.kill()
        try await Self.drop(schema)
    }
}
