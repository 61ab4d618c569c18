import Foundation
import SyncState
import SyncStateSQL
import SyncStateSQLite

/// A kind of store the conformance suite runs against.
enum StoreBackend: String, CustomStringConvertible, Sendable {
    case memory
    case sqlite

    var description: String { rawValue }

    static var available: [StoreBackend] { [.memory, .sqlite] }

    /// Runs `body` with a new, empty store of this kind and the notifier it posts to.
    func withStore(_ body: (any StateStore, any ChangeNotifier) async throws -> Void) async throws {
        let notifier = InProcessChangeNotifier()
        switch self {
        case .memory:
            try await body(InMemoryStateStore(notifier: notifier), notifier)
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("airgate-state-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let database = try await SQLiteDatabase.open(path: directory.appendingPathComponent("state.sqlite").path)
            do {
                try await body(SQLStateStore(database: database, notifier: notifier), notifier)
            } catch {
                try? await database.close()
                throw error
            }
            try await database.close()
        }
    }
}
