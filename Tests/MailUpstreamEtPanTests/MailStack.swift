import Foundation
import MailUpstream
import MailUpstreamEtPan
import Testing

/// The local Dovecot + Postfix stack started by `Deploy/stack.sh up`, as its env file
/// describes it. Tests that need it are skipped when it is absent, unless
/// AIRGATE_REQUIRE_EXTERNAL_TOOLS=1 (CI), where that is a failure.
enum MailStack {
    static let envPath: String = ProcessInfo.processInfo.environment["AIRGATE_STACK_ENV"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Deploy/.stack/env").path

    static let values: [String: String]? = {
        guard let text = try? String(contentsOfFile: envPath, encoding: .utf8) else { return nil }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let value = line[line.index(after: equals)...].trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
            values[String(line[..<equals])] = value
        }
        return values
    }()

    static var required: Bool { ProcessInfo.processInfo.environment["AIRGATE_REQUIRE_EXTERNAL_TOOLS"] == "1" }

    /// True when the stack is there; otherwise records a failure in CI and returns false.
    static func available() -> Bool {
        if values != nil { return true }
        if required { Issue.record("the mail stack is required: run Deploy/stack.sh up (no \(envPath))") }
        return false
    }

    static subscript(key: String) -> String { values?[key] ?? "" }

    static var demoUser: String { self["DEMO_USER"] }
    static var demoPassword: String { self["DEMO_PASSWORD"] }

    static func imap(_ security: TransportSecurity = .startTLS, verify: Bool = true, caFile: String? = nil,
                     serverName: String? = nil, timeout: Duration = .seconds(10)) -> ServerEndpoint {
        ServerEndpoint(host: self["IMAP_HOST"],
                       port: Int(security == .implicitTLS ? self["IMAPS_PORT"] : self["IMAP_PORT"]) ?? 0,
                       security: security, verifyCertificate: verify, caFile: caFile ?? self["TLS_CA_FILE"],
                       serverName: serverName ?? "localhost", timeout: timeout)
    }

    static var demoLogin: IMAPCredentials { .login(user: demoUser, password: demoPassword) }

    /// A mailbox name no other test uses.
    static func uniqueMailbox(_ prefix: String = "Test") -> IMAPMailboxName {
        IMAPMailboxName(display: "\(prefix)-\(UUID().uuidString.prefix(8))")
    }

    /// Runs a Python snippet with the stack's values in its environment: the "other IMAP
    /// client" and the SMTP injector of these tests, written with Python's own imaplib and
    /// smtplib so that what they see is not our adapter's view.
    /// Runs on a thread of its own: waiting for a process must not block Swift's cooperative pool.
    @discardableResult
    static func python(_ script: String, _ arguments: [String] = []) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try runPython(script, arguments) })
            }
        }
    }

    private static func runPython(_ script: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in values ?? [:] { environment[key] = value }
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw HelperFailed(message: String(decoding: errorData, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct HelperFailed: Error, CustomStringConvertible {
        var message: String
        var description: String { "helper failed: \(message)" }
    }

    /// Python prologue: an imaplib connection as the demo user.
    static let imaplibLogin = """
        import imaplib, os, ssl, sys
        ctx = ssl.create_default_context(cafile=os.environ["TLS_CA_FILE"])
        ctx.check_hostname = False
        m = imaplib.IMAP4(os.environ["IMAP_HOST"], int(os.environ["IMAP_PORT"]))
        m.starttls(ssl_context=ctx)
        m.login(os.environ["DEMO_USER"], os.environ["DEMO_PASSWORD"])

        """
}

/// A test message with CRLF line endings.
func testMessage(subject: String, from: String = "Ann Example <ann@example.net>", to: String = "demo@airgate.test",
                 body: String = "Hello.\r\n", messageId: String = "<\(UUID().uuidString)@airgate.test>") -> [UInt8] {
    Array("""
        From: \(from)\r
        To: \(to)\r
        Subject: \(subject)\r
        Date: Mon, 23 Nov 2026 10:00:00 +0100\r
        Message-ID: \(messageId)\r
        MIME-Version: 1.0\r
        Content-Type: text/plain; charset=utf-8\r
        \r
        \(body)
        """.utf8)
}
