import Foundation
import Synchronization
import SyncState

/// The `StateStore` on a SQL database (SQLite or PostgreSQL, through an `SQLDatabase` driver).
///
/// Every read-modify-write runs in one transaction and locks what it changes first (PostgreSQL
/// `FOR UPDATE`; SQLite takes the write lock when the transaction begins), so a crash leaves
/// the old state or the new one, and concurrent requests for one collection are serialised:
/// the loser sees that the current key moved and gets `.conflict`.
public final class SQLStateStore: StateStore {
    let database: any SQLDatabase
    let notifier: any ChangeNotifier
    private let forUpdate: String
    /// Account ids by login: an account row is never deleted or renumbered, and every request
    /// asks for its account first.
    private let accountIds = Mutex<[String: AccountID]>([:])
    static let accountIdsKept = 100_000

    /// Rows per multi-row statement, well under both databases' bind limits.
    static let batchSize = 400

    /// - Parameter timing: told how long each transaction and each statement outside one took
    ///   (`"transaction"` or `"query"`), waiting for locks and connections included.
    public init(database: any SQLDatabase, notifier: any ChangeNotifier,
                timing: (@Sendable (String, Duration) -> Void)? = nil) {
        self.database = timing.map { TimedSQLDatabase(base: database, observe: $0) } ?? database
        self.notifier = notifier
        self.forUpdate = database.dialect.forUpdate
    }

    /// Closes the database. Nothing may be run afterwards.
    public func close() async throws {
        try await database.close()
    }

    // MARK: Accounts and devices

    public func account(named username: String) async throws -> AccountID {
        try StateLimits.check(username, max: StateLimits.maxUsernameLength, "username")
        if let known = accountIds.withLock({ $0[username] }) { return known }
        let id = try await storedAccount(named: username)
        accountIds.withLock { ids in
            if ids.count >= Self.accountIdsKept { ids.removeAll(keepingCapacity: true) }
            ids[username] = id
        }
        return id
    }

    private func storedAccount(named username: String) async throws -> AccountID {
        if let row = try await database.query("SELECT id FROM accounts WHERE username = ?", .text(username)).first {
            return AccountID(try row.int(0))
        }
        return try await database.transaction { db in
            _ = try await db.query("INSERT INTO accounts (username) VALUES (?) ON CONFLICT (username) DO NOTHING",
                                   .text(username))
            let row = try await db.query("SELECT id FROM accounts WHERE username = ?", .text(username))
            guard let id = try row.first?.int(0) else { throw StateStoreError(.corrupt, "account not created") }
            return AccountID(id)
        }
    }

    public func username(of account: AccountID) async throws -> String? {
        try await database.query("SELECT username FROM accounts WHERE id = ?", .integer(account.rawValue))
            .first?.text(0)
    }

    private static let deviceColumns = """
        device_id, device_type, user_agent, information, protocol_version, first_seen, last_seen, policy_key, \
        policy_state, wipe_state, wipe_account_only, access_state, ping_heartbeat, ping_folders, account_id, access_reason, \
        protocol_trace
        """

    private static func device(from row: [SQLValue]) throws -> Device {
        let ref = DeviceRef(account: AccountID(try row.int(14)), deviceId: try row.text(0))
        var device = Device(ref: ref, deviceType: try row.text(1), firstSeen: try row.int(5))
        device.userAgent = try row.optionalText(2)
        device.information = try JSONDecoder().decode(DeviceInformation.self, from: Data(try row.text(3).utf8))
        device.protocolVersion = try row.optionalText(4)
        device.lastSeen = try row.int(6)
        device.policyKey = try row.optionalText(7)
        guard let policy = Device.PolicyState(rawValue: try row.text(8)),
            let wipe = Device.WipeState(rawValue: try row.text(9)),
            let access = Device.AccessState(rawValue: try row.text(11)),
            let reason = Device.AccessReason(rawValue: try row.text(15))
        else { throw StateStoreError(.corrupt, "device states of \(ref)") }
        device.policyState = policy
        device.wipeState = wipe
        device.wipeAccountOnly = try row.int(10) != 0
        device.accessState = access
        device.accessReason = reason
        device.protocolTrace = try row.int(16) != 0
        device.pingHeartbeat = try row.optionalInt(12).map(Int.init)
        device.pingFolderIds = try JSONDecoder().decode([String].self, from: Data(try row.text(13).utf8))
        return device
    }

    public func recordContact(_ contact: DeviceContact) async throws -> Device {
        try StateLimits.check(contact.ref.deviceId, max: StateLimits.maxDeviceIdLength, "DeviceId")
        try StateLimits.check(contact.deviceType, max: StateLimits.maxDeviceTextLength, "DeviceType")
        let account = contact.ref.account.rawValue
        // Every request records its device: one statement. Selecting from accounts makes an
        // unknown account insert nothing, so no row comes back.
        let rows = try await database.query(
            """
            INSERT INTO devices (account_id, device_id, device_type, user_agent, protocol_version, first_seen, last_seen)
            SELECT id, ?, ?, ?, ?, ?, ? FROM accounts WHERE id = ?
            ON CONFLICT (account_id, device_id) DO UPDATE SET
                device_type = excluded.device_type,
                user_agent = COALESCE(excluded.user_agent, devices.user_agent),
                protocol_version = COALESCE(excluded.protocol_version, devices.protocol_version),
                last_seen = CASE WHEN excluded.last_seen > devices.last_seen THEN excluded.last_seen ELSE devices.last_seen END
            RETURNING \(Self.deviceColumns)
            """,
            .text(contact.ref.deviceId), .text(contact.deviceType),
            SQLValue(contact.userAgent.map { StateLimits.clipped($0) }), SQLValue(contact.protocolVersion),
            .integer(contact.at), .integer(contact.at), .integer(account))
        guard let row = rows.first else { throw StateStoreError(.notFound, "\(contact.ref.account)") }
        return try Self.device(from: row)
    }

