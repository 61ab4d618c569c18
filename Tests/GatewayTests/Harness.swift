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

    private init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    static func start(_ tweak: (inout ServerConfiguration) -> Void = { _ in }) async throws -> RunningGateway {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-gateway-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = ServerConfiguration(port: 0, imap: Stack.imap, smtp: Stack.submission, sieve: Stack.sieve,
                                                store: .sqlite(path: directory.appendingPathComponent("state.sqlite").path),
                                                defaultDomain: Stack["MAIL_DOMAIN"], imapThreads: 4)
        configuration.gateway.pingPollInterval = .seconds(1)
        tweak(&configuration)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "airgate.test")
        logger.logLevel = .warning
        let task = Task {
            try await AirgateServer.run(configuration, logger: logger) { port in continuation.yield(port) }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw EASClientError("the gateway did not start") }
        return RunningGateway(port: port, task: task)
    }

    func stop() async {
        task.cancel()
        _ = await task.result
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
    private var xmlFiles: [String] = []
    private let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-responses-\(UUID().uuidString)")

    func record(_ answer: EASDevice.Answer) {
        guard !answer.http.body.isEmpty, answer.http.header("Content-Type")?.contains("wbxml") == true else { return }
        record(bytes: answer.http.body)
    }

    func record(bytes: [UInt8]) {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("\(files.count).wbxml")
        try? Data(bytes).write(to: url)
        files.append(url.path)
    }

    /// For answers holding a token libwbxml misnames (docs/wire-format.md): our own XML
    /// rendering, checked against the same schemas with `eas-validate --xml`.
    func record(xml element: EASElement) {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("\(files.count + xmlFiles.count).xml")
        try? Data(element.xml().utf8).write(to: url)
        xmlFiles.append(url.path)
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
        guard !files.isEmpty || !xmlFiles.isEmpty else { return }
        guard FileManager.default.fileExists(atPath: Self.validator) else {
            if ProcessInfo.processInfo.environment["AIRGATE_REQUIRE_EXTERNAL_TOOLS"] == "1" {
                Issue.record("eas-validate is required but missing at \(Self.validator)", sourceLocation: sourceLocation)
            }
            return
        }
        if !files.isEmpty { try Self.runValidator(files, sourceLocation: sourceLocation) }
        if !xmlFiles.isEmpty { try Self.runValidator(["--xml"] + xmlFiles, sourceLocation: sourceLocation) }
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
