import CSQLite
import SyncState
import SyncStateSQL

/// The embedded SQLite database behind the default state store: one file, one connection,
/// transactions one at a time, statements prepared once and kept.
///
/// WAL journal with `synchronous = NORMAL`: a committed transaction survives the process being
/// killed at any point (only a power loss can take the last ones). Other processes (the
/// `airgate devices` CLI) may open the same file; `busy_timeout` makes them wait for a writer.
///
/// A statement runs on the calling task's thread while the database's lock is held: the
/// store's statements take microseconds on a local file, less than handing each to a thread of
/// its own and back (that hop was most of a statement's time). The lock is taken without
/// blocking; what can block a thread is SQLite itself, for a WAL checkpoint (milliseconds) or
/// another process's write lock (the `airgate` CLI, up to `busyTimeoutMilliseconds`).
public final class SQLiteDatabase: SQLDatabase, @unchecked Sendable {
    // @unchecked: `handle` and `statements` are touched only while `lock` is held.
    public let dialect = SQLDialect.sqlite
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    private let lock = AsyncSerialLock()

    /// How long a statement waits for another process's write lock before giving up.
    public static let busyTimeoutMilliseconds = 5_000
    /// Prepared statements kept; beyond, all are dropped and prepared again as they come (the
    /// store's statements are a few dozen; IN lists of varying length make more).
    static let keptStatements = 256

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    /// Opens (creating if needed) the database at `path` and applies missing migrations.
    public static func open(path: String) async throws -> SQLiteDatabase {
        var handle: OpaquePointer?
        let opened = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard opened == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw StateStoreError(.unavailable, "cannot open \(path): \(message)")
        }
        sqlite3_busy_timeout(handle, Int32(busyTimeoutMilliseconds))
        let database = SQLiteDatabase(handle: handle)
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"] {
            _ = try await database.query(pragma, [])
        }
        try await Migrator.migrate(database)
        return database
    }

    /// Closes after the statement in flight, also when the calling task is cancelled (a service
    /// shutting down).
    public func close() async throws {
        let lock = lock
        try await Task {
            try await lock.withLock {
                for statement in self.statements.values { sqlite3_finalize(statement) }
                self.statements = [:]
                sqlite3_close_v2(self.handle)
                self.handle = nil
            }
        }.value
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        let executor = Executor(database: self)
        return try await lock.withLock {
            // IMMEDIATE takes the write lock now, so read-modify-write cannot interleave.
            _ = try await executor.query("BEGIN IMMEDIATE", [])
            do {
                let result = try await body(executor)
                _ = try await executor.query("COMMIT", [])
                return result
            } catch {
                _ = try? await executor.query("ROLLBACK", [])
                throw error
            }
        }
    }

    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [[SQLValue]] {
        let executor = Executor(database: self)
        return try await lock.withLock { try await executor.query(sql, binds) }
    }

    private struct Executor: SQLExecutor {
        let database: SQLiteDatabase

        // Called with the database's lock held (by `query` or `transaction`).
        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [[SQLValue]] {
            try database.run(sql, binds)
        }
    }

    /// One statement: prepared (or taken from those kept), bound, stepped to the end.
    private func run(_ sql: String, _ binds: [SQLValue]) throws -> [[SQLValue]] {
        guard let handle else { throw StateStoreError(.unavailable, "SQLite: the database is closed") }
        let statement = try prepared(sql, handle: handle)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        guard Int(sqlite3_bind_parameter_count(statement)) == binds.count else {
            throw StateStoreError(.corrupt, "SQLite: \(binds.count) values for the parameters of \(sql.prefix(80))")
        }
        for (index, value) in binds.enumerated() {
            let position = Int32(index + 1)
            let bound: Int32
            switch value {
            case .null:
                bound = sqlite3_bind_null(statement, position)
            case .integer(let number):
                bound = sqlite3_bind_int64(statement, position, number)
            case .text(let text):
                var text = text
                bound = text.withUTF8 { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { characters in
                        // An empty string has no address; a null pointer would bind NULL.
                        guard let start = characters.baseAddress else {
                            return sqlite3_bind_text(statement, position, "", 0, airgate_sqlite_transient())
                        }
                        return sqlite3_bind_text(statement, position, start, Int32(characters.count), airgate_sqlite_transient())
                    }
                }
            }
            guard bound == SQLITE_OK else { throw error(bound, sql) }
        }
        var rows: [[SQLValue]] = []
        let columns = sqlite3_column_count(statement)
        while true {
            let stepped = sqlite3_step(statement)
            if stepped == SQLITE_DONE { break }
            guard stepped == SQLITE_ROW else { throw error(stepped, sql) }
            var row: [SQLValue] = []
            row.reserveCapacity(Int(columns))
            for column in 0..<columns {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_NULL:
                    row.append(.null)
                case SQLITE_INTEGER:
                    row.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_FLOAT:
                    row.append(.integer(Int64(sqlite3_column_double(statement, column))))
                default:
                    // Text, and blobs read as text (the schema has none).
                    let count = Int(sqlite3_column_bytes(statement, column))
                    let text = sqlite3_column_text(statement, column).map {
                        String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
                    }
                    row.append(.text(text ?? ""))
                }
            }
            rows.append(row)
        }
        return rows
    }

    private func prepared(_ sql: String, handle: OpaquePointer) throws -> OpaquePointer {
        if let kept = statements[sql] { return kept }
        var statement: OpaquePointer?
        var rest = ""
        let result = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let result = sqlite3_prepare_v3(handle, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
            // The tail points into `text`: read while it lives.
            if let tail { rest = String(cString: tail) }
            return result
        }
        guard result == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw error(result, sql)
        }
        // One statement per call: a second one after the first would be silently left out.
        if rest.contains(where: { !$0.isWhitespace && $0 != ";" }) {
            sqlite3_finalize(statement)
            throw StateStoreError(.corrupt, "SQLite: more than one statement in \(sql.prefix(80))")
        }
        if statements.count >= Self.keptStatements {
            for kept in statements.values { sqlite3_finalize(kept) }
            statements.removeAll(keepingCapacity: true)
        }
        statements[sql] = statement
        return statement
    }

    private func error(_ code: Int32, _ sql: String) -> StateStoreError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed"
        switch code & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CANTOPEN, SQLITE_IOERR, SQLITE_FULL, SQLITE_READONLY:
            return StateStoreError(.unavailable, "SQLite: \(message)")
        default:
            return StateStoreError(.corrupt, "SQLite: \(message) in \(sql.prefix(80))")
        }
    }
}