    public func device(_ ref: DeviceRef) async throws -> Device? {
        try StateLimits.check(ref.deviceId, max: StateLimits.maxDeviceIdLength, "DeviceId")
        return try await database.query(
            "SELECT \(Self.deviceColumns) FROM devices WHERE account_id = ? AND device_id = ?",
            .integer(ref.account.rawValue), .text(ref.deviceId)
        ).first.map(Self.device(from:))
    }

    public func devices(of account: AccountID?) async throws -> [Device] {
        let rows = if let account {
            try await database.query(
                "SELECT \(Self.deviceColumns) FROM devices WHERE account_id = ? ORDER BY account_id, device_id",
                .integer(account.rawValue))
        } else {
            try await database.query("SELECT \(Self.deviceColumns) FROM devices ORDER BY account_id, device_id")
        }
        return try rows.map(Self.device(from:))
    }

    public func deviceCount(of account: AccountID) async throws -> Int {
        Int(try await database.query("SELECT COUNT(*) FROM devices WHERE account_id = ?", .integer(account.rawValue))
            .first?.int(0) ?? 0)
    }

    public func saveDevice(_ device: Device) async throws {
        let information = String(decoding: try JSONEncoder().encode(device.information), as: UTF8.self)
        let folders = String(decoding: try JSONEncoder().encode(device.pingFolderIds), as: UTF8.self)
        let updated = try await database.transaction { db in
            try await db.query(
                """
                UPDATE devices SET device_type = ?, user_agent = ?, information = ?, protocol_version = ?, last_seen = ?,
                    policy_key = ?, policy_state = ?, wipe_state = ?, wipe_account_only = ?, access_state = ?,
                    ping_heartbeat = ?, ping_folders = ?, access_reason = ?, protocol_trace = ?
                WHERE account_id = ? AND device_id = ? RETURNING id
                """,
                .text(device.deviceType), SQLValue(device.userAgent), .text(information), SQLValue(device.protocolVersion),
                .integer(device.lastSeen), SQLValue(device.policyKey), .text(device.policyState.rawValue),
                .text(device.wipeState.rawValue), .integer(device.wipeAccountOnly ? 1 : 0),
                .text(device.accessState.rawValue), SQLValue(device.pingHeartbeat), .text(folders),
                .text(device.accessReason.rawValue), .integer(device.protocolTrace ? 1 : 0),
                .integer(device.ref.account.rawValue), .text(device.ref.deviceId))
        }
        guard !updated.isEmpty else { throw StateStoreError(.notFound, "\(device.ref)") }
    }

    public func removeDevice(_ ref: DeviceRef) async throws {
        try StateLimits.check(ref.deviceId, max: StateLimits.maxDeviceIdLength, "DeviceId")
        _ = try await database.transaction { db in
            try await db.query("DELETE FROM devices WHERE account_id = ? AND device_id = ?",
                               .integer(ref.account.rawValue), .text(ref.deviceId))
        }
    }

    // MARK: Folders

    private static let folderColumns = "folder_id, mailbox_name, uid_validity, folder_type, parent_id"

    private static func folder(from row: [SQLValue]) throws -> Folder {
        Folder(folderId: try row.text(0), mailboxName: try row.text(1), uidValidity: UInt32(truncatingIfNeeded: try row.int(2)),
               type: Int(try row.int(3)), parentId: try row.optionalText(4))
    }

    public func folders(of account: AccountID) async throws -> [Folder] {
        try await database.query(
            "SELECT \(Self.folderColumns) FROM folders WHERE account_id = ? ORDER BY LENGTH(folder_id), folder_id",
            .integer(account.rawValue)
        ).map(Self.folder(from:))
    }

    public func saveFolder(of account: AccountID, mailboxName: String, uidValidity: UInt32, type: Int,
                           parentId: String?) async throws -> Folder {
        try await database.transaction { [forUpdate] db in
            let counter = try await db.query("SELECT next_folder_id FROM accounts WHERE id = ?\(forUpdate)",
                                             .integer(account.rawValue))
            guard let current = try counter.first?.int(0) else { throw StateStoreError(.notFound, "\(account)") }
            let existing = try await db.query(
                "UPDATE folders SET uid_validity = ?, folder_type = ?, parent_id = ? WHERE account_id = ? AND mailbox_name = ? RETURNING \(Self.folderColumns)",
                .integer(Int64(uidValidity)), .integer(Int64(type)), SQLValue(parentId), .integer(account.rawValue),
                .text(mailboxName))
            if let row = existing.first { return try Self.folder(from: row) }
            let folderId = String(current + 1)
            _ = try await db.query("UPDATE accounts SET next_folder_id = ? WHERE id = ?", .integer(current + 1),
                                   .integer(account.rawValue))
            let inserted = try await db.query(
                "INSERT INTO folders (account_id, folder_id, mailbox_name, uid_validity, folder_type, parent_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING \(Self.folderColumns)",
                .integer(account.rawValue), .text(folderId), .text(mailboxName), .integer(Int64(uidValidity)),
                .integer(Int64(type)), SQLValue(parentId))
            guard let row = inserted.first else { throw StateStoreError(.corrupt, "folder not created") }
            return try Self.folder(from: row)
        }
    }

