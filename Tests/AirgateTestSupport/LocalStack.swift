import Foundation
import MailUpstream
import Testing

/// The local Dovecot + Postfix + PostgreSQL stack started by `Deploy/stack.sh up`, as its env
/// file describes it, for the suites that test against real servers. They skip when it is
/// absent, unless AIRGATE_REQUIRE_EXTERNAL_TOOLS=1 (CI), where that is a failure.
public enum LocalStack {
    public static let envPath: String = ProcessInfo.processInfo.environment["AIRGATE_STACK_ENV"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Deploy/.stack/env").path

    public static let values: [String: String]? = {
        guard let text = try? String(contentsOfFile: envPath, encoding: .utf8) else { return nil }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = line[line.index(after: equals)...]
                .trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        }
        return values
    }()

    public static var required: Bool { ProcessInfo.processInfo.environment["AIRGATE_REQUIRE_EXTERNAL_TOOLS"] == "1" }

    /// True when the stack is there; otherwise records a failure in CI and returns false.
    public static func available(sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        if values != nil { return true }
        if required {
            Issue.record("the mail stack is required: run Deploy/stack.sh up (no \(envPath))", sourceLocation: sourceLocation)
        }
        return false
    }

    public static subscript(key: String) -> String { values?[key] ?? "" }

    /// Runs a Python snippet with the stack's values in its environment, on a thread of its own
    /// (waiting for a process must not block Swift's cooperative pool): the "other client" and
    /// the SMTP injector of the tests, written with Python's own imaplib and smtplib.
    @discardableResult
    public static func python(_ script: String, _ arguments: [String] = []) async throws -> String {
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

    /// Runs a program on a thread of its own; its exit status and its output (stdout and
    /// stderr together).
    public static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: executable)
                    process.arguments = arguments
                    let output = Pipe()
                    process.standardOutput = output
                    process.standardError = output
                    try process.run()
                    let data = output.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
                })
            }
        }
    }

    public struct HelperFailed: Error, CustomStringConvertible {
        public var message: String
        public var description: String { "helper failed: \(message)" }
    }

    /// Python prologue: an imaplib connection `m` as the demo user, over STARTTLS.
    public static let imaplibLogin = imaplibLogin(as: "DEMO")

    /// The same as another stack user: `imaplibLogin(as: "AWAY")` logs in with the stack's
    /// AWAY_USER and AWAY_PASSWORD.
    public static func imaplibLogin(as user: String) -> String {
        """
        import imaplib, os, ssl, sys
        ctx = ssl.create_default_context(cafile=os.environ["TLS_CA_FILE"])
        ctx.check_hostname = False
        m = imaplib.IMAP4(os.environ["IMAP_HOST"], int(os.environ["IMAP_PORT"]))
        m.starttls(ssl_context=ctx)
        m.login(os.environ["\(user)_USER"], os.environ["\(user)_PASSWORD"])

        """
    }
}

extension MailSession {
    /// CREATE for a test's own, uniquely named mailbox. Dovecot 2.3 sometimes answers
    /// `NO [ALREADYEXISTS]` to a CREATE that did create the mailbox, when many sessions of one
    /// user create and delete mailboxes at once (as parallel tests do): for a fresh unique name
    /// that answer still means the mailbox is there.
    public func createTestMailbox(_ mailbox: IMAPMailboxName) async throws {
        do {
            try await createMailbox(mailbox)
        } catch let error as UpstreamError where error.code == .mailboxExists {
            return
        }
    }
}
