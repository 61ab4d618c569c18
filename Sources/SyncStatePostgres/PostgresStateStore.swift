import Foundation
import Logging
import PostgresNIO
import SyncState
import SyncStateSQL

/// The production store: PostgreSQL, shared by every node, with LISTEN/NOTIFY so that a change
/// logged on one node wakes Pings held on all of them.
public final class PostgresStateStore: Sendable {
    /// The channel change-log appends are announced on, unless told otherwise.
    public static let defaultChannel = "airgate_changes"

    public let database: PostgresDatabase
    public let store: SQLStateStore
    /// Where this node's waiters subscribe; fed by this node's appends and other nodes' NOTIFYs.
    public let notifier: InProcessChangeNotifier
    let nodeId: String
    /// NOTIFY channels belong to a database, not a schema: installations that share one
    /// database in several schemas need a channel each.
    public let channel: String
    /// The schema the URL named, created at start when missing.
    let schema: String?

    public init(configuration: PostgresClient.Configuration, channel: String = PostgresStateStore.defaultChannel,
                schema: String? = nil, timing: (@Sendable (String, Duration) -> Void)? = nil,
                logger: Logger = Logger(label: "airgate.state.postgres")) {
        self.schema = schema
        let database = PostgresDatabase(configuration: configuration, logger: logger)
        let notifier = InProcessChangeNotifier()
        let nodeId = UUID().uuidString
        self.database = database
        self.notifier = notifier
        self.nodeId = nodeId
        self.channel = channel
        self.store = SQLStateStore(database: database,
                                   notifier: PostgresChangeNotifier(local: notifier, nodeId: nodeId, channel: channel),
                                   timing: timing)
    }

    /// The store a URL names (see `PostgresDatabase.configuration(url:)`); with a schema, its
    /// NOTIFY channel is the schema's own.
    public convenience init(url: String, timing: (@Sendable (String, Duration) -> Void)? = nil,
                            logger: Logger = Logger(label: "airgate.state.postgres")) throws(StateStoreError) {
        let schema = try PostgresDatabase.schema(in: url)
        self.init(configuration: try PostgresDatabase.configuration(url: url),
                  channel: schema.map { "\(Self.defaultChannel)_\($0)" } ?? Self.defaultChannel, schema: schema,
                  timing: timing, logger: logger)
    }

    /// Runs the connection pool and the listener for other nodes' changes until cancelled.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.database.client.run() }
            group.addTask { try await self.listen() }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Runs `body` with the pool and the listener running, after applying missing migrations.
    public func withRunning<T: Sendable>(_ body: @Sendable (SQLStateStore) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await self.run()
                return nil
            }
            defer { group.cancelAll() }
            if let schema {
                // Checked to be letters, digits and _ only (PostgresDatabase.schema(in:)).
                _ = try await database.query("CREATE SCHEMA IF NOT EXISTS \(schema)", [])
            }
            try await Migrator.migrate(database)
            return try await body(store)
        }
    }

    /// Forwards NOTIFYs from other nodes to this node's subscribers; reconnects after a lost
    /// connection, backing off up to 10 s.
    private func listen() async throws {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        delay = .milliseconds(100)
                        for try await notification in notifications {
                            if let change = PostgresChangeNotifier.decode(notification.payload, skippingNode: nodeId) {
                                notifier.post(change)
                            }
                        }
                    }
                }
            } catch where Task.isCancelled || error is CancellationError {
                return
            } catch {
                database.logger.warning("listening for changes failed; retrying", metadata: ["error": "\(error)"])
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(10))
        }
    }
}

/// Posts to this node's subscribers at once and asks the store to NOTIFY the others.
///
/// The NOTIFY itself is sent by `SQLStateStore` inside the append's transaction (PostgreSQL
/// delivers it at commit, never for a rolled-back append); this type only shapes the payload.
struct PostgresChangeNotifier: ChangeNotifier, SQLChangeBroadcaster {
    let local: InProcessChangeNotifier
    let nodeId: String
    let channel: String

    func post(_ notification: ChangeNotification) { local.post(notification) }

    func subscribe(_ account: AccountID) -> AsyncStream<ChangeNotification> { local.subscribe(account) }

    var broadcastChannel: String { channel }

    /// `node account folder,folder loggedAt`: folder ids are ours (digits), never spaces or
    /// commas. Payloads without the time (older nodes) are read too.
    func broadcastPayload(_ notification: ChangeNotification) -> String {
        "\(nodeId) \(notification.account.rawValue) \(notification.folderIds.joined(separator: ",")) \(notification.loggedAt)"
    }

    static func decode(_ payload: String, skippingNode nodeId: String) -> ChangeNotification? {
        let parts = payload.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 4, parts[0] != nodeId, let account = Int64(parts[1]) else { return nil }
        let folderIds = parts[2].split(separator: ",").map(String.init)
        guard parts.count == 4, let loggedAt = Int64(parts[3]) else {
            return ChangeNotification(account: AccountID(account), folderIds: folderIds)
        }
        return ChangeNotification(account: AccountID(account), folderIds: folderIds, loggedAt: loggedAt)
    }
}
