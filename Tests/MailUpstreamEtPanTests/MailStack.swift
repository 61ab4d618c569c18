import Foundation
import MailUpstream
import MailUpstreamEtPan
import AirgateTestSupport
import Testing

/// The local Dovecot + Postfix stack started by `Deploy/stack.sh up`, as its env file
/// describes it. Tests that need it are skipped when it is absent, unless
/// AIRGATE_REQUIRE_EXTERNAL_TOOLS=1 (CI), where that is a failure.
enum MailStack {
    static var values: [String: String]? { LocalStack.values }
    static func available() -> Bool { LocalStack.available() }
    static subscript(key: String) -> String { LocalStack[key] }

    static var demoUser: String { self["DEMO_USER"] }
    static var demoPassword: String { self["DEMO_PASSWORD"] }

    static func imap(_ security: TransportSecurity = .startTLS, verify: Bool = true, caFile: String? = nil,
                     serverName: String? = nil, timeout: Duration = .seconds(30)) -> ServerEndpoint {
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

    @discardableResult
    static func python(_ script: String, _ arguments: [String] = []) async throws -> String {
        try await LocalStack.python(script, arguments)
    }

    static var imaplibLogin: String { LocalStack.imaplibLogin }
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
