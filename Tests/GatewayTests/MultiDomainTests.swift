import AirgateServer
import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import Gateway
import MailUpstream
import MailUpstreamEtPan
import NIOCore
import Testing

/// A hosting provider's gateway: two domains on two separate Dovecot instances of the stack
/// (`airgate.test` logs in by address, `beta.test` by local part), read from a configuration
/// file as `airgate serve` reads it, and no server for any other domain.
@Suite struct MultiDomainTests {
    typealias FH = EASTag.FolderHierarchy

    static func available() -> Bool { Stack.available() && !LocalStack["BETA_IMAP_PORT"].isEmpty }

    static var alphaDomain: String { Stack["MAIL_DOMAIN"] }
    static var betaDomain: String { Stack["BETA_DOMAIN"] }
    static var betaAddress: String { "\(Stack["BETA_USER"])@\(betaDomain)" }
    static let alphaURL = "https://eas.alpha.example/Microsoft-Server-ActiveSync"
    static let betaURL = "https://eas.beta.example/Microsoft-Server-ActiveSync"

    /// The provider's configuration file for the stack's two instances.
    static func configurationText(store: String) -> String {
        """
        [server]
        listen = "127.0.0.1:0"
        [imap]
        ca_file = "\(Stack["TLS_CA_FILE"])"
        server_name = "localhost"
        [store]
        sqlite = "\(store)"

        [domain."\(alphaDomain)"]
        public_url = "\(alphaURL)"
        [domain."\(alphaDomain)".imap]
        host = "\(Stack["IMAP_HOST"])"
        port = \(Stack["IMAP_PORT"])
        server_name = "localhost"
        [domain."\(alphaDomain)".smtp]
        port = \(Stack["SMTP_PORT"])
        [domain."\(alphaDomain)".sieve]
        host = "\(Stack["SIEVE_HOST"])"
        port = \(Stack["SIEVE_PORT"])

        [domain."\(betaDomain)"]
        login = "local_part"
        public_url = "\(betaURL)"
        eas.protocol_ceiling = "14.1"
        access.max_devices_per_user = 1
        check.user = "\(betaAddress)"
        check.password = "\(Stack["BETA_PASSWORD"])"
        [domain."\(betaDomain)".imap]
        host = "\(Stack["IMAP_HOST"])"
        port = \(Stack["BETA_IMAP_PORT"])
        server_name = "localhost"
        [domain."\(betaDomain)".smtp]
        port = \(Stack["BETA_SMTP_PORT"])
        [domain."\(betaDomain)".policy]
        device_password = true
        min_password_length = 6
        """
    }

    static func start() async throws -> (RunningGateway, store: String) {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-domains-\(UUID().uuidString).sqlite").path
        let file = try ConfigurationFile(text: configurationText(store: store), name: "provider.toml")
        let (configured, _) = try ServerConfiguration.make(from: file)
        let gateway = try await RunningGateway.start { configuration in
            let port = configuration.port
            configuration = configured
            configuration.port = port
            configuration.imapThreads = 4
        }
        return (gateway, store)
    }

    /// A mail session straight to the beta instance, as its users log in there.
    static func betaSession() -> IMAPMailSession {
        let endpoint = ServerEndpoint(host: Stack["IMAP_HOST"], port: Int(Stack["BETA_IMAP_PORT"]) ?? 0, security: .startTLS,
                                      caFile: Stack["TLS_CA_FILE"], serverName: "localhost", timeout: .seconds(30))
        return IMAPMailSession(pool: Stack.sideAdapter.pool(endpoint: endpoint, credentials: .login(
            user: Stack["BETA_USER"], password: Stack["BETA_PASSWORD"])))
    }

