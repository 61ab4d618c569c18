import AirgateTestSupport
import EASClient
import EASProbe
import EASProtocol
import Foundation
import MailUpstream
import Testing

/// `airgate probe`: the real binary against this gateway (nothing to report) and against a
/// deliberately broken server that makes each classic mistake of PROTOCOL.md (each reported,
/// exit status 1); and the checks one by one.
@Suite struct ProbeTests {
    typealias AS = EASTag.AirSync
    typealias ASB = EASTag.AirSyncBase
    typealias FH = EASTag.FolderHierarchy

    static func probe(_ arguments: [String], password: String) async throws -> (status: Int32, output: String) {
        try await LocalStack.run("/usr/bin/env", ["AIRGATE_PASSWORD=\(password)", DevicesCommandTests.binary, "probe"] + arguments)
    }

    @Test func ourGatewayPassesTheProbe() async throws {
        guard Stack.available(), FileManager.default.isExecutableFile(atPath: DevicesCommandTests.binary) else { return }
        let gateway = try await RunningGateway.start { $0.gateway.heartbeatBounds = 2...3540 }
        defer { Task { await gateway.stop() } }
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-probe-\(UUID().uuidString)").path
        // A folder of its own with mail in it, so that Sync has items and ItemOperations runs.
        let mailbox = IMAPMailboxName(display: "Probe-\(UUID().uuidString.prefix(8))")
        let session = Stack.session(Stack["OTHER_USER"], Stack["OTHER_PASSWORD"])
        try await session.createTestMailbox(mailbox)
        for index in 0..<3 {
            _ = try await session.append(to: mailbox, message: Array("""
                From: sender@example.net\r
                Subject: probe \(index)\r
                Content-Type: text/html; charset=utf-8\r
                \r
                <p>\(String(repeating: "long text ", count: 800))</p>\r

                """.utf8), flags: [], internalDate: nil)
        }
        for version in ["16.1", "14.1", "12.1"] {
            let result = try await Self.probe(["http://127.0.0.1:\(gateway.port)/Microsoft-Server-ActiveSync", "--user",
                                               Stack["OTHER_USER"], "--eas-version", version, "--ping-seconds", "2",
                                               "--folder", mailbox.displayName, "--trace", trace + version],
                                              password: Stack["OTHER_PASSWORD"])
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("EAS \(version)") && result.output.contains("0 violations"), "\(result.output)")
            #expect(result.output.contains("3 changes"), "\(result.output)")
            for step in ["Autodiscover", "OPTIONS", "Provision", "FolderSync", "Sync (key 0)", "Sync (changes)",
                         "Sync (same request again)", "ItemOperations (fetch)", "Ping (2 s)"] {
                #expect(result.output.contains("ok   \(step)") || result.output.contains("warn \(step)"), "\(step): \(result.output)")
            }
        }
        // The trace holds the raw answers, which our decoder and libwbxml both read.
        let files = try FileManager.default.contentsOfDirectory(atPath: trace + "16.1")
        #expect(files.contains { $0.hasSuffix("foldersync.wbxml") })
        #expect(files.filter { $0.hasSuffix(".xml") }.count >= 5)
        // A wrong password: no violation to report, but the probe cannot finish.
        let refused = try await Self.probe(["http://127.0.0.1:\(gateway.port)", "--user", Stack["OTHER_USER"], "--no-autodiscover",
                                            "--ping-seconds", "0"], password: "wrong")
        #expect(refused.status == 2, "\(refused.output)")
    }

    /// The answers a careless server gives, one file per request the probe makes.
    static func brokenAnswers() throws -> [String: [UInt8]] {
        func wbxml(_ element: EASElement) throws -> [UInt8] {
            var buffer = try element.wbxml()
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        }
        typealias P = EASTag.Provision
        let provision = EASElement(P.provision, children: [
            EASElement(P.status, text: "1"),
            EASElement(P.policies, children: [EASElement(P.policy, children: [
                EASElement(P.policyType, text: "MS-EAS-Provisioning-WBXML"), EASElement(P.status, text: "1"),
                EASElement(P.policyKey, text: "0"),
            ])]),
        ])
        let folders = EASElement(FH.folderSync, children: [
            EASElement(FH.status, text: "1"), EASElement(FH.syncKey, text: "f1"),
            EASElement(FH.changes, children: [EASElement(FH.count, text: "1"), EASElement(FH.add, children: [
                EASElement(FH.serverId, text: "1"), EASElement(FH.parentId, text: "0"), EASElement(FH.displayName, text: "Inbox"),
                EASElement(FH.type, text: "2"),
            ])]),
        ])
        func add(_ body: [EASElement]) -> EASElement {
            EASElement(AS.add, children: [EASElement(AS.serverId, text: "1:1"), EASElement(AS.applicationData, children: [
                EASElement(EASTag.Email.subject, text: "hello"), EASElement(ASB.body, children: body),
            ])])
        }
        // Key 0 answered with a stray SyncKey under Sync and items already.
        let first = EASElement(AS.sync, children: [
            EASElement(AS.syncKey, text: "stray"),
            EASElement(AS.collections, children: [EASElement(AS.collection, children: [
                EASElement(AS.syncKey, text: "k1"), EASElement(AS.collectionId, text: "1"), EASElement(AS.status, text: "1"),
                EASElement(AS.commands, children: [add([EASElement(ASB.type, text: "2"), EASElement(ASB.data, text: "x")])]),
            ])]),
        ])
        // Class at 14.1, Body children out of order, a Preview longer than asked.
        let second = EASElement(AS.sync, children: [
            EASElement(AS.collections, children: [EASElement(AS.collection, children: [
                EASElement(AS.class, text: "Email"), EASElement(AS.syncKey, text: "k2"), EASElement(AS.collectionId, text: "1"),
                EASElement(AS.status, text: "1"),
                EASElement(AS.commands, children: [add([
                    EASElement(ASB.data, text: "<p>hi</p>"), EASElement(ASB.type, text: "2"),
                    EASElement(ASB.preview, text: String(repeating: "p", count: 300)),
                ])]),
            ])]),
        ])
        // A token page 0 does not have (0x3F) inside the Collection.
        let third: [UInt8] = [0x03, 0x01, 0x6A, 0x00, 0x45, 0x5C, 0x4F, 0x4B, 0x03] + Array("k3".utf8) + [0x00, 0x01, 0x7F, 0x01, 0x01, 0x01, 0x01]
        let fetched = try wbxml(EASElement(EASTag.ItemOperations.itemOperations, children: [
            EASElement(EASTag.ItemOperations.status, text: "1"),
        ]))
        return [
            "Provision": try wbxml(provision), "FolderSync": try wbxml(folders), "Sync-1": try wbxml(first),
            "Sync-2": try wbxml(second), "Sync-3": third,
            // US-ASCII instead of UTF-8 in the header.
            "ItemOperations": [0x03, 0x01, 0x03, 0x00] + fetched.dropFirst(4),
        ]
    }

    @Test func eachClassicMistakeIsReported() async throws {
        guard Stack.available(), FileManager.default.isExecutableFile(atPath: DevicesCommandTests.binary) else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-broken-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, bytes) in try Self.brokenAnswers() {
            try Data(bytes).write(to: directory.appendingPathComponent(name))
        }
        let port = try await MultiNodeTests.freePort()
        // A server that answers each command from those files: OPTIONS without the command
        // list, FolderSync without Content-Length, Ping with HTTP 500.
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-c", """
            import http.server, os, sys, urllib.parse
            directory, port, counts = sys.argv[1], int(sys.argv[2]), {}
            class Broken(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def log_message(self, *args): pass
                def do_OPTIONS(self):
                    self.send_response(200)
                    self.send_header("MS-Server-ActiveSync", "14.1")
                    self.send_header("MS-ASProtocolVersions", "14.1")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                def do_POST(self):
                    self.rfile.read(int(self.headers.get("Content-Length", "0")))
                    query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                    command = query.get("Cmd", ["?"])[0]
                    if command == "Ping":
                        self.send_response(500); self.send_header("Content-Length", "0"); self.end_headers(); return
                    counts[command] = counts.get(command, 0) + 1
                    name = command + ("-%d" % counts[command] if command == "Sync" else "")
                    path = os.path.join(directory, name)
                    if not os.path.exists(path):
                        self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers(); return
                    body = open(path, "rb").read()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/vnd.ms-sync.wbxml")
                    if command == "FolderSync":
                        self.send_header("Connection", "close")
                        self.end_headers(); self.wfile.write(body); self.close_connection = True; return
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers(); self.wfile.write(body)
            http.server.ThreadingHTTPServer(("127.0.0.1", port), Broken).serve_forever()
            """, directory.path, String(port)]
        // Not the test's own output: a server that outlives a crashed test would keep
        // `swift test` waiting for the end of it.
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        var listening = false
        for _ in 0..<100 where !listening {
            listening = (try? await HTTPExchange(host: "127.0.0.1", port: port).send(method: .OPTIONS, path: "/", headers: [], body: [])) != nil
            if !listening { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(listening)

        let result = try await Self.probe(["http://127.0.0.1:\(port)", "--user", "someone", "--no-autodiscover", "--ping-seconds", "60"],
                                          password: "x")
        #expect(result.status == 1, "\(result.output)")
        for mistake in [
            "OPTIONS has no MS-ASProtocolCommands header",
            "temporary PolicyKey 0",
            "no Content-Length and not chunked",
            "no Outbox folder",
            "AirSync:SyncKey directly under Sync",
            "Commands in the answer to SyncKey 0",
            "Class inside Collection at 14.1",
            "Body children out of order",
            "Preview of 300 characters, 255 asked",
            "does not decode with [MS-ASWBXML]",
            "WBXML header is 3 1 3 0",
            "HTTP 500",
        ] {
            #expect(result.output.contains(mistake), "not reported: \(mistake)\n\(result.output)")
        }
    }

    @Test func aCorrectAnswerDrawsNoFinding() throws {
        let asked = ProbeChecks.SyncAsked(syncKey: "k1", windowSize: 5, truncationSize: 100, previewSize: 50)
        let sync = EASElement(AS.sync, children: [EASElement(AS.collections, children: [EASElement(AS.collection, children: [
            EASElement(AS.syncKey, text: "k2"), EASElement(AS.collectionId, text: "1"), EASElement(AS.status, text: "1"),
            EASElement(AS.commands, children: [EASElement(AS.add, children: [
                EASElement(AS.serverId, text: "1:1"),
                EASElement(AS.applicationData, children: [EASElement(ASB.body, children: [
                    EASElement(ASB.type, text: "2"), EASElement(ASB.estimatedDataSize, text: "9"),
                    EASElement(ASB.data, text: "<p>hi</p>"), EASElement(ASB.preview, text: "hi"),
                ])]),
            ])]),
        ])])])
        #expect(ProbeChecks.sync(sync, version: .v14_1, asked: asked) == [])
        #expect(ProbeChecks.replay(sync, sync) == [])
        // Too many items for the window, and a body past its truncation.
        let many = EASElement(AS.sync, children: [EASElement(AS.collections, children: [EASElement(AS.collection, children: [
            EASElement(AS.syncKey, text: "k2"), EASElement(AS.collectionId, text: "1"), EASElement(AS.status, text: "1"),
            EASElement(AS.commands, children: (0..<6).map { EASElement(AS.delete, children: [EASElement(AS.serverId, text: "1:\($0)")]) }),
        ])])])
        #expect(ProbeChecks.sync(many, version: .v14_1, asked: asked).map(\.text) == ["6 items for WindowSize 5"])
        let long = EASElement(ASB.body, children: [EASElement(ASB.type, text: "1"), EASElement(ASB.data, text: String(repeating: "a", count: 101))])
        #expect(ProbeChecks.body(long, asked: asked).map(\.text) == ["Body Data of 101 bytes for TruncationSize 100"])
        // A replayed key answered Status 3 loses the client's state.
        let lost = EASElement(AS.sync, children: [EASElement(AS.collections, children: [EASElement(AS.collection, children: [
            EASElement(AS.collectionId, text: "1"), EASElement(AS.status, text: "3"),
        ])])])
        #expect(ProbeChecks.replay(sync, lost).first?.severity == .violation)
        // 503 needs Retry-After, 401 needs a Basic challenge.
        let busy = HTTPExchangeResponse(status: 503, headers: [("Content-Length", "0")], body: [], chunked: false)
        #expect(ProbeChecks.http(busy).map(\.severity) == [.violation])
        let unauthorized = HTTPExchangeResponse(status: 401, headers: [("Content-Length", "0")], body: [], chunked: false)
        #expect(ProbeChecks.http(unauthorized).map(\.severity) == [.violation])
        let challenged = HTTPExchangeResponse(status: 401, headers: [("Content-Length", "0"), ("WWW-Authenticate", "Basic realm=x")],
                                              body: [], chunked: false)
        #expect(ProbeChecks.http(challenged) == [])
        // The empty "nothing changed" Sync as text/html or gzip.
        let emptyHTML = HTTPExchangeResponse(status: 200, headers: [("Content-Length", "0"), ("Content-Type", "text/html")],
                                             body: [], chunked: false)
        #expect(ProbeChecks.http(emptyHTML).map(\.severity) == [.violation])
        let emptyGzip = HTTPExchangeResponse(status: 200, headers: [("Content-Length", "0"), ("Content-Encoding", "gzip"),
                                                                    ("Content-Type", "application/vnd.ms-sync.wbxml")],
                                             body: [], chunked: false)
        #expect(ProbeChecks.http(emptyGzip).map(\.severity) == [.violation])
    }
}
