import SyncState

/// A kind of store the conformance suite runs against.
enum StoreBackend: String, CustomStringConvertible, Sendable {
    case memory

    var description: String { rawValue }

    static var available: [StoreBackend] { [.memory] }

    /// Runs `body` with a new, empty store of this kind and the notifier it posts to.
    func withStore(_ body: (any StateStore, any ChangeNotifier) async throws -> Void) async throws {
        switch self {
        case .memory:
            let notifier = InProcessChangeNotifier()
            try await body(InMemoryStateStore(notifier: notifier), notifier)
        }
    }
}
