import AirgateServer
import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import MailUpstreamEtPan
import Testing

/// The configuration file: the example that ships is valid and means what it says; every kind
/// of mistake is reported with the key and the line.
@Suite struct ConfigurationTests {
    static var example: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Deploy/airgate.example.toml").path
    }

    static func failure(_ text: String, environment: [String: String] = [:]) -> String? {
        do {
            var file = try ConfigurationFile(text: text, name: "test.toml")
            try file.applyEnvironment(environment, known: ServerConfiguration.keys)
            _ = try ServerConfiguration.make(from: file)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func theExampleFileIsValidAndMeantAsWritten() throws {
        let text = try String(contentsOfFile: Self.example, encoding: .utf8)
        var file = try ConfigurationFile(text: text, name: "airgate.example.toml")
        // The example's certificate files do not exist here.
        file.set("server.tls_cert", .string(""), origin: "test")
        file.set("server.tls_key", .string(""), origin: "test")
        let (configuration, level) = try ServerConfiguration.make(from: file)
        #expect(configuration.host == "0.0.0.0" && configuration.port == 443)
        let route = try #require(configuration.routes.fallback)
        #expect(route.imap == ServerEndpoint(host: "mail.example.org", port: 143, security: .startTLS,
                                             serverName: nil, timeout: .seconds(30)))
        #expect(route.smtp?.port == 587 && route.sieve?.port == 4190)
        #expect(configuration.http.publicURL == "https://airgate.example.org/Microsoft-Server-ActiveSync")
        #expect(configuration.gateway.heartbeatBounds == 60...3540)
        #expect(configuration.gateway.syncResponseBudget == 51200)
        #expect(configuration.imapLimits.perAccount == 4)
        #expect(configuration.routes.defaultDomain == "example.org" && configuration.gateway.defaultDomain == "example.org")
        guard case .sqlite(let path) = configuration.store else { Issue.record("not SQLite"); return }
        #expect(path == "/var/lib/airgate/state.sqlite")
        #expect(level == "info")
    }

    @Test func theEnvironmentOverridesTheFile() throws {
        var file = try ConfigurationFile(text: "[imap]\nhost = \"a.example\"\nport = 143\n[store]\nsqlite = \"/tmp/x\"\n", name: "t")
        try file.applyEnvironment(["AIRGATE_IMAP_PORT": "1993", "AIRGATE_IMAP_SECURITY": "tls", "AIRGATE_EAS_PROTOCOL_CEILING": "14.1",
                                   "UNRELATED": "1"], known: ServerConfiguration.keys)
        let (configuration, _) = try ServerConfiguration.make(from: file)
        #expect(configuration.routes.fallback?.imap.port == 1993 && configuration.routes.fallback?.imap.security == .implicitTLS)
        #expect(configuration.gateway.protocolCeiling == .v14_1)
        #expect(file.entries["imap.port"]?.origin == "AIRGATE_IMAP_PORT")
    }

    @Test func mistakesNameTheKeyAndTheLine() {
        let base = "[imap]\nhost = \"mail\"\n[store]\nsqlite = \"/tmp/x\"\n"
        #expect(Self.failure(base) == nil)
        #expect(Self.failure(base + "[imap]\nhots = \"x\"\n")?.contains("test.toml:6: unknown key imap.hots") == true)
        #expect(Self.failure(base + "[eas]\nheartbeat_min = \"60\"\n")?.contains("test.toml:6: eas.heartbeat_min takes integer") == true)
        #expect(Self.failure(base + "[imap]\nport = 143\nport = 993\n")?.contains("test.toml:7: imap.port is set twice") == true)
        #expect(Self.failure("[imap]\nhost = \"mail\n")?.contains("test.toml:2: a string is not closed") == true)
        #expect(Self.failure("[imap\n")?.contains("test.toml:1: a section header") == true)
        #expect(Self.failure("[imap]\nhost = mail\n")?.contains("strings need quotes") == true)
        #expect(Self.failure("[store]\nsqlite = \"/tmp/x\"\n")?.contains("imap.host is required") == true)
        #expect(Self.failure(base + "postgres = \"postgres://x\"\n")?.contains("not both") == true)
        #expect(Self.failure("[imap]\nhost = \"m\"\nport = 70000\n[store]\nsqlite = \"/x\"\n")?.contains("imap.port must be in 1…65535") == true)
        #expect(Self.failure("[imap]\nhost = \"m\"\nsecurity = \"ssl3\"\n[store]\nsqlite = \"/x\"\n")?
            .contains("imap.security is tls, starttls or plain") == true)
        #expect(Self.failure(base, environment: ["AIRGATE_IMAP_PORT": "many"])?.contains("AIRGATE_IMAP_PORT: not a number") == true)
        #expect(Self.failure(base + "[eas]\nprotocol_ceiling = \"2.5\"\n")?.contains("eas.protocol_ceiling is one of") == true)
        #expect(Self.failure(base + "[server]\ntls_cert = \"/nonexistent\"\n")?.contains("go together") == true)
        #expect(Self.failure(base + "[eas]\nprotocol_ceiling_users = [\"ana 15.0\"]\n")?.contains("is not USER VERSION") == true)
        #expect(Self.failure(base + "[server]\ntrusted_proxies = [\"proxy.example\"]\n")?.contains("not an IP address") == true)
        #expect(Self.failure(base + "[cluster]\nnode_name = \"a b\"\n")?.contains("without spaces") == true)
        #expect(Self.failure(base + "[cluster]\ntracker_lease_seconds = 1\n")?.contains("cluster.tracker_lease_seconds") == true)
        // Comments, literal strings, arrays and escapes parse as TOML has them.
        let parsed = try? ConfigurationFile(text: "a = 'C:\\\\x' # c\nb = [\"x\", 'y'] \nc = \"q\\\"#\\\\\"\n", name: "t")
        #expect(parsed?.entries["a"]?.value == .string("C:\\\\x"))
        #expect(parsed?.entries["b"]?.value == .array([.string("x"), .string("y")]))
        #expect(parsed?.entries["c"]?.value == .string("q\"#\\"))
    }
}

