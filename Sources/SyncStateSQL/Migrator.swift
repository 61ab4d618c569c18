import Migrations
import SyncState

/// Applies the schema files of `Migrations/` that a database lacks.
public enum Migrator {
    /// Applies every missing migration, each in its own transaction, under a lock that makes
    /// nodes starting together wait for each other. Returns the versions applied now.
    @discardableResult
    public static func migrate(_ database: any SQLDatabase) async throws -> [Int] {
        let backend: SchemaMigrations.Backend = database.dialect == .postgres ? .postgres : .sqlite
        let files = try SchemaMigrations.files(for: backend)
        var applied: [Int] = []
        for file in files {
            let didApply = try await database.transaction { connection in
                if database.dialect == .postgres {
                    // Any constant will do, as long as every node uses the same one.
                    _ = try await connection.query("SELECT pg_advisory_xact_lock(7316492)")
                }
                _ = try await connection.query(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)")
                let done = try await connection.query("SELECT 1 FROM schema_migrations WHERE version = ?",
                                                      .integer(Int64(file.version)))
                guard done.isEmpty else { return false }
                for statement in file.statements {
                    _ = try await connection.query(statement, [])
                }
                _ = try await connection.query("INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                                               .integer(Int64(file.version)), .text(file.name))
                return true
            }
            if didApply { applied.append(file.version) }
        }
        return applied
    }

    /// The versions recorded in the database.
    public static func appliedVersions(_ database: any SQLDatabase) async throws -> [Int] {
        let exists = database.dialect == .postgres
            ? try await database.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_migrations' AND table_schema = current_schema()")
            : try await database.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
        guard !exists.isEmpty else { return [] }
        return try await database.query("SELECT version FROM schema_migrations ORDER BY version").map { Int(try $0.int(0)) }
    }
}
