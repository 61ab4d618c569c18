import AirgateTestSupport
import Foundation
import MailUpstream
import Testing

@testable import MailUpstreamEtPan

/// Faults between the adapter and Dovecot, made by a proxy: each gives a typed error within
/// the timeout, and the pool recovers by itself.
@Suite struct IMAPFaultTests {
    private func setUp(limits: IMAPPoolLimits = IMAPPoolLimits(), timeout: Duration = .seconds(30)) throws
        -> (FaultProxy, IMAPMailSession)
    {
        let proxy = try FaultProxy(targetPort: Int(MailStack["IMAP_PORT"]) ?? 0)
        let endpoint = ServerEndpoint(host: "127.0.0.1", port: Int(proxy.port), security: .startTLS,
                                      caFile: MailStack["TLS_CA_FILE"], serverName: "localhost", timeout: timeout)
        let adapter = IMAPAdapter(threads: 4, limits: limits)
        return (proxy, IMAPMailSession(pool: adapter.pool(endpoint: endpoint, credentials: MailStack.demoLogin)))
    }

    @Test func serverRestartIsInvisibleToIdempotentCalls() async throws {
        guard MailStack.available() else { return }
        let (proxy, session) = try setUp()
        let inbox = IMAPMailboxName(wire: "INBOX")
        let before = try await session.status(inbox)
        #expect(await session.pool.openConnections == 1)
        proxy.dropAll()
        // The pooled connection is dead; the call is retried once on a new one.
        let after = try await session.status(inbox)
        #expect(after.state.uidValidity == before.state.uidValidity, "\(after) after \(before)")
        #expect(await session.pool.openConnections == 1)
    }

    @Test func connectionCutMidLiteralIsTypedAndThePoolRecovers() async throws {
        guard MailStack.available() else { return }
        let (proxy, session) = try setUp()
        let mailbox = MailStack.uniqueMailbox("Cut")
        try await session.createTestMailbox(mailbox)
        defer { Task { try? await session.deleteMailbox(mailbox) } }
        let body = String(repeating: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n", count: 16_000)
        let uid = try #require(try await session.append(to: mailbox, message: testMessage(subject: "big", body: body),
                                                        flags: [], internalDate: nil))
        proxy.dropAll()
        // New connections are cut 200 KB into what the server sends: inside the literal.
        proxy.setCutAfter(200_000)
        await expectCode(.unavailable) { _ = try await session.fetch(in: mailbox, uid: uid, section: nil, range: nil) }
        #expect(await session.pool.openConnections == 0)
        proxy.setCutAfter(nil)
        try await Task.sleep(for: .milliseconds(1100))  // the back-off after one failure
        let whole = try await session.fetch(in: mailbox, uid: uid, section: nil, range: nil)
        #expect(whole.count > 1_000_000)
    }

    @Test func serverDownFailsFastWithRetryAfterThenRecovers() async throws {
        guard MailStack.available() else { return }
        let (proxy, session) = try setUp()
        let inbox = IMAPMailboxName(wire: "INBOX")
        proxy.stopListening()
        var first: UpstreamError?
        do { _ = try await session.status(inbox) } catch let error as UpstreamError { first = error }
        #expect(first?.code == .unavailable)
        #expect(first?.retryAfter != nil)
        // Within the back-off nobody tries the server again: the answer is immediate.
        let started = ContinuousClock.now
        await expectCode(.unavailable) { _ = try await session.status(inbox) }
        #expect(ContinuousClock.now - started < .milliseconds(100))
        try proxy.resumeListening()
        try await Task.sleep(for: .milliseconds(1100))
        #expect(try await session.status(inbox).state.uidValidity != 0)
    }

    @Test func hungServerTimesOutInsteadOfHanging() async throws {
        guard MailStack.available() else { return }
        let (proxy, session) = try setUp(timeout: .seconds(1))
        proxy.setMode(.blackhole)
        let started = ContinuousClock.now
        await expectCode(.unavailable) { _ = try await session.status(IMAPMailboxName(wire: "INBOX")) }
        // A few timeouts of 1 s (connect, greeting, TLS), not forever; generous for loaded machines.
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func perAccountLimitIsKeptUnderLoad() async throws {
        guard MailStack.available() else { return }
        let (proxy, session) = try setUp(limits: IMAPPoolLimits(perAccount: 2))
        defer { withExtendedLifetime(proxy) {} }
        let inbox = IMAPMailboxName(wire: "INBOX")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    _ = try await session.status(inbox)
                    #expect(await session.pool.openConnections <= 2)
                }
            }
            try await group.waitForAll()
        }
        #expect(await session.pool.openConnections <= 2)
    }

    @Test func globalLimitIsAnswered503NotAHang() async throws {
        guard MailStack.available() else { return }
        let adapter = IMAPAdapter(threads: 2, limits: IMAPPoolLimits(perAccount: 2, global: 1))
        let first = IMAPMailSession(pool: adapter.pool(endpoint: MailStack.imap(), credentials: MailStack.demoLogin))
        let second = IMAPMailSession(pool: adapter.pool(endpoint: MailStack.imap(), credentials: .login(
            user: MailStack["OTHER_USER"], password: MailStack["OTHER_PASSWORD"])))
        _ = try await first.status(IMAPMailboxName(wire: "INBOX"))
        // The one connection allowed is idle in the first account's pool.
        await expectCode(.unavailable) { _ = try await second.status(IMAPMailboxName(wire: "INBOX")) }
        await first.pool.close()
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await second.status(IMAPMailboxName(wire: "INBOX")).state.uidValidity != 0)
    }
}
