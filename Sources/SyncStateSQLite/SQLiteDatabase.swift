import NIOCore
import SQLiteNIO
import SyncState
import SyncStateSQL

/// The embedded SQLite database behind the default state store: one file, one connection,
/// transactions one at a time.
///
/// WAL journal with `synchronous = NORMAL`: a committed transaction survives the process being
/// killed at any point (only a power loss can take the last ones). Other processes (the
/// `airgate devices` CLI) may open the same file; `busy_timeout` makes them wait for a writer.
public final class SQLiteDatabase: SQLDatabase {
    public let dialect = SQLDialect.sqlite
    private let connection: SQLiteConnection
    private let lock = AsyncSerialLock()

    /// How long a statement waits for another process's write lock before giving up.
    public static let busyTimeoutMilliseconds = 5_000

    private init(connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Opens (creating if needed) the database at `path` and applies missing migrations.
    public static func open(path: String) async throws -> SQLiteDatabase {
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path))
        } catch {
            throw StateStoreError(.unavailable, "cannot open \(path): \(error)")
        }
        let database = SQLiteDatabase(connection: connection)
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON",
                       "PRAGMA busy_timeout = \(busyTimeoutMilliseconds)"] {
            _ = try await database.query(pragma, [])
        }
        try await Migrator.migrate(database)
        return database
    }

    /// Closes after the query in flight, also when the calling task is cancelled (a service
    /// shutting down): an unclosed connection must not be left to its deinitialiser.
    public func close() async throws {
        let connection = connection
        let lock = lock
        try await Task { try await lock.withLock { try await connection.close() } }.value
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        let executor = Executor(connection: connection)
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
        let executor = Executor(connection: connection)
        return try await lock.withLock { try await executor.query(sql, binds) }
    }

    private struct Executor: SQLExecutor {
        let connection: SQLiteConnection

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [[SQLValue]] {
            let data: [SQLiteData] = binds.map { value in
                switch value {
                case .null: .null
                case .integer(let number): .integer(SQLiteInt64(number))
                case .text(let text): .text(text)
                }
            }
            let rows: [SQLiteRow]
            do {
                rows = try await connection.query(sql, data)
            } catch let error as SQLiteError {
                throw SQLiteDatabase.storeError(error, sql)
            }
            return rows.map { row in
                row.columns.map { column in
                    switch column.data {
                    case .null: .null
                    case .integer(let number): .integer(Int64(number))
                    case .float(let number): .integer(Int64(number))
                    case .text(let text): .text(text)
                    case .blob(let bytes): .text(String(buffer: bytes))
                    }
                }
            }
        }
    }

    static func storeError(_ error: SQLiteError, _ sql: String) -> StateStoreError {
        switch error.reason {
        case .busy, .busyTimeout, .busyInRecovery, .busyInSnapshot, .locked, .cantOpen, .ioError, .full, .readOnly:
            StateStoreError(.unavailable, "SQLite: \(error.message)")
        default:
            StateStoreError(.corrupt, "SQLite: \(error.message) in \(sql.prefix(80))")
        }
    }
}