/// A lower protocol ceiling for one user: OPTIONS and the version check follow it.
@Suite struct PerUserCeilingTests {
    @Test func aUserWithALowerCeilingIsOfferedAndAllowedLess() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start { configuration in
            configuration.gateway.protocolCeilingByUser = [Stack["DEMO_USER"].lowercased(): .v14_1]
        }
        defer { Task { await gateway.stop() } }
        let folderSync = EASElement(EASTag.FolderHierarchy.folderSync, children: [EASElement(EASTag.FolderHierarchy.syncKey, text: "0")])
        let demo = gateway.device(type: "WindowsOutlook15", version: .v16_1)
        #expect(try await demo.options().header("MS-ASProtocolVersions") == "12.0,12.1,14.0,14.1")
        #expect(try await demo.send("FolderSync", folderSync).status == 400)
        var demo141 = demo
        demo141.version = .v14_1
        #expect(try await demo141.send("FolderSync", folderSync).status == 200)
        let other = gateway.device(type: "WindowsOutlook15", version: .v16_1, user: Stack["OTHER_USER"], password: Stack["OTHER_PASSWORD"])
        #expect(try await other.options().header("MS-ASProtocolVersions")?.hasSuffix("16.0,16.1") == true)
        #expect(try await other.send("FolderSync", folderSync).status == 200)
    }
}

/// `airgate serve --config` and `airgate devices --config`, the real binary, with a file
/// written for the local stack.
@Suite struct ServeWithConfigurationTests {
    @Test func serveAndDevicesReadTheSameFile() async throws {
        guard Stack.available(), FileManager.default.isExecutableFile(atPath: DevicesCommandTests.binary) else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("airgate.toml").path
        try """
            [server]
            listen = "127.0.0.1:0"
            default_domain = "\(Stack["MAIL_DOMAIN"])"
            [imap]
            host = "\(Stack["IMAP_HOST"])"
            port = \(Stack["IMAP_PORT"])
            ca_file = "\(Stack["TLS_CA_FILE"])"
            server_name = "localhost"
            [smtp]
            host = "\(Stack["SMTP_HOST"])"
            port = \(Stack["SMTP_PORT"])
            [store]
            sqlite = "\(directory.appendingPathComponent("state.sqlite").path)"
            [log]
            level = "warning"

            """.write(toFile: config, atomically: true, encoding: .utf8)

        // A broken file: a clear message naming the line, and no server.
        let broken = directory.appendingPathComponent("broken.toml").path
        try "[imap]\nhost = \"x\"\nprot = 143\n".write(toFile: broken, atomically: true, encoding: .utf8)
        let refused = try await LocalStack.run(DevicesCommandTests.binary, ["serve", "--config", broken])
        #expect(refused.status != 0 && refused.output.contains("broken.toml:3: unknown key imap.prot"))

        // migrate reads the store from the same file (systemd's ExecStartPre does this).
        let migrated = try await LocalStack.run(DevicesCommandTests.binary, ["migrate", "--config", config])
        #expect(migrated.status == 0 && migrated.output.contains("schema at version"))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: DevicesCommandTests.binary)
        process.arguments = ["serve", "--config", config]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer { process.terminate() }
        // A server that never says where it listens must not hang the test.
        let pid = process.processIdentifier
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            kill(pid, SIGTERM)
        }
        defer { watchdog.cancel() }
        // The first line says where it listens.
        let line = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, any Error>) in
            Thread.detachNewThread {
                var bytes: [UInt8] = []
                while let byte = try? output.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != 10 {
                    bytes.append(first)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0.split(separator: "/").first ?? "") })
        var device = EASDevice(exchange: HTTPExchange(host: "127.0.0.1", port: port), user: Stack["DEMO_USER"],
                               password: Stack["DEMO_PASSWORD"], deviceId: "CFG" + String(UUID().uuidString.prefix(8)).replacing("-", with: ""),
                               deviceType: "iPhone", version: .v14_1)
        try await device.provision()
        let folders = try await device.send("FolderSync", EASElement(EASTag.FolderHierarchy.folderSync, children: [
            EASElement(EASTag.FolderHierarchy.syncKey, text: "0"),
        ]))
        #expect(folders.element?.child(EASTag.FolderHierarchy.status)?.text == "1")
        // The devices command finds the device through the same file.
        let listed = try await LocalStack.run(DevicesCommandTests.binary, ["devices", "list", "--config", config])
        #expect(listed.status == 0 && listed.output.contains(device.deviceId))
    }
}
