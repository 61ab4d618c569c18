import SyncState
import SyncStatePostgres
import SyncStateSQL
import Testing

/// What only the PostgreSQL store does: several nodes on one database.
@Suite("PostgreSQL nodes", .enabled(if: PostgresTestDatabase.url != nil || PostgresTestDatabase.required))
struct PostgresNodeTests {
    @Test("a change logged on one node wakes waiters on another, once")
    func crossNodeWakeUp() async throws {
        try await PostgresTestDatabase.withStore(nodes: 2) { _, nodes in
            let (a, b) = (nodes[0], nodes[1])
            let account = try await a.store.account(named: "demo@airgate.test")
            let inbox = try await a.store.saveFolder(of: account, mailboxName: "INBOX", uidValidity: 1, type: 2, parentId: nil)
            let onB = b.notifier.subscribe(account)
            let onA = a.notifier.subscribe(account)
            try await a.store.appendChanges(FolderRef(account: account, folderId: inbox.folderId),
                                            [ChangeEntry(kind: .added, uid: 1, modSeq: 2)],
                                            watermark: MailboxWatermark(uidValidity: 1, highestModSeq: 2, uidNext: 2))
            var iteratorB = onB.makeAsyncIterator()
            let iteratorB1 = await iteratorB.next()
            // The time the change was logged travels with it (push latency is measured from it).
            #expect(abs((iteratorB1?.loggedAt ?? 0) - WallClock.milliseconds()) < 10_000)
            #expect(iteratorB1?.account == account && iteratorB1?.folderIds == [inbox.folderId])
            // Node A hears its own change once, directly, not a second time through NOTIFY.
            var iteratorA = onA.makeAsyncIterator()
            let iteratorA1 = await iteratorA.next()
            #expect(iteratorA1?.account == account && iteratorA1?.folderIds == [inbox.folderId])
            // A second change elsewhere: if A had also heard the first one through NOTIFY, that
            // duplicate would come out here instead.
            let sent = try await a.store.saveFolder(of: account, mailboxName: "Sent", uidValidity: 1, type: 5, parentId: nil)
            try await Task.sleep(for: .milliseconds(200))
            try await a.store.appendChanges(FolderRef(account: account, folderId: sent.folderId),
                                            [ChangeEntry(kind: .added, uid: 1, modSeq: 3)],
                                            watermark: MailboxWatermark(uidValidity: 1, highestModSeq: 3, uidNext: 2))
            let iteratorA2 = await iteratorA.next()
            #expect(iteratorA2?.account == account && iteratorA2?.folderIds == [sent.folderId])
            let iteratorB2 = await iteratorB.next()
            #expect(iteratorB2?.account == account && iteratorB2?.folderIds == [sent.folderId])
        }
    }

    @Test("a second node starting on a migrated database applies nothing again")
    func migrationsOnce() async throws {
        try await PostgresTestDatabase.withStore(nodes: 2) { first, _ async throws in
            #expect(try await Migrator.appliedVersions(first.database) == [1, 2, 3])
            #expect(try await Migrator.migrate(first.database) == [])
        }
    }
}
