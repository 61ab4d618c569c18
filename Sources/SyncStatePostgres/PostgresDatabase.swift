import CancellableSleep
import Foundation
import Logging
import PostgresNIO
import SyncState
import SyncStateSQL
import Synchronization

/// PostgreSQL behind the production state store: a pooled `PostgresClient` (postgres-nio).
///
/// The client's `run()` must be running while the database is used; `PostgresStateStore`
/// does that as a `Service`, and `withDatabase` for scoped use (tools, tests).
public final class PostgresDatabase: SQLDatabase {
    public let dialect = SQLDialect.postgres
    public let client: PostgresClient
    let logger: Logger

    public init(configuration: PostgresClient.Configuration, connectionWait: Duration = .seconds(8),
                logger: Logger = Logger(label: "airgate.state.postgres")) {
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.connectionWait = connectionWait
        self.logger = logger
    }

    /// A client configuration from a `postgres://user:password@host:port/database` URL, with
    /// an optional `?schema=NAME` (the tables' schema, for installations sharing a database).
    /// Extra startup parameters (e.g. `search_path`) are passed to every connection.
    public static func configuration(url: String, startupParameters: [(String, String)] = [])
        throws(StateStoreError) -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url),
            components.scheme == "postgres" || components.scheme == "postgresql",
            let host = components.host, let user = components.user
        else { throw StateStoreError(.invalidInput, "not a postgres:// URL") }
        var startupParameters = startupParameters
        if let schema = try schema(in: url) { startupParameters.append(("search_path", schema)) }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        // TLS settings come with the configuration file; loopback and private networks first.
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: database.isEmpty ? nil : database, tls: .disable)
        configuration.options.additionalStartupParameters = startupParameters
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// The `schema` query parameter of a store URL: letters, digits and `_` only, as it is
    /// also part of the NOTIFY channel's name. Other parameters are refused, not ignored.
    public static func schema(in url: String) throws(StateStoreError) -> String? {
        guard let items = URLComponents(string: url)?.queryItems, !items.isEmpty else { return nil }
        guard items.count == 1, items[0].name == "schema", let schema = items[0].value, !schema.isEmpty, schema.utf8.count <= 48,
              schema.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else { throw StateStoreError(.invalidInput, "the only URL parameter is schema=NAME (letters, digits, _)") }
        return schema
    }

    /// `PG_URL` from the `KEY=value` file `Deploy/stack.sh up` writes (`Deploy/.stack/env`),
    /// where values may be shell-quoted.
    public static func url(fromStackEnv path: String) throws(StateStoreError) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw StateStoreError(.notFound, "cannot read \(path); is the stack up (Deploy/stack.sh up)?")
        }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PG_URL=") }) else {
            throw StateStoreError(.notFound, "\(path) has no PG_URL")
        }
        return String(line.dropFirst(7)).trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
    }

    /// How long an operation may wait for a connection. The client keeps trying to connect
    /// while the server is down; without a bound, requests would wait for as long as the
    /// outage lasts instead of answering 503.
    public let connectionWait: Duration

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        do {
            // The group below awaits its tasks before returning: `body` does not outlive this call.
            return try await withoutActuallyEscaping(body) { body in
                try await withConnectionWait { started in
                    try await self.client.withTransaction(logger: self.logger) { connection in
                        started.set()
                        return try await body(Executor(connection: connection, logger: self.logger))
                    }
                }
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [[SQLValue]] {
        do {
            return try await withConnectionWait { started in
                try await self.client.withConnection { connection in
                    started.set()
                    return try await Executor(connection: connection, logger: self.logger).query(sql, binds)
                }
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Whether an operation got its connection.
    final class Started: Sendable {
        private let flag = Mutex(false)
        func set() { flag.withLock { $0 = true } }
        var isSet: Bool { flag.withLock { $0 } }
    }

    /// Runs `operation`, giving up with `.unavailable` if it has not got a connection within
    /// `connectionWait` (the wait is cancelled); once it has one, it runs to its end.
    func withConnectionWait<T: Sendable>(_ operation: @escaping @Sendable (Started) async throws -> T) async throws -> T {
        let started = Started()
        let wait = connectionWait
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation(started) }
            group.addTask {
                await sleepUnlessCancelled(for: wait)
                try Task.checkCancellation()
                guard started.isSet else {
                    throw StateStoreError(.unavailable, "no PostgreSQL connection within \(wait.components.seconds) s")
                }
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw StateStoreError(.unavailable, "the PostgreSQL operation ended without a result")
        }
    }

    /// The pool closes when its `run()` is cancelled; nothing to do here.
    public func close() async throws {}

    /// Runs `body` while the client runs. A client runs once: call this once per instance.
    public func withRunningClient<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await self.client.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    struct Executor: SQLExecutor {
        let connection: PostgresConnection
        let logger: Logger

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [[SQLValue]] {
            var bindings = PostgresBindings(capacity: binds.count)
            for value in binds {
                switch value {
                case .null: bindings.appendNull()
                case .integer(let number): bindings.append(number)
                case .text(let text): bindings.append(text)
                }
            }
            let query = PostgresQuery(unsafeSQL: Self.numberedPlaceholders(sql), binds: bindings)
            var rows: [[SQLValue]] = []
            for try await row in try await connection.query(query, logger: logger) {
                rows.append(try row.map(Self.value))
            }
            return rows
        }

        static func value(_ cell: PostgresCell) throws -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int2, .int4, .int8, .oid: return .integer(try cell.decode(Int64.self))
            case .void: return .null
            default: return .text(try cell.decode(String.self))
            }
        }

        /// `?` placeholders (the store's SQL) as `$1`, `$2`, … (PostgreSQL's). The store's
        /// statements have no `?` inside literals.
        static func numberedPlaceholders(_ sql: String) -> String {
            var result = ""
            result.reserveCapacity(sql.utf8.count + 16)
            var number = 0
            for character in sql {
                if character == "?" {
                    number += 1
                    result += "$\(number)"
                } else {
                    result.append(character)
                }
            }
            return result
        }
    }

    /// Outages (no connection, server shutting down, resources) become `.unavailable`, which the
    /// HTTP layer answers with 503; anything else is a bug or a schema problem.
    static func storeError(_ error: any Error) -> any Error {
        if error is StateStoreError || error is CancellationError { return error }
        if let transaction = error as? PostgresTransactionError {
            // The store's own error from inside the transaction, else what BEGIN/COMMIT hit.
            if let inner = transaction.closureError ?? transaction.beginError ?? transaction.commitError {
                return storeError(inner)
            }
        }
        guard let error = error as? PSQLError else { return StateStoreError(.unavailable, "\(error)") }
        if let state = error.serverInfo?[.sqlState] {
            // Classes 08 (connection), 53 (resources), 57 (operator intervention, e.g. shutdown).
            if ["08", "53", "57"].contains(String(state.prefix(2))) {
                return StateStoreError(.unavailable, "PostgreSQL \(state): \(error.serverInfo?[.message] ?? "")")
            }
            return StateStoreError(.corrupt, "PostgreSQL \(state): \(error.serverInfo?[.message] ?? "")")
        }
        return StateStoreError(.unavailable, "PostgreSQL: \(error.code)")
    }
}
