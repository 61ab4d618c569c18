import AirgateServer
import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import Gateway
import Logging
import MailUpstream
import MailUpstreamEtPan
import NIOCore
import Testing

/// The local stack's settings (Deploy/.stack/env), as the other suites read them.
enum Stack {
    static func available() -> Bool { LocalStack.available() }
    static subscript(key: String) -> String { LocalStack[key] }

    static var imap: ServerEndpoint {
        ServerEndpoint(host: self["IMAP_HOST"], port: Int(self["IMAP_PORT"]) ?? 0, security: .startTLS,
                       caFile: self["TLS_CA_FILE"], serverName: "localhost", timeout: .seconds(30))
    }

    static var sieve: ServerEndpoint {
        ServerEndpoint(host: self["SIEVE_HOST"], port: Int(self["SIEVE_PORT"]) ?? 0, security: .startTLS,
                       caFile: self["TLS_CA_FILE"], serverName: "localhost", timeout: .seconds(30))
    }

    static var submission: ServerEndpoint {
        ServerEndpoint(host: self["SMTP_HOST"], port: Int(self["SMTP_PORT"]) ?? 0, security: .startTLS,
                       caFile: self["TLS_CA_FILE"], serverName: "localhost", timeout: .seconds(30))
    }

    /// A mail session as the demo user, for seeding and checking from the side.
    static func session(_ user: String = Stack["DEMO_USER"], _ password: String = Stack["DEMO_PASSWORD"]) -> IMAPMailSession {
        IMAPMailSession(pool: sideAdapter.pool(endpoint: imap, credentials: .login(user: user, password: password)))
    }

    static let sideAdapter = IMAPAdapter(threads: 2)

    @discardableResult
    static func python(_ script: String, _ arguments: [String] = []) async throws -> String {
        try await LocalStack.python(script, arguments)
    }

    static var imaplibLogin: String { LocalStack.imaplibLogin }
}

/// `airgate serve` in-process on a free loopback port, with SQLite state in a temporary file.
final class RunningGateway: Sendable {
    let port: Int
    private let task: Task<Void, any Error>
    /// Holds the gateway's state; removed by `stop()`.
    private let directory: URL

    private init(port: Int, task: Task<Void, any Error>, directory: URL) {
        self.port = port
        self.task = task
        self.directory = directory
    }

    static func start(logger custom: Logger? = nil, _ tweak: (inout ServerConfiguration) -> Void = { _ in }) async throws
        -> RunningGateway
    {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-gateway-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = ServerConfiguration(port: 0, imap: Stack.imap, smtp: Stack.submission, sieve: Stack.sieve,
                                                store: .sqlite(path: directory.appendingPathComponent("state.sqlite").path),
                                                defaultDomain: Stack["MAIL_DOMAIN"], imapThreads: 4)
        configuration.gateway.pingPollInterval = .seconds(1)
        tweak(&configuration)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = custom ?? Logger(label: "airgate.test")
        if custom == nil { logger.logLevel = .warning }
        let task = Task {
            try await AirgateServer.run(configuration, logger: logger) { port in continuation.yield(port) }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try? FileManager.default.removeItem(at: directory)
            throw EASClientError("the gateway did not start")
        }
        return RunningGateway(port: port, task: task, directory: directory)
    }

    func stop() async {
        task.cancel()
        _ = await task.result
        try? FileManager.default.removeItem(at: directory)
    }

    func device(_ id: String = "T" + String(UUID().uuidString.prefix(12)).replacing("-", with: ""),
                type: String = "iPhone", version: EASProtocolVersion = .v14_1,
                user: String = Stack["DEMO_USER"], password: String = Stack["DEMO_PASSWORD"]) -> EASDevice {
        EASDevice(exchange: HTTPExchange(host: "127.0.0.1", port: port), user: user, password: password, deviceId: id,
                  deviceType: type, version: version)
    }
}

/// Collects every WBXML body a test received and checks them all with `eas-validate`.
final class ResponseLog: @unchecked Sendable {
    // @unchecked Sendable: a test uses its log from one task at a time.
    private var files: [String] = []
    private var mappedFiles: [String] = []
    private var ourFiles: [String] = []
    private let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-responses-\(UUID().uuidString)")

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func record(_ answer: EASDevice.Answer) {
        guard !answer.http.body.isEmpty, answer.http.header("Content-Type")?.contains("wbxml") == true else { return }
        record(bytes: answer.http.body)
    }

    func record(bytes: [UInt8]) {
        files.append(write(bytes, extension: "wbxml"))
    }

    /// For answers holding a token libwbxml misnames (docs/wire-format.md): libwbxml still
    /// decodes them, its names are mapped back to Microsoft's, then the schemas check them.
    func record(mappingLibwbxmlNames answer: EASDevice.Answer) {
        mappedFiles.append(write(answer.http.body, extension: "wbxml"))
    }