    static func folderNames(_ device: EASDevice) async throws -> [String] {
        let answer = try await device.send("FolderSync", EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
        #expect(answer.status == 200)
        return (answer.element?.child(FH.changes)?.children(FH.add) ?? []).compactMap { $0.child(FH.displayName)?.text }
    }

    @Test func eachUserReachesOnlyTheirOwnMailServer() async throws {
        guard Self.available() else { return }
        let (gateway, _) = try await Self.start()
        defer { Task { await gateway.stop() } }
        // A folder only the alpha instance has, and one only the beta instance has.
        let alphaFolder = "alpha-\(UUID().uuidString.prefix(8))"
        let betaFolder = "beta-\(UUID().uuidString.prefix(8))"
        try await Stack.session().createTestMailbox(IMAPMailboxName(display: alphaFolder))
        let beta = Self.betaSession()
        try await beta.createTestMailbox(IMAPMailboxName(display: betaFolder))
        _ = try await beta.append(to: IMAPMailboxName(display: betaFolder), message: Array("""
            From: someone@example.net\r
            Subject: only on beta \(betaFolder)\r
            \r
            beta's own message\r

            """.utf8), flags: [], internalDate: nil)

        let log = ResponseLog()
        var alphaDevice = gateway.device(user: Stack["DEMO_USER"], password: Stack["DEMO_PASSWORD"])
        try await alphaDevice.provision()
        let alphaFolders = try await Self.folderNames(alphaDevice)
        #expect(alphaFolders.contains(alphaFolder) && !alphaFolders.contains(betaFolder))

        // The beta user types their address; the gateway logs in to beta's server by local part.
        var betaDevice = gateway.device(user: Self.betaAddress, password: Stack["BETA_PASSWORD"])
        try await betaDevice.provision()
        let answer = try await betaDevice.send("FolderSync", EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")]))
        log.record(answer)
        let adds = answer.element?.child(FH.changes)?.children(FH.add) ?? []
        let betaFolders = adds.compactMap { $0.child(FH.displayName)?.text }
        #expect(betaFolders.contains(betaFolder) && !betaFolders.contains(alphaFolder))
        let folderId = try #require(adds.first { $0.child(FH.displayName)?.text == betaFolder }?.child(FH.serverId)?.text)
        let (_, ids) = try await PingAndFetchTests.syncToEnd(betaDevice, folderId, log: log)
        #expect(ids.count == 1)

        // Passwords belong to their own server: the same local part's password on the other
        // domain, a domain nobody serves, and a login without a domain (no default) get 401.
        #expect(try await gateway.device(user: Self.betaAddress, password: Stack["DEMO_PASSWORD"]).send("FolderSync", nil).status == 401)
        #expect(try await gateway.device(user: Stack["DEMO_USER"], password: Stack["BETA_PASSWORD"]).send("FolderSync", nil).status == 401)
        #expect(try await gateway.device(user: "demo@gamma.test", password: Stack["DEMO_PASSWORD"]).send("FolderSync", nil).status == 401)
        #expect(try await gateway.device(user: Stack["BETA_USER"], password: Stack["BETA_PASSWORD"]).send("FolderSync", nil).status == 401)

        // Each domain's policy: beta asks for a device password of 6, alpha for nothing.
        func policy(_ device: EASDevice) async throws -> EASElement? {
            let answer = try await device.send("Provision", EASRequests.provision())
            log.record(answer)
            return answer.element?.child(EASTag.Provision.policies)?.child(EASTag.Provision.policy)?.child(EASTag.Provision.data)?
                .child(EASTag.Provision.easProvisionDoc)
        }
        let betaPolicy = try await policy(betaDevice)
        #expect(betaPolicy?.child(EASTag.Provision.devicePasswordEnabled)?.text == "1")
        #expect(betaPolicy?.child(EASTag.Provision.minDevicePasswordLength)?.text == "6")
        #expect(try await policy(alphaDevice)?.child(EASTag.Provision.devicePasswordEnabled)?.text == "0")

        // The beta domain's ceiling is 14.1; the alpha domain keeps 16.1.
        let betaOptions = try await betaDevice.exchange.send(method: .OPTIONS, path: "/Microsoft-Server-ActiveSync", headers: [
            ("Authorization", "Basic " + Base64.encode(Array("\(Self.betaAddress):x".utf8))),
        ], body: [])
        #expect(betaOptions.header("MS-ASProtocolVersions")?.hasSuffix("14.1") == true)
        #expect(try await betaDevice.exchange.send(method: .OPTIONS, path: "/Microsoft-Server-ActiveSync", headers: [
            ("Authorization", "Basic " + Base64.encode(Array("\(Stack["DEMO_USER"]):x".utf8))),
        ], body: []).header("MS-ASProtocolVersions")?.hasSuffix("16.1") == true)
        let sixteen = gateway.device(version: .v16_1, user: Self.betaAddress, password: Stack["BETA_PASSWORD"])
        #expect(try await sixteen.send("FolderSync", nil).status == 400)

