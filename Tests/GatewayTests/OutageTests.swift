import AirgateServer
import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import MailUpstream
import MailUpstreamEtPan
import Testing

/// The gateway's own upstreams really stop and start again: a private Dovecot (made from the
/// stack's second instance's configuration, with its own ports, state and mail) and a private
/// PostgreSQL (its own cluster). Meanwhile requests get 503 with Retry-After within the
/// configured timeouts, held Pings end cleanly, and service resumes by itself with the same
/// sync state: nothing lost, nothing repeated.
@Suite(.serialized) struct OutageTests {
    typealias AS = EASTag.AirSync

    /// Syncs the collection from `key` until nothing more is available; the ServerIds added.
    static func drain(_ device: EASDevice, _ folderId: String, from key: String) async throws -> (key: String, added: [String]) {
        var key = key
        var added: [String] = []
        for _ in 0..<20 {
            let answer = try await device.send("Sync", SyncEndToEndTests.syncRequest(key, collection: folderId, window: 100))
            #expect(answer.status == 200)
            guard let collection = SyncEndToEndTests.collection(answer) else { break }
            #expect(collection.child(AS.status)?.text == "1")
            added += (collection.child(AS.commands)?.children(AS.add) ?? []).compactMap { $0.child(AS.serverId)?.text }
            key = try #require(collection.child(AS.syncKey)?.text)
            if collection.child(AS.moreAvailable) == nil { break }
        }
        return (key, added)
    }