    func record(mappingLibwbxmlNames element: EASElement) throws {
        var buffer = try element.wbxml()
        mappedFiles.append(write(buffer.readBytes(length: buffer.readableBytes) ?? [], extension: "wbxml"))
    }

    /// The next file of this log, numbered across all kinds.
    private func write(_ bytes: [UInt8], extension name: String) -> String {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("\(files.count + mappedFiles.count + ourFiles.count).\(name)")
        try? Data(bytes).write(to: url)
        return url.path
    }

    /// For answers on code page 25 (Find), which libwbxml does not know: our decoder reads the
    /// bytes sent, and Microsoft's schema checks the XML it renders.
    func record(decodingOurselves answer: EASDevice.Answer) throws {
        let element = try EASDecoder.decode(ByteBuffer(bytes: answer.http.body))
        ourFiles.append(write(Array(element.xml().utf8), extension: "xml"))
    }

    static var schemaDirectory: String {
        URL(fileURLWithPath: validator).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("eas-schemas").path
    }

    static var validator: String {
        let shared = ProcessInfo.processInfo.environment["AIRGATE_SHARED_DIR"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared").path
        return shared + "/tools/eas-validate"
    }

    /// Every recorded body passes Microsoft's schemas through libwbxml.
    func validate(sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard !files.isEmpty || !mappedFiles.isEmpty || !ourFiles.isEmpty else { return }
        guard FileManager.default.fileExists(atPath: Self.validator) else {
            if ProcessInfo.processInfo.environment["AIRGATE_REQUIRE_EXTERNAL_TOOLS"] == "1" {
                Issue.record("eas-validate is required but missing at \(Self.validator)", sourceLocation: sourceLocation)
            }
            return
        }
        if !files.isEmpty { try Self.runValidator(files, sourceLocation: sourceLocation) }
        if !mappedFiles.isEmpty {
            let decoded = try Self.decodedWithMicrosoftNames(mappedFiles, directory: directory.path)
            #expect(decoded.count == mappedFiles.count, "libwbxml decoded \(decoded.count) of \(mappedFiles.count)",
                    sourceLocation: sourceLocation)
            try Self.runValidator(["--xml"] + decoded, sourceLocation: sourceLocation)
        }
        if !ourFiles.isEmpty { try Self.runValidator(["--xml"] + ourFiles, sourceLocation: sourceLocation) }
    }

    /// libwbxml's XML of each file, with the names in `LibwbxmlNames` put back per namespace.
    private static func decodedWithMicrosoftNames(_ paths: [String], directory: String) throws -> [String] {
        var names: [String: String] = [:]
        var namespaces: [String: String] = [:]
        for (standard, theirs) in LibwbxmlNames.byStandardName where theirs != "unknown" {
            let parts = standard.split(separator: ":")
            if parts.count == 2 { names["\(parts[0]):\(theirs)"] = String(parts[1]) }
            if parts.count == 1 { namespaces[theirs] = standard + ":" }
        }
        let map = String(decoding: try JSONSerialization.data(withJSONObject: ["names": names, "namespaces": namespaces]),
                         as: UTF8.self)
        let script = """
            import json, os, re, subprocess, sys
            from lxml import etree
            maps = json.loads(sys.argv[1])
            names, namespaces = maps["names"], maps["namespaces"]
            for path in sys.argv[3:]:
                out = os.path.join(sys.argv[2], os.path.basename(path) + ".xml")
                subprocess.run(["wbxml2xml", "-l", "ACTIVESYNC", "-m", "0", "-o", out, path], check=True, capture_output=True)
                root = etree.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", open(out, encoding="utf-8").read()).encode())
                for element in root.iter():
                    name = etree.QName(element)
                    key = (name.namespace or "").rstrip(":") + ":" + name.localname
                    local = names.get(key, name.localname)
                    element.tag = "{%s}%s" % (namespaces.get(name.namespace, name.namespace), local)
                open(out, "wb").write(etree.tostring(root))
                print(out)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, map, directory] + paths
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw EASClientError("libwbxml could not decode \(paths)") }
        return output.split(separator: "\n").map(String.init)
    }

    private static func runValidator(_ arguments: [String], sourceLocation: SourceLocation) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.validator] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "eas-validate: \(output)", sourceLocation: sourceLocation)
    }
}

extension EASDevice.Answer {
    /// The ServerId of the first folder a FolderSync answer adds with this type ("2": the
    /// Inbox) or display name.
    func addedFolder(type: String? = nil, named name: String? = nil) -> String? {
        typealias FH = EASTag.FolderHierarchy
        return element?.child(FH.changes)?.children(FH.add).first { add in
            (type == nil || add.child(FH.type)?.text == type) && (name == nil || add.child(FH.displayName)?.text == name)
        }?.child(FH.serverId)?.text
    }
}