        // Metrics count each domain's requests under its own name.
        let metrics = try await alphaDevice.exchange.send(method: .GET, path: "/metrics", headers: [], body: [])
        let samples = try await MetricsTests.samples(String(decoding: metrics.body, as: UTF8.self))
        #expect((samples["airgate_domain_requests_total{domain=\(Self.betaDomain),status=200}"] ?? 0) >= 3)
        #expect((samples["airgate_domain_requests_total{domain=\(Self.betaDomain),status=401}"] ?? 0) >= 1)
        #expect((samples["airgate_domain_requests_total{domain=\(Self.alphaDomain),status=200}"] ?? 0) >= 2)
        try log.validate()
    }

    @Test func sendingGoesThroughTheUsersOwnSubmissionServer() async throws {
        guard Self.available() else { return }
        let (gateway, _) = try await Self.start()
        defer { Task { await gateway.stop() } }
        var device = gateway.device(version: .v14_1, user: Self.betaAddress, password: Stack["BETA_PASSWORD"])
        try await device.provision()
        let subject = "from beta \(UUID().uuidString.prefix(8))"
        let mime = "From: \(Self.betaAddress)\r\nTo: \(Stack["DEMO_USER"])\r\nSubject: \(subject)\r\n\r\nacross domains\r\n"
        let sent = try await device.send("SendMail", EASElement(EASTag.ComposeMail.sendMail, children: [
            EASElement(EASTag.ComposeMail.clientId, text: UUID().uuidString),
            EASElement(EASTag.ComposeMail.saveInSentItems),
            EASElement(EASTag.ComposeMail.mime, .opaque(ByteBuffer(bytes: Array(mime.utf8)))),
        ]))
        #expect(sent.status == 200)
        // Delivered by Postfix into the alpha instance's INBOX; filed in beta's own Sent.
        #expect(try await SendAndMoveTests.count(subject, in: "INBOX", user: Stack["DEMO_USER"], password: Stack["DEMO_PASSWORD"],
                                                 atLeast: 1) == 1)
        #expect(try await Self.betaSession().search(in: IMAPMailboxName(wire: "Sent"), MailSearch(subject: subject)).count == 1)
    }

    @Test func autodiscoverAnswersEachDomainWithItsOwnURL() async throws {
        guard Self.available() else { return }
        let (gateway, _) = try await Self.start()
        defer { Task { await gateway.stop() } }
        let device = gateway.device(user: Self.betaAddress, password: Stack["BETA_PASSWORD"])
        let alphaDevice = gateway.device(user: Stack["DEMO_USER"], password: Stack["DEMO_PASSWORD"])
        func ask(email: String, as asker: EASDevice? = nil) async throws -> String {
            let asker = asker ?? device
            let body = """
                <?xml version="1.0" encoding="utf-8"?>
                <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006">
                  <Request><EMailAddress>\(email)</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema></Request>
                </Autodiscover>
                """
            let answer = try await asker.exchange.send(method: .POST, path: "/autodiscover/autodiscover.xml", headers: [
                ("Authorization", "Basic " + Base64.encode(Array("\(asker.user):\(asker.password)".utf8))),
                ("Content-Type", "text/xml"),
            ], body: Array(body.utf8))
            #expect(answer.status == 200)
            return String(decoding: answer.body, as: UTF8.self)
        }
        let betaAnswer = try await ask(email: Self.betaAddress)
        #expect(betaAnswer.contains("<Url>\(Self.betaURL)</Url>") && !betaAnswer.contains(Self.alphaURL))
        let alphaAnswer = try await ask(email: Stack["DEMO_USER"], as: alphaDevice)
        #expect(alphaAnswer.contains("<Url>\(Self.alphaURL)</Url>"))
        // A beta user asking about an alpha address learns nothing of alpha's settings.
        let crossed = try await ask(email: Stack["DEMO_USER"])
        #expect(crossed.contains("<ErrorCode>601</ErrorCode>") && !crossed.contains(Self.alphaURL))
        // A domain nobody here serves: the spec's error, no URL at all.
        let unknown = try await ask(email: "someone@gamma.test")
        #expect(unknown.contains("<ErrorCode>601</ErrorCode>") && !unknown.contains("<Url>"))
        for document in [betaAnswer, alphaAnswer, unknown, crossed] {
            #expect(try await SendAndMoveTests.autodiscoverSchemaErrors(document) == "")
        }

        // v2 (JSON, no credentials): the same choice, read with Python's json.
        func v2(_ email: String) async throws -> (Int, String) {
            let answer = try await device.exchange.send(method: .GET,
                                                        path: "/autodiscover/autodiscover.json/v1.0/\(email)?Protocol=ActiveSync",
                                                        headers: [], body: [])
            let url = try await Stack.python("""
                import json, sys
                print(json.loads(sys.argv[1]).get("Url", "-"))
                """, [String(decoding: answer.body, as: UTF8.self)])
            return (answer.status, url)
        }
        #expect(try await v2(Self.betaAddress) == (200, Self.betaURL))
        #expect(try await v2(Stack["DEMO_USER"]) == (200, Self.alphaURL))
        #expect(try await v2("someone@gamma.test") == (404, "-"))
    }

    @Test func devicesAndChecksAreSeenPerDomain() async throws {
        guard Self.available(), FileManager.default.isExecutableFile(atPath: DevicesCommandTests.binary) else { return }
        let (gateway, store) = try await Self.start()
        defer { Task { await gateway.stop() } }
        var alphaDevice = gateway.device(user: Stack["DEMO_USER"], password: Stack["DEMO_PASSWORD"])
        try await alphaDevice.provision()
        var betaDevice = gateway.device(user: Self.betaAddress, password: Stack["BETA_PASSWORD"])
        try await betaDevice.provision()

        // The beta domain allows one device per user, the alpha domain the global 100.
        let folderSync = EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: "0")])
        let secondBeta = try await gateway.device(user: Self.betaAddress, password: Stack["BETA_PASSWORD"]).send("FolderSync", folderSync)
        #expect(secondBeta.element?.child(FH.status)?.text == "177")
        var secondAlpha = gateway.device(user: Stack["DEMO_USER"], password: Stack["DEMO_PASSWORD"])
        try await secondAlpha.provision()
        #expect(try await secondAlpha.send("FolderSync", folderSync).element?.child(FH.status)?.text == "1")

        let listed = try await DevicesCommandTests.devices(["list", "--domain", Self.betaDomain], store: store)
        #expect(listed.status == 0)
        #expect(listed.output.contains(betaDevice.deviceId) && !listed.output.contains(alphaDevice.deviceId))
        let alphaListed = try await DevicesCommandTests.devices(["list", "--domain", Self.alphaDomain.uppercased()], store: store)
        #expect(alphaListed.output.contains(alphaDevice.deviceId) && !alphaListed.output.contains(betaDevice.deviceId))

        // `airgate domains list` and `check` read the same file.
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-domains-\(UUID().uuidString).toml").path
        try Self.configurationText(store: store).write(toFile: config, atomically: true, encoding: .utf8)
        let list = try await LocalStack.run(DevicesCommandTests.binary, ["domains", "list", "--config", config, "--json"])
        #expect(list.status == 0)
        let rows = try JSONSerialization.jsonObject(with: Data(list.output.utf8)) as? [[String: Any]]
        #expect(rows?.compactMap { $0["domain"] as? String } == [Self.alphaDomain, Self.betaDomain].sorted())
        #expect(rows?.first { $0["domain"] as? String == Self.betaDomain }?["login"] as? String == "local_part")
        let check = try await LocalStack.run(DevicesCommandTests.binary, ["domains", "check", "--config", config])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("ok    login \(Self.betaAddress) (imap)") && !check.output.contains("FAIL"))

        // A wrong test password and a server that is gone fail the check, by name.
        let broken = Self.configurationText(store: store)
            .replacing("check.password = \"\(Stack["BETA_PASSWORD"])\"", with: "check.password = \"wrong\"")
            .replacing("port = \(Stack["IMAP_PORT"])", with: "port = \(try await MultiNodeTests.freePort())")
        try broken.write(toFile: config, atomically: true, encoding: .utf8)
        let failed = try await LocalStack.run(DevicesCommandTests.binary, ["domains", "check", "--config", config])
        #expect(failed.status == 1)
        #expect(failed.output.contains("FAIL  imap") && failed.output.contains("FAIL  login \(Self.betaAddress) (imap)"))
        // A configuration mistake: a domain without a server.
        try (Self.configurationText(store: store) + "\n[domain.\"gamma.test\"]\nlogin = \"address\"\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let mistake = try await LocalStack.run(DevicesCommandTests.binary, ["domains", "check", "--config", config])
        #expect(mistake.status != 0 && mistake.output.contains("domain gamma.test has no mail server"))
        try? FileManager.default.removeItem(atPath: config)
    }
}
