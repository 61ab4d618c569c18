import Foundation
import SyncState
import SyncStateSQL
import SyncStateSQLite
import Testing

/// The SQLite driver itself: values both ways, kept statements, what it refuses.
@Suite struct SQLiteDatabaseTests {
    func withDatabase(_ body: (SQLiteDatabase) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-sqlite-\(UUID().uuidString).sqlite").path
        let database = try await SQLiteDatabase.open(path: path)
        do {
            try await body(database)
        } catch {
            try? await database.close()
            throw error
        }
        try await database.close()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    @Test func valuesComeBackAsTheyWentIn() async throws {
        try await withDatabase { database in
            _ = try await database.query("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, n INTEGER)", [])
            let rows: [(SQLValue, SQLValue)] = [(.text(""), .integer(0)), (.null, .integer(Int64.min)),
                                               (.text("Grüße ☃ \u{0}nul"), .integer(Int64.max))]
            for (name, number) in rows {
                _ = try await database.query("INSERT INTO t (name, n) VALUES (?, ?)", [name, number])
            }
            let read = try await database.query("SELECT name, n FROM t ORDER BY id", [])
            #expect(read == rows.map { [$0.0, $0.1] })
            // The empty string is text, not NULL.
            let nulls = try await database.query("SELECT count(*) FROM t WHERE name IS NULL", [])
            #expect(nulls == [[.integer(1)]])
        }
    }

    @Test func manyDistinctStatementsAndTransactionsStayCorrect() async throws {
        try await withDatabase { database in
            _ = try await database.query("CREATE TABLE t (id INTEGER PRIMARY KEY)", [])
            // More distinct statements than are kept: the cache starts over and still answers.
            for count in 1...300 {
                let list = Array(repeating: "?", count: count).joined(separator: ", ")
                let rows = try await database.query("SELECT count(*) FROM t WHERE id IN (\(list))",
                                                    (1...count).map { .integer(Int64($0)) })
                #expect(rows == [[.integer(0)]])
            }
            struct Failure: Error {}
            await #expect(throws: Failure.self) {
                try await database.transaction { executor in
                    _ = try await executor.query("INSERT INTO t (id) VALUES (?)", [.integer(1)])
                    throw Failure()
                }
            }
            try await database.transaction { executor in
                _ = try await executor.query("INSERT INTO t (id) VALUES (?)", [.integer(2)])
            }
            let ids = try await database.query("SELECT id FROM t", [])
            #expect(ids == [[.integer(2)]])
        }
    }

    @Test func concurrentTransactionsTakeTheLockInTurnAndNoneIsLost() async throws {
        try await withDatabase { database in
            _ = try await database.query("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)", [])
            _ = try await database.query("INSERT INTO c (id, n) VALUES (1, 0)", [])
            // Read, suspend, write: only mutual exclusion keeps every increment. Hundreds
            // waiting at once also run the lock's clean-up of waiters it has handed on.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<400 {
                    group.addTask {
                        try await database.transaction { executor in
                            let n = try await executor.query("SELECT n FROM c WHERE id = 1", [])
                            await Task.yield()
                            guard case .integer(let value) = n.first?.first else { throw StateStoreError(.corrupt, "no row") }
                            _ = try await executor.query("UPDATE c SET n = ? WHERE id = 1", [.integer(value + 1)])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await database.query("SELECT n FROM c", []) == [[.integer(400)]])
        }
    }

    @Test func whatItRefusesIsAStoreError() async throws {
        try await withDatabase { database in
            // A second statement would be silently left out: refused instead.
            await #expect(throws: StateStoreError.self) {
                _ = try await database.query("CREATE TABLE a (x INTEGER); CREATE TABLE b (x INTEGER)", [])
            }
            await #expect(throws: StateStoreError.self) { _ = try await database.query("SELEC 1", []) }
            await #expect(throws: StateStoreError.self) { _ = try await database.query("SELECT ?", []) }
            let one = try await database.query("SELECT 1;", [])
            #expect(one == [[.integer(1)]])
        }
    }
}
