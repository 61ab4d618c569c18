import AirgateServer
import EASClient
import EASProtocol
import Foundation
import Testing

/// Dovecot's push notification plugin announcing new Inbox mail to the gateway: the stack's
/// Dovecot PUTs to `PUSH_PORT` for users the gateway registered in METADATA.
@Suite struct MailPushTests {
    typealias FH = EASTag.FolderHierarchy

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
        let (key, _) = try await PingAndFetchTests.syncToEnd(device, inbox, log: log)

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

        let (arrived, _) = try await PingAndFetchTests.pingUntilDelivered(device, inbox: inbox, key: key, log: log)
        #expect(arrived, "the delivered message never reached the device")
        // Dovecot announced it, and this gateway tracked the account, so it acted on it.
        let metrics = try await exchange.send(method: .GET, path: "/metrics", headers: [], body: [])
        let samples = try await MetricsTests.samples(String(decoding: metrics.body, as: UTF8.self))
        #expect((samples["airgate_mail_push_total{handled=yes}"] ?? 0) >= 1)
        try log.validate()
    }
}
