import AirgateServer
import EASClient
import EASProtocol
import Foundation
import Testing

/// Dovecot's push notification plugin announcing new Inbox mail to the gateway: the stack's
/// Dovecot PUTs to `PUSH_PORT` for users the gateway registered in METADATA.
@Suite struct MailPushTests {
    typealias PG = EASTag.Ping
    typealias AS = EASTag.AirSync
    typealias FH = EASTag.FolderHierarchy

    static func metric(_ name: String, port: Int) async throws -> Double {
        let answer = try await HTTPExchange(host: "127.0.0.1", port: port).send(method: .GET, path: "/metrics", headers: [], body: [])
        for line in String(decoding: answer.body, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name) {
            return line.split(separator: " ").last.flatMap { Double($0) } ?? 0
        }
        return 0
    }

    @Test func deliveryIsAnnouncedByDovecotAndEndsTheHeldPing() async throws {
        guard Stack.available(), let pushPort = Int(Stack["PUSH_PORT"]) else { return }
        let gateway = try await RunningGateway.start {
            $0.port = pushPort
            $0.http.mailPushSecret = Stack["PUSH_SECRET"]
            $0.gateway.registersForMailPush = true
        }
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device(user: Stack["OTHER_USER"], password: Stack["OTHER_PASSWORD"])
        try await device.provision()
        let folders = try await device.send("FolderSync", EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
        let inbox = try #require(folders.addedFolder(type: "2"))
        var (key, _) = try await PingAndFetchTests.syncToEnd(device, inbox, log: log)

        // The endpoint wants the secret and a JSON body.
        let exchange = HTTPExchange(host: "127.0.0.1", port: pushPort)
        let wrong = try await exchange.send(method: .PUT, path: "/airgate/push/dovecot",
                                            headers: [("Authorization", "Basic " + Base64.encode(Array("airgate:guess".utf8)))],
                                            body: Array("{}".utf8))
        #expect(wrong.status == 401)
        let garbled = try await exchange.send(method: .PUT, path: "/airgate/push/dovecot",
                                              headers: [("Authorization", "Basic " + Base64.encode(Array("airgate:\(Stack["PUSH_SECRET"])".utf8)))],
                                              body: Array("{\"user\":".utf8))
        #expect(garbled.status == 400)

        let subject = "announced-\(UUID().uuidString)"
        Task.detached {
            try await Task.sleep(for: .milliseconds(800))
            try await Stack.python("""
                import os, smtplib, sys
                with smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ["SMTP_PLAIN_PORT"])) as s:
                    s.sendmail("sender@example.net", [os.environ["OTHER_USER"]],
                               "From: sender@example.net\\r\\nSubject: " + sys.argv[1] + "\\r\\n\\r\\nannounced\\r\\n")
                """, [subject])
        }
        let pingRequest = EASElement(PG.ping, children: [
            EASElement(PG.heartbeatInterval, text: "120"),
            EASElement(PG.folders, children: [EASElement(PG.folder, children: [
                EASElement(PG.id, text: inbox), EASElement(PG.class, text: "Email"),
            ])]),
        ])
        // Other suites deliver to this Inbox too: Ping and Sync until ours came.
        var arrived = false
        for _ in 0..<5 where !arrived {
            let ping = try await device.send("Ping", pingRequest)
            log.record(ping)
            #expect(ping.element?.child(PG.status)?.text == "2")
            let sync = try await device.send("Sync", SyncEndToEndTests.syncRequest(key, collection: inbox, window: 100))
            log.record(sync)
            let adds = SyncEndToEndTests.collection(sync)?.child(AS.commands)?.children(AS.add) ?? []
            arrived = adds.contains { $0.child(AS.applicationData)?.child(EASTag.Email.subject)?.text == subject }
            key = SyncEndToEndTests.collection(sync)?.child(AS.syncKey)?.text ?? key
        }
        #expect(arrived, "the delivered message never reached the device")
        // Dovecot announced it, and this gateway tracked the account, so it acted on it.
        #expect(try await Self.metric("airgate_mail_push_total{handled=\"yes\"}", port: pushPort) >= 1)
        try log.validate()
    }
}
