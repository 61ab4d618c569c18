import AirgateTestSupport
import Foundation
import MailUpstream
import Testing

@testable import MailUpstreamEtPan

/// IDLE against Dovecot: woken by another client's change and by a Postfix delivery, timing
/// out, and stopping cleanly when cancelled.
@Suite struct IMAPWatcherTests {
    static let adapter = IMAPAdapter(threads: 4)

    private let session = IMAPMailSession(pool: adapter.pool(endpoint: MailStack.imap(), credentials: MailStack.demoLogin))
    private let watcher = adapter.watcher(endpoint: MailStack.imap(), credentials: MailStack.demoLogin)

    private func appendFromPython(_ mailbox: IMAPMailboxName, after delay: Duration) {
        Task.detached {
            try await Task.sleep(for: delay)
            try await Self.append(to: mailbox)
        }
    }

    private static func append(to mailbox: IMAPMailboxName) async throws {
        _ = try await MailStack.python(MailStack.imaplibLogin + """
            m.append(sys.argv[1], None, None, b"Subject: idle\\r\\n\\r\\nhi\\r\\n")
            m.logout()
            """, [mailbox.wireName])
    }

    @Test func anotherClientsAppendWakesTheWatcherPromptly() async throws {
        guard MailStack.available() else { return }
        let mailbox = MailStack.uniqueMailbox("Idle")
        try await session.createTestMailbox(mailbox)
        defer { Task { try? await session.deleteMailbox(mailbox); await watcher.stop() } }
        let (before, _) = try await session.listing(of: mailbox)

        // Another client appends once the watcher is in IDLE (a change made before IDLE starts
        // is the caller's to look for, in `whenListening`).
        let started = ContinuousClock.now
        let outcome = try await watcher.waitForActivity(in: mailbox, timeout: .seconds(20)) {
            try? await Self.append(to: mailbox)
        }
        let waited = ContinuousClock.now - started
        #expect(outcome == .activity)
        // Woken, not timed out; the bound only catches a wake that took most of the timeout.
        #expect(waited < .seconds(15), "woken after \(waited)")
        var count = 0
        for _ in 0..<20 {
            guard case .changes(let changes, _) = try await session.changes(in: mailbox, since: before) else {
                Issue.record("expected changes")
                return
            }
            count = changes.count
            if count > 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(count == 1)

        // Nothing happens: the wait times out, and the connection serves the next wait.
        #expect(try await watcher.waitForActivity(in: mailbox, timeout: .milliseconds(300)) == .timedOut)
        appendFromPython(mailbox, after: .milliseconds(200))
        #expect(try await watcher.waitForActivity(in: mailbox, timeout: .seconds(20)) == .activity)
    }

    @Test func cancellingAWaitEndsItCleanlyAndTheWatcherGoesOn() async throws {
        guard MailStack.available() else { return }
        let mailbox = MailStack.uniqueMailbox("Idle")
        try await session.createTestMailbox(mailbox)
        defer { Task { try? await session.deleteMailbox(mailbox); await watcher.stop() } }
        let watcher = watcher
        let wait = Task { try await watcher.waitForActivity(in: mailbox, timeout: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        wait.cancel()
        await #expect(throws: CancellationError.self) { try await wait.value }
        #expect(ContinuousClock.now - started < .seconds(30))

        appendFromPython(mailbox, after: .milliseconds(200))
        #expect(try await watcher.waitForActivity(in: mailbox, timeout: .seconds(20)) == .activity)
    }

    @Test func deliveryThroughPostfixWakesAnINBOXWatcher() async throws {
        guard MailStack.available() else { return }
        let watcher = Self.adapter.watcher(endpoint: MailStack.imap(), credentials: .login(
            user: MailStack["OTHER_USER"], password: MailStack["OTHER_PASSWORD"]))
        defer { Task { await watcher.stop() } }
        let subject = "push-\(UUID().uuidString)"
        Task.detached {
            try await Task.sleep(for: .milliseconds(300))
            try await MailStack.python("""
                import os, smtplib, sys
                with smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ["SMTP_PLAIN_PORT"])) as s:
                    s.sendmail("sender@example.net", [os.environ["OTHER_USER"]],
                               "Subject: " + sys.argv[1] + "\\r\\n\\r\\nhello\\r\\n")
                """, [subject])
        }
        let started = ContinuousClock.now
        #expect(try await watcher.waitForActivity(in: IMAPMailboxName(wire: "INBOX"), timeout: .seconds(20)) == .activity)
        #expect(ContinuousClock.now - started < .seconds(15))
    }

    @Test func oneWaitAtATime() async throws {
        guard MailStack.available() else { return }
        let watcher = Self.adapter.watcher(endpoint: MailStack.imap(), credentials: MailStack.demoLogin)
        let first = Task { try await watcher.waitForActivity(in: IMAPMailboxName(wire: "Junk"), timeout: .seconds(2)) }
        try await Task.sleep(for: .milliseconds(500))
        await expectCode(.refused) { _ = try await watcher.waitForActivity(in: IMAPMailboxName(wire: "Junk"), timeout: .seconds(1)) }
        _ = try await first.value
        await watcher.stop()
    }
}
