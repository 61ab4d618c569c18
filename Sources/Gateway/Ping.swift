import CancellableSleep
import EASProtocol
import MailUpstream
import SyncState

/// [MS-ASCMD] 2.2.1.13 Ping: holds the request until a watched folder changes or the
/// heartbeat ends. A held Ping is a suspended task: no thread, and IMAP only through the
/// account's watcher.
extension Gateway {
    typealias PG = EASTag.Ping

    /// [MS-ASCMD] 2.2.3.177.11 Ping Status values.
    enum PingStatus {
        static let expired = "1"
        static let changes = "2"
        static let missingParameters = "3"
        static let syntaxError = "4"
        static let badHeartbeat = "5"
        static let tooManyFolders = "6"
        static let folderSyncNeeded = "7"
    }

    func ping(_ context: RequestContext) async throws -> EASResponse {
        func status(_ value: String, _ extra: [EASElement] = []) -> EASResponse {
            .ok(EASElement(PG.ping, children: [EASElement(PG.status, text: value)] + extra))
        }
        var request = PingRequest()
        if let body = context.request.body {
            guard let parsed = try? PingRequest(body) else { return status(PingStatus.syntaxError) }
            request = parsed
        }
        var device = context.device
        let heartbeat = request.heartbeatInterval ?? device.pingHeartbeat
        let folderIds = request.folders?.map(\.id) ?? (device.pingFolderIds.isEmpty ? nil : device.pingFolderIds)
        guard let heartbeat, let folderIds, !folderIds.isEmpty else { return status(PingStatus.missingParameters) }
        if heartbeat < configuration.heartbeatBounds.lowerBound {
            return status(PingStatus.badHeartbeat, [EASElement(PG.heartbeatInterval, text: String(configuration.heartbeatBounds.lowerBound))])
        }
        if heartbeat > configuration.heartbeatBounds.upperBound {
            return status(PingStatus.badHeartbeat, [EASElement(PG.heartbeatInterval, text: String(configuration.heartbeatBounds.upperBound))])
        }
        if folderIds.count > configuration.maxPingFolders {
            return status(PingStatus.tooManyFolders, [EASElement(PG.maxFolders, text: String(configuration.maxPingFolders))])
        }
        let folders = Dictionary(try await store.folders(of: context.accountId).map { ($0.folderId, $0) },
                                 uniquingKeysWith: { first, _ in first })
        let known = folderIds.filter { $0 != VirtualOutbox.folderId }
        guard known.allSatisfy({ folders[$0] != nil }) else { return status(PingStatus.folderSyncNeeded) }
        if device.pingHeartbeat != heartbeat || device.pingFolderIds != folderIds {
            device.pingHeartbeat = heartbeat
            device.pingFolderIds = folderIds
            try await store.saveDevice(device)
        }
        let watched = known.compactMap { folders[$0] }
        // Subscribe before looking, so that a change between the look and the wait is not lost.
        let notifications = notifier.subscribe(context.accountId)
        let changed = try await foldersWithChanges(watched, catchUp: true, context: context)
        if !changed.isEmpty { return Self.pingChanges(changed) }

        // The account's tracker (IDLE on the Inbox, polling for the rest) appends to the logs;
        // their notifications end the wait below.
        await trackers.touch(context.accountId, mail: context.account, folders: watched)
        await trackers.beginWait(context.accountId)
        metrics.pingHeld(1)
        defer { metrics.pingHeld(-1) }
        let outcome = await holdRequest(of: context.deviceRef, for: .seconds(heartbeat), notifications: notifications) { notice -> [String]? in
            let hit = notice.folderIds.filter { known.contains($0) }
            // The notice means the log grew: compare with it, no need to ask IMAP again.
            guard !hit.isEmpty, let changed = try? await self.foldersWithChanges(watched.filter { hit.contains($0.folderId) },
                                                                                 catchUp: false, context: context),
                  !changed.isEmpty
            else { return nil }
            self.metrics.pushLatency(.milliseconds(max(0, Gateway.wallClockMilliseconds() - notice.loggedAt)))
            return changed
        }
        await trackers.endWait(context.accountId)
        return outcome.map(Self.pingChanges) ?? status(PingStatus.expired)
    }

