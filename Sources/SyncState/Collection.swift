/// One generation of a collection's sync state: what one SyncKey names.
public struct CollectionGeneration: Hashable, Sendable {
    public var key: SyncKey
    /// Increasing per collection, never reused.
    public var number: Int64
    /// The change-log sequence this generation has sent the device up to.
    public var cursor: Int64
    /// Where the initial enumeration of the folder stands, in the sync core's own terms;
    /// `nil` once it is complete.
    public var initialSyncPosition: String?
    /// The FilterType in force ([MS-ASCMD] 2.2.3.70.1), if the client sent one.
    public var filterType: Int?
    /// The other Sync options in force, encoded by the sync core.
    public var options: String?

    public init(key: SyncKey, number: Int64, cursor: Int64, initialSyncPosition: String?, filterType: Int?,
                options: String?) {
        self.key = key
        self.number = number
        self.cursor = cursor
        self.initialSyncPosition = initialSyncPosition
        self.filterType = filterType
        self.options = options
    }
}

/// What a Sync key names for a collection.
public enum CollectionLookup: Hashable, Sendable {
    /// Key `0`: the client starts over.
    case initial
    /// The newest key: the normal case.
    case current(CollectionGeneration)
    /// The key before the newest: the client did not get the last answer and asks again.
    case previous(CollectionGeneration)
    /// Any other key (including one of another device): Status 3.
    case unknown
}

/// What one Sync response moves a collection to.
public struct CollectionAdvance: Hashable, Sendable {
    public var cursor: Int64
    public var initialSyncPosition: String?
    public var filterType: Int?
    public var options: String?
    /// Messages the response gave the device.
    public var added: [MessageUID]
    /// Messages the response took from the device.
    public var removed: [MessageUID]

    public init(cursor: Int64, initialSyncPosition: String? = nil, filterType: Int? = nil, options: String? = nil,
                added: [MessageUID] = [], removed: [MessageUID] = []) {
        self.cursor = cursor
        self.initialSyncPosition = initialSyncPosition
        self.filterType = filterType
        self.options = options
        self.added = added
        self.removed = removed
    }
}
