import SyncState

/// A value bound to, or read from, SQL. The stores use only integers and text.
public enum SQLValue: Hashable, Sendable {
    case null
    case integer(Int64)
    case text(String)

    var int64: Int64? {
        if case .integer(let value) = self { return value }
        if case .text(let text) = self { return Int64(text) }
        return nil
    }

    var string: String? {
        if case .text(let value) = self { return value }
        return nil
    }
}

extension SQLValue {
    init(_ value: String?) { self = value.map(SQLValue.text) ?? .null }
    init(_ value: Int64?) { self = value.map(SQLValue.integer) ?? .null }
    init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
}

/// The SQL dialect, for the few statements that differ.
public enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// Row locking for read-modify-write inside a transaction. SQLite has none: its
    /// transactions take the write lock up front (`BEGIN IMMEDIATE`).
    var forUpdate: String { self == .postgres ? " FOR UPDATE" : "" }
}

/// One connection inside a transaction.
public protocol SQLExecutor: Sendable {
    /// Runs one statement with `?` placeholders and returns its rows, columns in order.
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [[SQLValue]]
}

/// What a database driver provides to `SQLStateStore`.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }

    /// Runs `body` in one write transaction: committed if it returns, rolled back if it throws.
    /// Errors that mean the database cannot be reached are `StateStoreError.unavailable`.
    func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T

    /// Runs one statement outside an explicit transaction (a write is its own transaction).
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [[SQLValue]]

    /// Releases the connections. Nothing may be run afterwards.
    func close() async throws
}

/// A database that reports how long its transactions and statements take (store latency).
struct TimedSQLDatabase: SQLDatabase {
    let base: any SQLDatabase
    let observe: @Sendable (String, Duration) -> Void

    var dialect: SQLDialect { base.dialect }

    func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        let started = ContinuousClock.now
        defer { observe("transaction", ContinuousClock.now - started) }
        return try await base.transaction(body)
    }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [[SQLValue]] {
        let started = ContinuousClock.now
        defer { observe("query", ContinuousClock.now - started) }
        return try await base.query(sql, binds)
    }

    func close() async throws {
        try await base.close()
    }
}

extension SQLExecutor {
    func query(_ sql: String, _ binds: SQLValue...) async throws -> [[SQLValue]] {
        try await query(sql, binds)
    }
}

extension SQLDatabase {
    func query(_ sql: String, _ binds: SQLValue...) async throws -> [[SQLValue]] {
        try await query(sql, binds)
    }
}

/// Reading typed columns, with a clear error when the stored data is not what is expected.
extension Array where Element == SQLValue {
    func int(_ index: Int) throws -> Int64 {
        guard index < count, let value = self[index].int64 else {
            throw StateStoreError(.corrupt, "column \(index) is not an integer")
        }
        return value
    }

    func optionalInt(_ index: Int) throws -> Int64? {
        guard index < count else { throw StateStoreError(.corrupt, "column \(index) missing") }
        if case .null = self[index] { return nil }
        return try int(index)
    }

    func text(_ index: Int) throws -> String {
        guard index < count, let value = self[index].string else {
            throw StateStoreError(.corrupt, "column \(index) is not text")
        }
        return value
    }

    func optionalText(_ index: Int) throws -> String? {
        guard index < count else { throw StateStoreError(.corrupt, "column \(index) missing") }
        if case .null = self[index] { return nil }
        return try text(index)
    }
}

/// A notifier whose changes should also reach other processes through the database
/// (PostgreSQL NOTIFY), sent inside the transaction that logged them.
public protocol SQLChangeBroadcaster: Sendable {
    var broadcastChannel: String { get }
    func broadcastPayload(_ notification: ChangeNotification) -> String
}
