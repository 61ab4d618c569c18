/// An account: one mailbox login, shared by all of its user's devices.
public struct AccountID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: Int64
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public var description: String { "account \(rawValue)" }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A device of an account, named by the `DeviceId` it sends ([MS-ASHTTP] 2.2.1.1.1.1.3).
public struct DeviceRef: Hashable, Sendable, CustomStringConvertible {
    public let account: AccountID
    public let deviceId: String
    public init(account: AccountID, deviceId: String) {
        self.account = account
        self.deviceId = deviceId
    }
    public var description: String { "device \(deviceId) of \(account)" }
}

/// A folder of an account, by its stable EAS folder id (the `ServerId` FolderSync gives out and
/// the `CollectionId` Sync uses). Ids never change for the life of the folder.
public struct FolderRef: Hashable, Sendable, CustomStringConvertible {
    public let account: AccountID
    public let folderId: String
    public init(account: AccountID, folderId: String) {
        self.account = account
        self.folderId = folderId
    }
    public var description: String { "folder \(folderId) of \(account)" }
}

/// One device's view of one folder: what Sync calls a collection.
public struct CollectionRef: Hashable, Sendable, CustomStringConvertible {
    public let device: DeviceRef
    public let folderId: String
    public init(device: DeviceRef, folderId: String) {
        self.device = device
        self.folderId = folderId
    }
    public var folder: FolderRef { FolderRef(account: device.account, folderId: folderId) }
    public var description: String { "collection \(folderId) of \(device)" }
}

/// A sync key as the client sends it back: opaque, at most `StateLimits.maxSyncKeyLength`
/// characters ([MS-ASCMD] 2.2.3.177.3). `"0"` asks for a fresh start.
public struct SyncKey: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// The key a client sends to start over.
    public static let initial = SyncKey("0")
    public var isInitial: Bool { rawValue == "0" }
    public var description: String { rawValue }

    /// A key for generation `number`: the number makes keys of one collection distinct, the
    /// random part makes a key of a deleted and re-created partnership useless.
    public static func make(generation number: Int64) -> SyncKey {
        var generator = SystemRandomNumberGenerator()
        let random = String(generator.next() & 0xFFFF_FFFF, radix: 16)
        return SyncKey("\(number)-\(random)")
    }
}
