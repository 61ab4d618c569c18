/// Bounds on the identifiers clients send. They are checked before any storage is touched,
/// so an over-long or empty id is `StateStoreError.invalidInput`, not a database error.
public enum StateLimits {
    /// [MS-ASHTTP] allows 32 characters; some clients send more. 128 leaves room.
    public static let maxDeviceIdLength = 128
    /// [MS-ASCMD] 2.2.3.177: a SyncKey is at most 64 characters.
    public static let maxSyncKeyLength = 64
    /// [MS-ASCMD] 2.2.3.29: a ClientId is at most 64 characters.
    public static let maxClientIdLength = 64
    /// Folder ids are ours, but come back from clients as CollectionId and are checked too.
    public static let maxFolderIdLength = 64
    /// An email address is at most 320 characters (RFC 5321 4.5.3.1).
    public static let maxUsernameLength = 320
    /// DeviceType, User-Agent, model and the other free-text device fields.
    public static let maxDeviceTextLength = 512

    /// Throws `.invalidInput` unless `value` is 1 to `max` bytes of UTF-8.
    public static func check(_ value: String, max: Int, _ what: String) throws(StateStoreError) {
        guard !value.isEmpty, value.utf8.count <= max else {
            throw StateStoreError(.invalidInput, "\(what) must be 1-\(max) bytes")
        }
    }

    /// Throws `.invalidInput` unless the collection's ids from the client are within bounds.
    public static func check(_ collection: CollectionRef) throws(StateStoreError) {
        try check(collection.folderId, max: maxFolderIdLength, "CollectionId")
        try check(collection.device.deviceId, max: maxDeviceIdLength, "DeviceId")
    }

    /// `value` cut to at most `max` bytes of UTF-8, at a character boundary: for free text that
    /// is kept but need not be whole (User-Agent, model names).
    public static func clipped(_ value: String, max: Int = maxDeviceTextLength) -> String {
        guard value.utf8.count > max else { return value }
        var result = ""
        var length = 0
        for character in value {
            length += character.utf8.count
            if length > max { break }
            result.append(character)
        }
        return result
    }
}