    /// Appends over the side session; after an outage its pooled connection is found dead on
    /// first use, so that one failure is retried.
    static func append(_ session: IMAPMailSession, _ subject: String) async throws {
        for attempt in 1...3 {
            do {
                _ = try await session.append(to: IMAPMailboxName(wire: "INBOX"), message: Array(
                    "From: someone@example.net\r\nSubject: \(subject)\r\n\r\n\(subject)\r\n".utf8), flags: [], internalDate: nil)
                return
            } catch let error as UpstreamError where error.code == .unavailable && attempt < 3 {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    @Test func whileDovecotIsDownRequestsGet503AndServiceResumesByItself() async throws {
        guard Stack.available(), !Stack["BETA_DOVECOT_CONFIG"].isEmpty, FileManager.default.isExecutableFile(atPath: "/usr/sbin/dovecot")
        else { return }
        let (dovecot, port, directory) = try await PrivateServers.dovecot()
        defer {
            dovecot.terminate()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let gateway = try await RunningGateway.start { configuration in
            configuration.gateway.heartbeatBounds = 5...3540
            configuration.routes.fallback?.imap = PrivateServers.endpoint(port: port)
            configuration.routes.fallback?.smtp = nil
            configuration.routes.fallback?.sieve = nil
        }
        defer { Task { await gateway.stop() } }
        let user = Stack["BETA_USER"], password = Stack["BETA_PASSWORD"]
        let side = IMAPMailSession(pool: Stack.sideAdapter.pool(endpoint: PrivateServers.endpoint(port: port), credentials: .login(
            user: user, password: password)))
        for index in 0..<3 { try await Self.append(side, "before \(index)") }

        var device = gateway.device(version: .v14_1, user: user, password: password)
        try await device.provision()
        let folders = try await device.send("FolderSync", EASRequests.folderSync(key: "0"))
        let inbox = try #require(folders.addedFolder(type: "2"))
        let first = try await device.send("Sync", SyncEndToEndTests.syncRequest("0", collection: inbox))
        var (key, held) = try await Self.drain(device, inbox, from: try #require(SyncEndToEndTests.collection(first)?.child(AS.syncKey)?.text))
        #expect(held.count == 3)

        // A Ping is held; then Dovecot stops (SIGTERM, all its processes gone).
        let pinger = device
        let ping = Task { try await pinger.send("Ping", EASRequests.ping(folders: [inbox], heartbeat: 8)) }
        try await Task.sleep(for: .milliseconds(500))
        await dovecot.stop()
        try await PrivateServers.waitUntilGone("airgate-outage-\(port)")

        // Requests that need IMAP: 503 with Retry-After, within the 5 s IMAP timeout; a login
        // the gateway has not seen yet is 503 too, never 401 (which would ask for the password).
        var started = ContinuousClock.now
        let folderSync = try await device.send("FolderSync", EASRequests.folderSync(key: "0"))
        #expect(folderSync.status == 503)
        #expect(Int(folderSync.http.header("Retry-After") ?? "") ?? 0 > 0)
        #expect(ContinuousClock.now - started < .seconds(15))
        // A Sync may be answered from the gateway's own state ("no changes"), or 503.
        started = ContinuousClock.now
        let sync = try await device.send("Sync", SyncEndToEndTests.syncRequest(key, collection: inbox, window: 100))
        #expect(sync.status == 503 ? sync.http.header("Retry-After") != nil : sync.status == 200)
        if sync.status == 200, let collection = SyncEndToEndTests.collection(sync) {
            #expect(collection.child(AS.status)?.text == "1")
            #expect(collection.child(AS.commands) == nil)
            key = try #require(collection.child(AS.syncKey)?.text)
        }
        #expect(ContinuousClock.now - started < .seconds(15))
        let newcomer = try await gateway.device(user: Stack["BETA_OTHER_USER"], password: Stack["BETA_OTHER_PASSWORD"])
            .send("FolderSync", EASRequests.folderSync(key: "0"))
        #expect(newcomer.status == 503)
        // The held Ping ends cleanly: a status, or 503 with Retry-After; never a 500 or a hang.
        let pinged = try await ping.value
        #expect(pinged.status == 200 || (pinged.status == 503 && pinged.http.header("Retry-After") != nil))

        // Dovecot comes back; nothing is restarted on the gateway's side.
        try dovecot.start()
        try await PrivateServers.waitForPort(port)
        try await Self.append(side, "after the outage")
        var resumed: (key: String, added: [String]) = (key, [])
        for _ in 0..<40 {
            let attempt = try await device.send("Sync", SyncEndToEndTests.syncRequest(key, collection: inbox, window: 100))
            if attempt.status == 503 {
                try await Task.sleep(for: .milliseconds(250))
                continue
            }
            let collection = try #require(SyncEndToEndTests.collection(attempt))
            #expect(collection.child(AS.status)?.text == "1")
            // This attempt may carry the new message already; the rest follows its key.
            let carried = (collection.child(AS.commands)?.children(AS.add) ?? []).compactMap { $0.child(AS.serverId)?.text }
            let rest = try await Self.drain(device, inbox, from: try #require(collection.child(AS.syncKey)?.text))
            resumed = (rest.key, carried + rest.added)
            if !resumed.added.isEmpty { break }
            key = rest.key
            try await Task.sleep(for: .milliseconds(250))
        }
        // The same sync state continues: only the new message, no Status 3, no repeat.
        #expect(resumed.added.count == 1)
        key = resumed.key
        held += resumed.added
        #expect(Set(held).count == 4)

        // Push works again: a Ping sees the next message.
        let nextPing = Task { try await pinger.send("Ping", EASRequests.ping(folders: [inbox], heartbeat: 60)) }
        try await Task.sleep(for: .milliseconds(500))
        try await Self.append(side, "pushed after the outage")
        let pushed = try await nextPing.value
        #expect(pushed.element?.child(EASTag.Ping.status)?.text == "2")
        #expect(try await Self.drain(device, inbox, from: key).added.count == 1)
    }

    @Test func whilePostgreSQLIsDownRequestsGet503AndServiceResumesByItself() async throws {
        guard Stack.available(), FileManager.default.fileExists(atPath: "/usr/sbin/runuser") else { return }
        let (url, control, data, directory) = try await PrivateServers.postgres()
        try await PrivateServers.pgControl(control, data, "start")
        defer {
            // Whatever happened above, the cluster does not outlive the test.
            PrivateServers.pgStop(control, data)
            try? FileManager.default.removeItem(atPath: directory)
        }
        let gateway = try await RunningGateway.start { $0.store = .postgres(url: url) }
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device(version: .v14_1)
        try await device.provision()
        let (folderId, _, _) = try await SyncEndToEndTests.prepare(&device, log: log, count: 5)
        let first = try await device.send("Sync", SyncEndToEndTests.syncRequest("0", collection: folderId))
        let (key, held) = try await Self.drain(device, folderId, from: try #require(SyncEndToEndTests.collection(first)?.child(AS.syncKey)?.text))
        #expect(held.count == 5)

        // PostgreSQL stops as if it crashed (immediate shutdown).
        try await PrivateServers.pgControl(control, data, "stop")
        for request in [("Sync", SyncEndToEndTests.syncRequest(key, collection: folderId, window: 100)),
                        ("FolderSync", EASRequests.folderSync(key: "0")),
                        ("Ping", EASRequests.ping(folders: [folderId], heartbeat: 60))] {
            let started = ContinuousClock.now
            let answer = try await device.send(request.0, request.1)
            #expect(answer.status == 503, "\(request.0)")
            #expect(Int(answer.http.header("Retry-After") ?? "") ?? 0 > 0, "\(request.0)")
            // Bounded by the store's connect timeout (5 s), not hanging.
            #expect(ContinuousClock.now - started < .seconds(20), "\(request.0)")
        }
        // /readyz says so.
        let ready = try await device.exchange.send(method: .GET, path: "/readyz", headers: [], body: [])
        let readiness = String(decoding: ready.body, as: UTF8.self)
        #expect(ready.status == 503 && readiness.contains("state store:") && !readiness.contains("state store: ok"), "\(readiness)")

        // Back: the same SyncKey continues with nothing repeated.
        try await PrivateServers.pgControl(control, data, "start")
        var resumed: (key: String, added: [String])?
        for _ in 0..<80 {
            let attempt = try await device.send("Sync", SyncEndToEndTests.syncRequest(key, collection: folderId, window: 100))
            if attempt.status == 503 {
                try await Task.sleep(for: .milliseconds(250))
                continue
            }
            #expect(attempt.status == 200)
            #expect(SyncEndToEndTests.collection(attempt)?.child(AS.status)?.text ?? "1" == "1")
            resumed = (key, (SyncEndToEndTests.collection(attempt)?.child(AS.commands)?.children(AS.add) ?? [])
                .compactMap { $0.child(AS.serverId)?.text })
            break
        }
        #expect(resumed?.added == [])
        #expect(try await device.send("FolderSync", EASRequests.folderSync(key: "0")).status == 200)
    }
}
