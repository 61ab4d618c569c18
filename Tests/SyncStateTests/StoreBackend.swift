import Foundation
import Testing
import SyncState
import SyncStateSQL
import SyncStatePostgres
import SyncStateSQLite

/// A kind of store the conformance suite runs against.
enum StoreBackend: String, CustomStringConvertible, Sendable {
    case memory
    case sqlite
    case postgres

    var description: String { rawValue }

    /// PostgreSQL runs when the local stack is up (Deploy/stack.sh), or is required by
    /// AIRGATE_REQUIRE_EXTERNAL_TOOLS=1 (CI), where a missing server is a failure.
    static var available: [StoreBackend] {
        PostgresTestDatabase.url != nil || PostgresTestDatabase.required ? [.memory, .sqlite, .postgres] : [.memory, .sqlite]
    }

    /// Runs `body` with a new, empty store of this kind and the notifier it posts to.
    func withStore(_ body: @Sendable (any StateStore, any ChangeNotifier) async throws -> Void) async throws {
        let notifier = InProcessChangeNotifier()
        switch self {
        case .memory:
            try await body(InMemoryStateStore(notifier: notifier), notifier)
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("airgate-state-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = try await SQLiteStateStore.open(path: directory.appendingPathComponent("state.sqlite").path,
                                                         notifier: notifier)
            do {
                try await body(store, notifier)
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        case .postgres:
            try await PostgresTestDatabase.withStore { store, _ in
                try await body(store.store, store.notifier)
            }
        }
    }
}

/// A fresh schema per test in the stack's PostgreSQL, dropped afterwards.
enum PostgresTestDatabase {
    static var required: Bool { ProcessInfo.processInfo.environment["AIRGATE_REQUIRE_EXTERNAL_TOOLS"] == "1" }

    /// `AIRGATE_TEST_PG_URL`, else `PG_URL` from Deploy/.stack/env.
    static var url: String? {
        if let url = ProcessInfo.processInfo.environment["AIRGATE_TEST_PG_URL"] { return url }
        let env = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Deploy/.stack/env")
        return try? PostgresDatabase.url(fromStackEnv: env.path)
    }

    /// Runs `body` with `count` stores (nodes) sharing one new schema.
    static func withStore(nodes count: Int = 1,
                          _ body: @Sendable (PostgresStateStore, [PostgresStateStore]) async throws -> Void) async throws {
        guard let url else {
            Issue.record("PostgreSQL is required but Deploy/.stack/env has no PG_URL: run Deploy/stack.sh up")
            return
        }
        let schema = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await administer(url, "CREATE SCHEMA \(schema)")
        let stores = try (0..<count).map { _ in
            // Tests run in parallel in one database: each schema gets its own NOTIFY channel.
            PostgresStateStore(configuration: try PostgresDatabase.configuration(
                url: url, startupParameters: [("search_path", schema)]), channel: "airgate_\(schema)")
        }
        do {
            try await runAll(stores[...]) {
                try await body(stores[0], stores)
            }
        } catch {
            try? await administer(url, "DROP SCHEMA \(schema) CASCADE")
            throw error
        }
        try await administer(url, "DROP SCHEMA \(schema) CASCADE")
    }

    private static func administer(_ url: String, _ statement: String) async throws {
        let admin = PostgresDatabase(configuration: try PostgresDatabase.configuration(url: url))
        try await admin.withRunningClient { _ = try await admin.query(statement, []) }
    }

    private static func runAll(_ stores: ArraySlice<PostgresStateStore>, _ body: @Sendable () async throws -> Void)
        async throws {
        guard let first = stores.first else { return try await body() }
        try await first.withRunning { _ in
            try await runAll(stores.dropFirst(), body)
        }
    }
}