    /// Holds a request (a Ping, a Sync with Wait) until `found` makes something of one of the
    /// account's change notifications, `duration` passes, or a newer held request of the
    /// device begins (nil for both). One task reads the notifications; the timer and the hub
    /// end the wait without a task of their own: a held request is mostly its memory.
    func holdRequest<Found: Sendable>(of device: DeviceRef, for duration: Duration,
                                      notifications: AsyncStream<ChangeNotification>,
                                      until found: @escaping @Sendable (ChangeNotification) async -> Found?) async -> Found? {
        let (ends, end) = AsyncStream.makeStream(of: Found?.self, bufferingPolicy: .bufferingOldest(1))
        let ticket = await pings.begin(device, superseded: { end.yield(nil) })
        let timer = CancellableTimer(after: duration) { end.yield(nil) }
        let outcome = await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await notice in notifications {
                    if let result = await found(notice) {
                        end.yield(result)
                        return
                    }
                }
            }
            var first: Found?
            for await event in ends {
                first = event
                break
            }
            group.cancelAll()
            return first
        }
        timer.cancel()
        await pings.end(ticket)
        return outcome
    }

    static func pingChanges(_ folderIds: [String]) -> EASResponse {
        .ok(EASElement(PG.ping, children: [
            EASElement(PG.status, text: PingStatus.changes),
            EASElement(PG.folders, children: folderIds.map { EASElement(PG.folder, text: $0) }),
        ]))
    }

    /// Folders whose log has entries the device's collection has not seen, after bringing the
    /// logs up to date with the server when `catchUp`. Folders the device never synced are
    /// ignored ([MS-ASCMD]: a Ping on them does not fail).
    func foldersWithChanges(_ folders: [Folder], catchUp: Bool, context: RequestContext) async throws -> [String] {
        var changed: [String] = []
        for folder in folders {
            let ref = CollectionRef(device: context.deviceRef, folderId: folder.folderId)
            guard let key = try await store.currentCollectionKey(ref),
                  case .current(let generation) = try await store.collection(ref, key: key)
            else { continue }
            let log = catchUp
                ? try await logs.catchUp(ref.folder, mailbox: IMAPMailboxName(wire: folder.mailboxName), session: context.session)
                : try await store.logState(ref.folder)
            if log.head > generation.cursor || generation.initialSyncPosition != nil { changed.append(folder.folderId) }
        }
        return changed
    }
}

/// One held Ping per device: a newer Ping ends the older one ([MS-ASCMD] 2.2.1.13).
actor PingHub {
    struct Ticket: Hashable, Sendable {
        var device: DeviceRef
        var number: Int
    }

    private var current: [DeviceRef: Int] = [:]
    /// How to end each held wait early: called once, when a newer one of the device begins.
    private var superseders: [Ticket: @Sendable () -> Void] = [:]
    private var next = 0

    /// Registers a wait; an older one of the same device is told to end. `superseded` is
    /// called if a newer one begins before `end`.
    func begin(_ device: DeviceRef, superseded: @escaping @Sendable () -> Void = {}) -> Ticket {
        next += 1
        if let older = current[device] { superseders.removeValue(forKey: Ticket(device: device, number: older))?() }
        current[device] = next
        let ticket = Ticket(device: device, number: next)
        superseders[ticket] = superseded
        return ticket
    }

    func end(_ ticket: Ticket) {
        if current[ticket.device] == ticket.number { current[ticket.device] = nil }
        superseders[ticket] = nil
    }

    /// Pings held now.
    var heldCount: Int { current.count }
}
