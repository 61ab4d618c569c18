import SyncState
import SyncStateSQL

/// The embedded default store: SQLite in one file, wake-ups within this process.
public enum SQLiteStateStore {
    /// Opens the store at `path`, creating and migrating the database as needed.
    /// `timing` is told how long each transaction and statement took (see `SQLStateStore`).
    public static func open(path: String, notifier: any ChangeNotifier = InProcessChangeNotifier(),
                            timing: (@Sendable (String, Duration) -> Void)? = nil) async throws -> SQLStateStore {
        SQLStateStore(database: try await SQLiteDatabase.open(path: path), notifier: notifier, timing: timing)
    }
}
