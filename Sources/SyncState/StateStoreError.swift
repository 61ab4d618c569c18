/// Why a state store operation failed.
public struct StateStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// The database cannot be reached; the HTTP layer answers 503 with Retry-After.
        public static let unavailable = Code(name: "state store unavailable")
        /// The sync key is not the current or previous one of this collection (or hierarchy):
        /// the client must start over (Sync Status 3, FolderSync Status 9).
        public static let unknownSyncKey = Code(name: "unknown sync key")
        /// Another request advanced the same collection first; recompute and try again.
        public static let conflict = Code(name: "concurrent update")
        /// An id or value from a client is empty or too long.
        public static let invalidInput = Code(name: "invalid input")
        /// The account, device or folder does not exist.
        public static let notFound = Code(name: "not found")
        /// The stored data or schema is not what this version expects.
        public static let corrupt = Code(name: "unexpected stored data")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String = "") {
        self.code = code
        self.message = message
    }

    public var description: String { message.isEmpty ? code.description : "\(code): \(message)" }
}