    public func renameFolder(_ folder: FolderRef, mailboxName: String, parentId: String?) async throws {
        let updated = try await database.transaction { db in
            try await db.query(
                "UPDATE folders SET mailbox_name = ?, parent_id = ? WHERE account_id = ? AND folder_id = ? RETURNING folder_id",
                .text(mailboxName), SQLValue(parentId), .integer(folder.account.rawValue), .text(folder.folderId))
        }
        guard !updated.isEmpty else { throw StateStoreError(.notFound, "\(folder)") }
    }

    public func deleteFolder(_ folder: FolderRef) async throws {
        _ = try await database.transaction { db in
            try await db.query("DELETE FROM folders WHERE account_id = ? AND folder_id = ?",
                               .integer(folder.account.rawValue), .text(folder.folderId))
        }
    }

    // MARK: Folder hierarchy keys

    public func hierarchy(_ device: DeviceRef, key: SyncKey) async throws -> HierarchyLookup {
        try Self.check(key)
        if key.isInitial { return .initial }
        let rows = try await database.query(
            """
            SELECT g.sync_key, g.snapshot, d.hierarchy_key FROM hierarchy_generations g
            JOIN devices d ON d.id = g.device_pk WHERE d.account_id = ? AND d.device_id = ? AND g.sync_key = ?
            """,
            .integer(device.account.rawValue), .text(device.deviceId), .text(key.rawValue))
        guard let row = rows.first else { return .unknown }
        let snapshot = try JSONDecoder().decode(HierarchySnapshot.self, from: Data(try row.text(1).utf8))
        return try row.optionalText(2) == key.rawValue
            ? .current(key: key, snapshot: snapshot) : .previous(key: key, snapshot: snapshot)
    }

    public func advanceHierarchy(_ device: DeviceRef, from basis: SyncKey, expectedCurrent: SyncKey?,
                                 to snapshot: HierarchySnapshot) async throws -> SyncKey {
        try Self.check(basis)
        let encoded = String(decoding: try JSONEncoder().encode(snapshot), as: UTF8.self)
        return try await database.transaction { [forUpdate] db in
            let rows = try await db.query(
                "SELECT id, hierarchy_counter, hierarchy_key FROM devices WHERE account_id = ? AND device_id = ?\(forUpdate)",
                .integer(device.account.rawValue), .text(device.deviceId))
            guard let row = rows.first else { throw StateStoreError(.notFound, "\(device)") }
            let devicePK = try row.int(0)
            let counter = try row.int(1)
            let current = try row.optionalText(2)
            guard current == expectedCurrent?.rawValue else { throw StateStoreError(.conflict, "\(device)") }
            if basis.isInitial {
                _ = try await db.query("DELETE FROM hierarchy_generations WHERE device_pk = ?", .integer(devicePK))
            } else {
                let known = try await db.query(
                    "SELECT number FROM hierarchy_generations WHERE device_pk = ? AND sync_key = ?",
                    .integer(devicePK), .text(basis.rawValue))
                guard let number = try known.first?.int(0) else {
                    throw StateStoreError(.unknownSyncKey, basis.rawValue)
                }
                // Keep only the basis: older keys go, and a replay drops the newer one.
                _ = try await db.query("DELETE FROM hierarchy_generations WHERE device_pk = ? AND number <> ?",
                                       .integer(devicePK), .integer(number))
            }
            let number = counter + 1
            let key = SyncKey.make(generation: number)
            _ = try await db.query(
                "INSERT INTO hierarchy_generations (device_pk, number, sync_key, snapshot) VALUES (?, ?, ?, ?)",
                .integer(devicePK), .integer(number), .text(key.rawValue), .text(encoded))
            _ = try await db.query("UPDATE devices SET hierarchy_counter = ?, hierarchy_key = ? WHERE id = ?",
                                   .integer(number), .text(key.rawValue), .integer(devicePK))
            return key
        }
    }

    // MARK: Change log

    public func logState(_ folder: FolderRef) async throws -> FolderLogState {
        let rows = try await database.query(
            "SELECT watermark_uid_validity, watermark_modseq, watermark_uid_next, log_head FROM folders WHERE account_id = ? AND folder_id = ?",
            .integer(folder.account.rawValue), .text(folder.folderId))
        guard let row = rows.first else { throw StateStoreError(.notFound, "\(folder)") }
        return FolderLogState(watermark: try Self.watermark(row), head: try row.int(3))
    }

    private static func watermark(_ row: [SQLValue]) throws -> MailboxWatermark? {
        guard let validity = try row.optionalInt(0), let modSeq = try row.optionalInt(1), let next = try row.optionalInt(2)
        else { return nil }
        return MailboxWatermark(uidValidity: UInt32(truncatingIfNeeded: validity), highestModSeq: UInt64(modSeq),
                                uidNext: UInt32(truncatingIfNeeded: next))
    }

