import ArgumentParser
import Foundation
import SyncStatePostgres
import SyncStateSQL
import SyncStateSQLite

/// `airgate migrate`: bring a state database's schema up to date.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the missing schema migrations to a state database.",
        discussion: """
            The stores also migrate when they start; this command does it ahead of time, e.g. before \
            rolling out a new version to several nodes. Concurrent runs wait for each other.
            """
    )

    @Option(help: "The SQLite database file (created if missing).")
    var sqlite: String?

    @Option(help: "The PostgreSQL URL, postgres://user:password@host:port/database.")
    var postgres: String?

    @Option(help: "Take the PostgreSQL URL (PG_URL) from this stack file, e.g. Deploy/.stack/env.")
    var stackEnv: String?

    @Option(help: "Take the store from this configuration file (store.sqlite or store.postgres).")
    var config: String?

    func validate() throws {
        let chosen = [sqlite != nil, postgres != nil, stackEnv != nil, config != nil].filter { $0 }.count
        guard chosen == 1 else { throw ValidationError("name exactly one of --sqlite, --postgres, --stack-env, --config") }
    }

    func run() async throws {
        var sqlite = sqlite
        var postgres = postgres
        if let config {
            let file = try SettingsOptions.load(stackEnv: nil, config: config)
            if case .string(let path)? = file.entries["store.sqlite"]?.value { sqlite = path }
            if case .string(let url)? = file.entries["store.postgres"]?.value { postgres = url }
            guard sqlite != nil || postgres != nil else { throw ValidationError("\(config) names no store") }
        }
        if let sqlite {
            let database = try await SQLiteDatabase.open(path: sqlite)  // migrates while opening
            let versions = try await Migrator.appliedVersions(database)
            try await database.close()
            print("\(sqlite): schema at version \(versions.last ?? 0)")
            return
        }
        let url = try postgres ?? PostgresDatabase.url(fromStackEnv: stackEnv!)
        let database = PostgresDatabase(configuration: try PostgresDatabase.configuration(url: url))
        let schema = try PostgresDatabase.schema(in: url)
        let (applied, versions) = try await database.withRunningClient {
            if let schema { _ = try await database.query("CREATE SCHEMA IF NOT EXISTS \(schema)", []) }
            return (try await Migrator.migrate(database), try await Migrator.appliedVersions(database))
        }
        let target = Self.redacted(url)
        print(applied.isEmpty
              ? "\(target): schema already at version \(versions.last ?? 0)"
              : "\(target): applied \(applied.map(String.init).joined(separator: ", ")); schema at version \(versions.last ?? 0)")
    }

    /// The URL without its password, for output.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}