    @discardableResult
    public func appendChanges(_ folder: FolderRef, _ entries: [ChangeEntry], watermark: MailboxWatermark) async throws
        -> Int64 {
        let head = try await database.transaction { [forUpdate] db in
            let rows = try await db.query(
                "SELECT log_head FROM folders WHERE account_id = ? AND folder_id = ?\(forUpdate)",
                .integer(folder.account.rawValue), .text(folder.folderId))
            guard var head = try rows.first?.int(0) else { throw StateStoreError(.notFound, "\(folder)") }
            var index = 0
            while index < entries.count {
                let batch = entries[index..<min(index + Self.batchSize, entries.count)]
                var binds: [SQLValue] = []
                binds.reserveCapacity(batch.count * 7)
                for entry in batch {
                    head += 1
                    binds += [.integer(folder.account.rawValue), .text(folder.folderId), .integer(head),
                              .text(entry.kind.rawValue), .integer(Int64(entry.uid)), .integer(Int64(entry.modSeq)),
                              .text(entry.flags.joined(separator: " "))]
                }
                let values = Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: batch.count).joined(separator: ", ")
                _ = try await db.query(
                    "INSERT INTO change_log (account_id, folder_id, seq, kind, uid, modseq, flags) VALUES \(values)", binds)
                index += batch.count
            }
            _ = try await db.query(
                "UPDATE folders SET log_head = ?, watermark_uid_validity = ?, watermark_modseq = ?, watermark_uid_next = ? WHERE account_id = ? AND folder_id = ?",
                .integer(head), .integer(Int64(watermark.uidValidity)), .integer(Int64(watermark.highestModSeq)),
                .integer(Int64(watermark.uidNext)), .integer(folder.account.rawValue), .text(folder.folderId))
            if !entries.isEmpty { try await self.broadcast(db, folder) }
            return head
        }
        if !entries.isEmpty {
            notifier.post(ChangeNotification(account: folder.account, folderIds: [folder.folderId]))
        }
        return head
    }

    public func changes(_ folder: FolderRef, after sequence: Int64, limit: Int) async throws -> [LoggedChange] {
        let rows = try await database.query(
            "SELECT seq, kind, uid, modseq, flags FROM change_log WHERE account_id = ? AND folder_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            .integer(folder.account.rawValue), .text(folder.folderId), .integer(sequence), .integer(Int64(max(0, limit))))
        return try rows.map { row in
            guard let kind = ChangeEntry.Kind(rawValue: try row.text(1)) else {
                throw StateStoreError(.corrupt, "change kind \(row[1])")
            }
            let flags = try row.text(4).split(separator: " ").map(String.init)
            return LoggedChange(sequence: try row.int(0),
                                entry: ChangeEntry(kind: kind, uid: MessageUID(truncatingIfNeeded: try row.int(2)),
                                                   modSeq: UInt64(try row.int(3)), flags: flags))
        }
    }

    public func resetLog(_ folder: FolderRef, watermark: MailboxWatermark) async throws {
        try await database.transaction { [forUpdate] db in
            let rows = try await db.query(
                "SELECT log_head FROM folders WHERE account_id = ? AND folder_id = ?\(forUpdate)",
                .integer(folder.account.rawValue), .text(folder.folderId))
            guard !rows.isEmpty else { throw StateStoreError(.notFound, "\(folder)") }
            let binds: [SQLValue] = [.integer(folder.account.rawValue), .text(folder.folderId)]
            _ = try await db.query("DELETE FROM change_log WHERE account_id = ? AND folder_id = ?", binds)
            _ = try await db.query("DELETE FROM collections WHERE account_id = ? AND folder_id = ?", binds)
            _ = try await db.query(
                "UPDATE folders SET uid_validity = ?, watermark_uid_validity = ?, watermark_modseq = ?, watermark_uid_next = ? WHERE account_id = ? AND folder_id = ?",
                [.integer(Int64(watermark.uidValidity)), .integer(Int64(watermark.uidValidity)),
                 .integer(Int64(watermark.highestModSeq)), .integer(Int64(watermark.uidNext))] + binds)
            try await self.broadcast(db, folder)
        }
        notifier.post(ChangeNotification(account: folder.account, folderIds: [folder.folderId]))
    }

    public func compact(_ account: AccountID, silentBefore: Int64, maxLag: Int64) async throws -> CompactionReport {
        try await database.transaction { [forUpdate] db in
            let folderRows = try await db.query(
                "SELECT folder_id, log_head FROM folders WHERE account_id = ?\(forUpdate)", .integer(account.rawValue))
            var report = CompactionReport()
            for folderRow in folderRows {
                let folderId = try folderRow.text(0)
                let head = try folderRow.int(1)
                let collections = try await db.query(
                    """
                    SELECT c.device_pk, d.device_id, d.last_seen, MIN(g.cursor) FROM collections c
                    JOIN devices d ON d.id = c.device_pk
                    LEFT JOIN collection_generations g ON g.device_pk = c.device_pk AND g.folder_id = c.folder_id
                    WHERE c.account_id = ? AND c.folder_id = ?
                    GROUP BY c.device_pk, d.device_id, d.last_seen
                    """,
                    .integer(account.rawValue), .text(folderId))
                var lowest = head
                for row in collections {
                    let oldestCursor = try row.optionalInt(3) ?? head
                    if try row.int(2) < silentBefore || head - oldestCursor > maxLag {
                        _ = try await db.query("DELETE FROM collections WHERE device_pk = ? AND folder_id = ?",
                                               .integer(try row.int(0)), .text(folderId))
                        let device = DeviceRef(account: account, deviceId: try row.text(1))
                        report.resetCollections.append(CollectionRef(device: device, folderId: folderId))
                    } else {
                        lowest = min(lowest, oldestCursor)
                    }
                }
                let removed = try await db.query(
                    "DELETE FROM change_log WHERE account_id = ? AND folder_id = ? AND seq <= ? RETURNING seq",
                    .integer(account.rawValue), .text(folderId), .integer(lowest))
                report.removedEntries += removed.count
                // Tombstones of generations older than the current one can no longer be undone.
                _ = try await db.query(
                    """
                    DELETE FROM held_messages WHERE folder_id = ? AND removed_in IS NOT NULL AND removed_in < (
                        SELECT c.counter FROM collections c
                        WHERE c.device_pk = held_messages.device_pk AND c.folder_id = held_messages.folder_id AND c.account_id = ?)
                    """,
                    .text(folderId), .integer(account.rawValue))
            }
            report.resetCollections.sort { $0.description < $1.description }
            return report
        }
    }

    // MARK: Collections

    private static let generationColumns = "sync_key, number, cursor, initial_position, filter_type, options"

    private static func generation(from row: [SQLValue]) throws -> CollectionGeneration {
        CollectionGeneration(key: SyncKey(try row.text(0)), number: try row.int(1), cursor: try row.int(2),
                             initialSyncPosition: try row.optionalText(3), filterType: try row.optionalInt(4).map(Int.init),
                             options: try row.optionalText(5))
    }

    public func collection(_ collection: CollectionRef, key: SyncKey) async throws -> CollectionLookup {
        try StateLimits.check(collection)
        try Self.check(key)
        if key.isInitial { return .initial }
        let rows = try await database.query(
            """
            SELECT g.sync_key, g.number, g.cursor, g.initial_position, g.filter_type, g.options, c.current_key
            FROM collection_generations g
            JOIN collections c ON c.device_pk = g.device_pk AND c.folder_id = g.folder_id
            JOIN devices d ON d.id = c.device_pk
            WHERE d.account_id = ? AND d.device_id = ? AND g.folder_id = ? AND g.sync_key = ?
            """,
            .integer(collection.device.account.rawValue), .text(collection.device.deviceId), .text(collection.folderId),
            .text(key.rawValue))
        guard let row = rows.first else { return .unknown }
        let generation = try Self.generation(from: row)
        return try row.optionalText(6) == key.rawValue ? .current(generation) : .previous(generation)
    }

    /// The collection row, locked, with the generation number `basis` names (if any).
    /// Creates the row on first use; throws `.notFound` if the device or folder does not exist.
    private func lockCollection(_ db: any SQLExecutor, _ collection: CollectionRef, basis: SyncKey?) async throws
        -> (devicePK: Int64, counter: Int64, currentKey: String?, basisNumber: Int64?) {
        let lock = database.dialect == .postgres ? " FOR UPDATE OF c" : ""
        let select = """
            SELECT c.device_pk, c.counter, c.current_key,
                (SELECT g.number FROM collection_generations g
                 WHERE g.device_pk = c.device_pk AND g.folder_id = c.folder_id AND g.sync_key = ?)
            FROM collections c JOIN devices d ON d.id = c.device_pk
            WHERE d.account_id = ? AND d.device_id = ? AND c.folder_id = ?\(lock)
            """
        let binds: [SQLValue] = [.text(basis?.rawValue ?? ""), .integer(collection.device.account.rawValue),
                                 .text(collection.device.deviceId), .text(collection.folderId)]
        var rows = try await db.query(select, binds)
        if rows.isEmpty {
            // First use: create it, if the device and the folder exist.
            _ = try await db.query(
                """
                INSERT INTO collections (device_pk, account_id, folder_id)
                SELECT d.id, d.account_id, f.folder_id FROM devices d JOIN folders f ON f.account_id = d.account_id
                WHERE d.account_id = ? AND d.device_id = ? AND f.folder_id = ?
                ON CONFLICT (device_pk, folder_id) DO NOTHING
                """,
                Array(binds.dropFirst()))
            rows = try await db.query(select, binds)
        }
        guard let row = rows.first else { throw StateStoreError(.notFound, "\(collection)") }
        return (try row.int(0), try row.int(1), try row.optionalText(2), try row.optionalInt(3))
    }

    public func currentHierarchyKey(_ device: DeviceRef) async throws -> SyncKey? {
        let rows = try await database.query(
            "SELECT hierarchy_key FROM devices WHERE account_id = ? AND device_id = ?",
            [.integer(device.account.rawValue), .text(device.deviceId)])
        return try rows.first?.optionalText(0).map(SyncKey.init)
    }

    public func currentCollectionKey(_ collection: CollectionRef) async throws -> SyncKey? {
        let rows = try await database.query(
            """
            SELECT c.current_key FROM collections c JOIN devices d ON d.id = c.device_pk
            WHERE d.account_id = ? AND d.device_id = ? AND c.folder_id = ?
            """,
            [.integer(collection.device.account.rawValue), .text(collection.device.deviceId), .text(collection.folderId)])
        return try rows.first?.optionalText(0).map(SyncKey.init)
    }

    public func advanceCollection(_ collection: CollectionRef, from basis: SyncKey, expectedCurrent: SyncKey?,
                                  to advance: CollectionAdvance) async throws -> CollectionGeneration {
        try StateLimits.check(collection)
        try Self.check(basis)
        return try await database.transaction { db in
            let (devicePK, counter, currentKey, basisNumber) = try await self.lockCollection(db, collection, basis: basis)
            guard currentKey == expectedCurrent?.rawValue else { throw StateStoreError(.conflict, "\(collection)") }
            let scope: [SQLValue] = [.integer(devicePK), .text(collection.folderId)]
            if basis.isInitial {
                _ = try await db.query("DELETE FROM collection_generations WHERE device_pk = ? AND folder_id = ?", scope)
                _ = try await db.query("DELETE FROM held_messages WHERE device_pk = ? AND folder_id = ?", scope)
            } else {
                guard let basisNumber else { throw StateStoreError(.unknownSyncKey, basis.rawValue) }
                if basis.rawValue != currentKey {
                    // A replay of the previous key: undo what the current generation gave and took.
                    _ = try await db.query("DELETE FROM held_messages WHERE device_pk = ? AND folder_id = ? AND added_in = ?",
                                           scope + [.integer(counter)])
                    _ = try await db.query(
                        "UPDATE held_messages SET removed_in = NULL WHERE device_pk = ? AND folder_id = ? AND removed_in = ?",
                        scope + [.integer(counter)])
                }
                _ = try await db.query(
                    "DELETE FROM collection_generations WHERE device_pk = ? AND folder_id = ? AND number <> ?",
                    scope + [.integer(basisNumber)])
            }

            let number = counter + 1
            try await self.recordHeld(db, scope, generation: number, added: advance.added, removed: advance.removed)
            let generation = CollectionGeneration(
                key: SyncKey.make(generation: number), number: number, cursor: advance.cursor,
                initialSyncPosition: advance.initialSyncPosition, filterType: advance.filterType, options: advance.options)
            _ = try await db.query(
                "INSERT INTO collection_generations (device_pk, folder_id, number, sync_key, cursor, initial_position, filter_type, options) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                scope + [.integer(number), .text(generation.key.rawValue), .integer(advance.cursor),
                         SQLValue(advance.initialSyncPosition), SQLValue(advance.filterType), SQLValue(advance.options)])
            _ = try await db.query(
                "UPDATE collections SET counter = ?, current_key = ? WHERE device_pk = ? AND folder_id = ?",
                [.integer(number), .text(generation.key.rawValue)] + scope)
            return generation
        }
    }

    /// Records what generation `number` gives and takes. Rows it adds carry its number, rows it
    /// takes are marked with it, so that undoing it is one DELETE and one UPDATE. A message it
    /// gives back after an older generation took it replaces that tombstone (which no replay can
    /// need any more).
    private func recordHeld(_ db: any SQLExecutor, _ scope: [SQLValue], generation number: Int64,
                            added: [MessageUID], removed: [MessageUID]) async throws {
        for batch in added.chunked(Self.batchSize) {
            let values = Array(repeating: "(?, ?, ?, ?)", count: batch.count).joined(separator: ", ")
            let binds = batch.flatMap { scope + [.integer(Int64($0)), .integer(number)] }
            _ = try await db.query(
                """
                INSERT INTO held_messages (device_pk, folder_id, uid, added_in) VALUES \(values)
                ON CONFLICT (device_pk, folder_id, uid) DO UPDATE SET added_in = excluded.added_in, removed_in = NULL
                WHERE held_messages.removed_in IS NOT NULL
                """,
                binds)
        }
        let addedSet = Set(added)
        for batch in removed.filter({ !addedSet.contains($0) }).chunked(Self.batchSize) {
            let list = Array(repeating: "?", count: batch.count).joined(separator: ", ")
            _ = try await db.query(
                "UPDATE held_messages SET removed_in = ? WHERE device_pk = ? AND folder_id = ? AND removed_in IS NULL AND uid IN (\(list))",
                [.integer(number)] + scope + batch.map { .integer(Int64($0)) })
        }
    }

    public func heldMessages(_ collection: CollectionRef) async throws -> Set<MessageUID> {
        let rows = try await database.query(
            """
            SELECT h.uid FROM held_messages h JOIN devices d ON d.id = h.device_pk
            WHERE d.account_id = ? AND d.device_id = ? AND h.folder_id = ? AND h.removed_in IS NULL
            """,
            .integer(collection.device.account.rawValue), .text(collection.device.deviceId), .text(collection.folderId))
        return Set(try rows.map { MessageUID(truncatingIfNeeded: try $0.int(0)) })
    }

    public func heldMessages(_ collection: CollectionRef, asOf number: Int64) async throws -> Set<MessageUID> {
        let rows = try await database.query(
            """
            SELECT h.uid FROM held_messages h JOIN devices d ON d.id = h.device_pk
            WHERE d.account_id = ? AND d.device_id = ? AND h.folder_id = ? AND h.added_in <= ?
              AND (h.removed_in IS NULL OR h.removed_in > ?)
            """,
            .integer(collection.device.account.rawValue), .text(collection.device.deviceId), .text(collection.folderId),
            .integer(number), .integer(number))
        return Set(try rows.map { MessageUID(truncatingIfNeeded: try $0.int(0)) })
    }

    public func heldMessages(_ collection: CollectionRef, among uids: Set<MessageUID>, asOf number: Int64?) async throws
        -> Set<MessageUID>
    {
        guard !uids.isEmpty else { return [] }
        let rows = try await database.query(
            "SELECT d.id FROM devices d WHERE d.account_id = ? AND d.device_id = ?",
            .integer(collection.device.account.rawValue), .text(collection.device.deviceId))
        guard let devicePK = try rows.first?.int(0) else { return [] }
        let generation = number == nil ? "AND removed_in IS NULL" : "AND added_in <= ? AND (removed_in IS NULL OR removed_in > ?)"
        let generationBinds: [SQLValue] = number.map { [.integer($0), .integer($0)] } ?? []
        var held: Set<MessageUID> = []
        let sorted = uids.sorted()
        if let low = sorted.first, let high = sorted.last, Int(high - low) < sorted.count * 4 {
            // A dense set (the enumeration's UID windows): one range read of the primary key
            // costs less than parsing and binding hundreds of parameters.
            let found = try await database.query(
                "SELECT uid FROM held_messages WHERE device_pk = ? AND folder_id = ? \(generation) AND uid BETWEEN ? AND ?",
                [.integer(devicePK), .text(collection.folderId)] + generationBinds + [.integer(Int64(low)), .integer(Int64(high))])
            for row in found {
                let uid = MessageUID(truncatingIfNeeded: try row.int(0))
                if uids.contains(uid) { held.insert(uid) }
            }
            return held
        }
        for batch in sorted.chunked(Self.batchSize) {
            let list = Array(repeating: "?", count: batch.count).joined(separator: ", ")
            let found = try await database.query(
                "SELECT uid FROM held_messages WHERE device_pk = ? AND folder_id = ? \(generation) AND uid IN (\(list))",
                [.integer(devicePK), .text(collection.folderId)] + generationBinds + batch.map { .integer(Int64($0)) })
            for row in found { held.insert(MessageUID(truncatingIfNeeded: try row.int(0))) }
        }
        return held
    }

    public func countKeyUse(_ collection: CollectionRef, key: SyncKey) async throws -> Int {
        try StateLimits.check(collection)
        try Self.check(key)
        return try await database.transaction { db in
            let (devicePK, _, _, _) = try await self.lockCollection(db, collection, basis: nil)
            let rows = try await db.query(
                """
                UPDATE collections SET
                    presented_count = CASE WHEN last_presented_key = ? THEN presented_count + 1 ELSE 1 END,
                    last_presented_key = ?
                WHERE device_pk = ? AND folder_id = ? RETURNING presented_count
                """,
                .text(key.rawValue), .text(key.rawValue), .integer(devicePK), .text(collection.folderId))
            return Int(try rows.first?.int(0) ?? 1)
        }
    }

    // MARK: ClientId map

    public func serverId(_ device: DeviceRef, scope: String, clientId: String) async throws -> String? {
        try StateLimits.check(clientId, max: StateLimits.maxClientIdLength, "ClientId")
        return try await database.query(
            """
            SELECT m.server_id FROM client_ids m JOIN devices d ON d.id = m.device_pk
            WHERE d.account_id = ? AND d.device_id = ? AND m.scope = ? AND m.client_id = ?
            """,
            .integer(device.account.rawValue), .text(device.deviceId), .text(scope), .text(clientId)
        ).first?.text(0)
    }

    public func recordClientId(_ device: DeviceRef, scope: String, clientId: String, serverId: String) async throws
        -> String {
        try StateLimits.check(clientId, max: StateLimits.maxClientIdLength, "ClientId")
        return try await database.transaction { db in
            let rows = try await db.query("SELECT id FROM devices WHERE account_id = ? AND device_id = ?",
                                          .integer(device.account.rawValue), .text(device.deviceId))
            guard let devicePK = try rows.first?.int(0) else { throw StateStoreError(.notFound, "\(device)") }
            _ = try await db.query(
                "INSERT INTO client_ids (device_pk, scope, client_id, server_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                .integer(devicePK), .text(scope), .text(clientId), .text(serverId))
            let recorded = try await db.query(
                "SELECT server_id FROM client_ids WHERE device_pk = ? AND scope = ? AND client_id = ?",
                .integer(devicePK), .text(scope), .text(clientId))
            guard let value = try recorded.first?.text(0) else { throw StateStoreError(.corrupt, "client id not recorded") }
            return value
        }
    }

    public func adjustHeld(_ collection: CollectionRef, adding: [MessageUID], removing: [MessageUID]) async throws {
        try StateLimits.check(collection)
        guard !adding.isEmpty || !removing.isEmpty else { return }
        let lock = database.dialect == .postgres ? " FOR UPDATE OF c" : ""
        try await database.transaction { db in
            let rows = try await db.query(
                """
                SELECT c.device_pk, g.number FROM collections c JOIN devices d ON d.id = c.device_pk
                JOIN collection_generations g ON g.device_pk = c.device_pk AND g.folder_id = c.folder_id AND g.sync_key = c.current_key
                WHERE d.account_id = ? AND d.device_id = ? AND c.folder_id = ?\(lock)
                """,
                .integer(collection.device.account.rawValue), .text(collection.device.deviceId), .text(collection.folderId))
            guard let row = rows.first else { return }
            let (devicePK, number) = (try row.int(0), try row.int(1))
            for uid in removing {
                _ = try await db.query(
                    "UPDATE held_messages SET removed_in = ? WHERE device_pk = ? AND folder_id = ? AND uid = ? AND removed_in IS NULL",
                    .integer(number), .integer(devicePK), .text(collection.folderId), .integer(Int64(uid)))
            }
            for uid in adding {
                _ = try await db.query(
                    "INSERT INTO held_messages (device_pk, folder_id, uid, added_in) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    .integer(devicePK), .text(collection.folderId), .integer(Int64(uid)), .integer(number))
            }
        }
    }

    // MARK: Resync

    public func resetSyncState(_ device: DeviceRef, folderId: String?) async throws {
        try StateLimits.check(device.deviceId, max: StateLimits.maxDeviceIdLength, "DeviceId")
        if let folderId { try StateLimits.check(CollectionRef(device: device, folderId: folderId)) }
        try await database.transaction { db in
            let rows = try await db.query("SELECT id FROM devices WHERE account_id = ? AND device_id = ?",
                                          .integer(device.account.rawValue), .text(device.deviceId))
            guard let devicePK = try rows.first?.int(0) else { throw StateStoreError(.notFound, "\(device)") }
            // "folder_id = ?" or every folder: the same statements either way.
            let scope = folderId == nil ? "" : " AND folder_id = ?"
            var binds: [SQLValue] = [.integer(devicePK)]
            if let folderId { binds.append(.text(folderId)) }
            _ = try await db.query("DELETE FROM held_messages WHERE device_pk = ?\(scope)", binds)
            _ = try await db.query("DELETE FROM collection_generations WHERE device_pk = ?\(scope)", binds)
            _ = try await db.query(
                "UPDATE collections SET current_key = NULL, last_presented_key = NULL, presented_count = 0 WHERE device_pk = ?\(scope)",
                binds)
            if folderId == nil {
                _ = try await db.query("DELETE FROM hierarchy_generations WHERE device_pk = ?", .integer(devicePK))
                _ = try await db.query("UPDATE devices SET hierarchy_key = NULL WHERE id = ?", .integer(devicePK))
            }
        }
    }

    // MARK: Trackers across nodes

    public var sharedByNodes: Bool { database.dialect == .postgres }

    public func claimTrackerLease(_ account: AccountID, node: String, now: Int64, expiresAt: Int64) async throws -> Bool {
        try await database.transaction { db in
            _ = try await db.query(
                """
                INSERT INTO tracker_leases (account_id, node_id, expires_at) VALUES (?, ?, ?)
                ON CONFLICT (account_id) DO UPDATE SET node_id = excluded.node_id, expires_at = excluded.expires_at
                WHERE tracker_leases.node_id = excluded.node_id OR tracker_leases.expires_at < ?
                """,
                .integer(account.rawValue), .text(node), .integer(expiresAt), .integer(now))
            let holder = try await db.query("SELECT node_id FROM tracker_leases WHERE account_id = ?", .integer(account.rawValue))
            return try holder.first?.text(0) == node
        }
    }

    public func releaseTrackerLease(_ account: AccountID, node: String) async throws {
        _ = try await database.transaction { db in
            try await db.query("DELETE FROM tracker_leases WHERE account_id = ? AND node_id = ?",
                               .integer(account.rawValue), .text(node))
        }
    }

    public func noteTrackedFolders(_ account: AccountID, folderIds: [String], at time: Int64) async throws {
        guard !folderIds.isEmpty else { return }
        try await database.transaction { db in
            for folderId in folderIds {
                _ = try await db.query(
                    """
                    INSERT INTO tracked_folders (account_id, folder_id, noted_at) VALUES (?, ?, ?)
                    ON CONFLICT (account_id, folder_id) DO UPDATE SET noted_at = excluded.noted_at
                    """,
                    .integer(account.rawValue), .text(folderId), .integer(time))
            }
        }
    }

    public func trackedFolders(_ account: AccountID, since: Int64) async throws -> [String] {
        try await database.query("SELECT folder_id FROM tracked_folders WHERE account_id = ? AND noted_at >= ? ORDER BY folder_id",
                                 .integer(account.rawValue), .integer(since)).map { try $0.text(0) }
    }

    /// Tells other processes about a change, when the notifier reaches them through the database.
    private func broadcast(_ db: any SQLExecutor, _ folder: FolderRef) async throws {
        guard let broadcaster = notifier as? any SQLChangeBroadcaster else { return }
        let payload = broadcaster.broadcastPayload(ChangeNotification(account: folder.account, folderIds: [folder.folderId]))
        _ = try await db.query("SELECT pg_notify(?, ?)", .text(broadcaster.broadcastChannel), .text(payload))
    }

    private static func check(_ key: SyncKey) throws {
        try StateLimits.check(key.rawValue, max: StateLimits.maxSyncKeyLength, "SyncKey")
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
