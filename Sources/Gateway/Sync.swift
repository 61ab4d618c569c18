import EASProtocol
import MailUpstream
import SyncState

/// [MS-ASCMD] 2.2.1.21 Sync, server to client: initial enumeration newest first, then the
/// change log; keys, replays, windows and the byte budget.
extension Gateway {
    typealias AS = EASTag.AirSync

    /// [MS-ASCMD] 2.2.3.177.17 Sync Status values used here.
    enum SyncStatus {
        static let success = "1"
        static let invalidSyncKey = "3"
        static let protocolError = "4"
        static let folderHierarchyChanged = "12"
        static let emptyRequestNothingCached = "13"
        static let invalidWaitOrHeartbeat = "14"
    }

    /// Repeats of one key before the window shrinks.
    static let loopRepeats = 3

    /// Window sizes ([MS-ASCMD] 2.2.3.194): absent 100, 0 or above 512 means 512.
    static func windowSize(_ value: Int?) -> Int {
        guard let value else { return 100 }
        return value <= 0 || value > 512 ? 512 : value
    }

    func sync(_ context: RequestContext) async throws -> EASResponse {
        var request: SyncRequest
        if let body = context.request.body {
            do {
                request = try SyncRequest(body)
            } catch {
                return .ok(EASElement(AS.sync, children: [EASElement(AS.status, text: SyncStatus.protocolError)]))
            }
        } else {
            request = SyncRequest(collections: nil)
        }
        // An empty or partial Sync reuses what the device asked for last time.
        if request.collections == nil || request.partial {
            guard let cached = await syncCache.request(for: context.deviceRef) else {
                return .ok(EASElement(AS.sync, children: [EASElement(AS.status, text: SyncStatus.emptyRequestNothingCached)]))
            }
            request.collections = Self.merge(cached: cached.collections ?? [], partial: request.collections ?? [])
            request.windowSize = request.windowSize ?? cached.windowSize
        }
        // [MS-ASCMD] 2.2.3.188 Wait (minutes) and 2.2.3.84 HeartbeatInterval (seconds): a Sync
        // with nothing to say waits like a Ping. Out of range: Status 14 with the limit.
        var hold: Duration?
        if let wait = request.wait {
            guard (1...59).contains(wait) else {
                return .ok(EASElement(AS.sync, children: [EASElement(AS.status, text: SyncStatus.invalidWaitOrHeartbeat),
                                                         EASElement(AS.limit, text: wait < 1 ? "1" : "59")]))
            }
            hold = .seconds(wait * 60)
        } else if let heartbeat = request.heartbeatInterval {
            guard configuration.heartbeatBounds.contains(heartbeat) else {
                let limit = heartbeat < configuration.heartbeatBounds.lowerBound ? configuration.heartbeatBounds.lowerBound
                    : configuration.heartbeatBounds.upperBound
                return .ok(EASElement(AS.sync, children: [EASElement(AS.status, text: SyncStatus.invalidWaitOrHeartbeat),
                                                         EASElement(AS.limit, text: String(limit))]))
            }
            hold = .seconds(heartbeat)
        }
        // Subscribed before the first look, so that a change between the look and the wait counts.
        let notifications = hold == nil ? nil : notifier.subscribe(context.accountId)
        var collections = try await syncPass(&request, context: context)
        if collections.isEmpty, let hold, let notifications {
            let ids = Set((request.collections ?? []).map(\.collectionId))
            let woken = await holdRequest(of: context.deviceRef, for: hold, notifications: notifications) { notice in
                notice.folderIds.contains(where: ids.contains) ? true : nil
            } ?? false
            if woken { collections = try await syncPass(&request, context: context) }
        }
        guard !collections.isEmpty else {
            // [MS-ASCMD] 2.2.3.177.17: from 14.0 nothing changed is an empty 200.
            return .empty
        }
        var response = EASResponse.ok(EASElement(AS.sync, children: [EASElement(AS.collections, children: collections)]))
        response.isBatchOfMore = collections.contains { $0.child(AS.moreAvailable) != nil && $0.child(AS.commands) != nil }
        return response
    }

    /// One pass over the request's collections; remembers the request (with the keys this
    /// pass gave) for empty Syncs.
    func syncPass(_ request: inout SyncRequest, context: RequestContext) async throws -> [EASElement] {
        let folders = Dictionary(try await store.folders(of: context.accountId).map { ($0.folderId, $0) },
                                 uniquingKeysWith: { first, _ in first })
        var budget = configuration.syncResponseBudget
        var collections: [EASElement] = []
        var cached = request
        cached.partial = false
        for (index, collection) in (request.collections ?? []).enumerated() {
            let window = Self.windowSize(collection.windowSize ?? request.windowSize)
            let element: EASElement?
            do {
                element = try await syncCollection(collection, window: window, budget: &budget, folders: folders, context: context)
            } catch let error as UpstreamError where error.code == .mailboxNotFound {
                // The mailbox went away since the last FolderSync.
                element = EASElement(AS.collection, children: [
                    EASElement(AS.syncKey, text: collection.syncKey), EASElement(AS.collectionId, text: collection.collectionId),
                    EASElement(AS.status, text: SyncStatus.folderHierarchyChanged),
                ])
            }
            if let element {
                collections.append(element)
                // An empty Sync continues from the key this answer gives, without the commands.
                if let key = element.child(AS.syncKey)?.text, element.child(AS.status)?.text == SyncStatus.success {
                    cached.collections?[index].syncKey = key
                }
            }
            cached.collections?[index].commands = []
        }
        await syncCache.remember(cached, for: context.deviceRef)
        return collections
    }

    static func merge(cached: [SyncRequest.Collection], partial: [SyncRequest.Collection]) -> [SyncRequest.Collection] {
        var result = cached
        for collection in partial {
            if let index = result.firstIndex(where: { $0.collectionId == collection.collectionId }) {
                var merged = collection
                if merged.options.isEmpty { merged.options = result[index].options }
                result[index] = merged
            } else {
                result.append(collection)
            }
        }
        return result
    }

    /// A collection's element in a Sync response with its key and status, then `rest`.
    static func collectionAnswer(_ collection: SyncRequest.Collection, version: EASProtocolVersion, key: String, status: String,
                                 rest: [EASElement] = []) -> EASElement {
        var children: [EASElement] = []
        // [MS-ASCMD] R6319: Class only up to 12.1.
        if version.sendsClassInSyncCollection {
            children.append(EASElement(AS.class, text: "Email"))
        }
        children += [EASElement(AS.syncKey, text: key), EASElement(AS.collectionId, text: collection.collectionId),
                     EASElement(AS.status, text: status)]
        return EASElement(AS.collection, children: children + rest)
    }

    /// One collection's answer, or nil when it has nothing to say (14.0+).
    func syncCollection(_ collection: SyncRequest.Collection, window: Int, budget: inout Int, folders: [String: Folder],
                        context: RequestContext) async throws -> EASElement? {
        func answer(_ key: String, _ status: String) -> EASElement {
            Self.collectionAnswer(collection, version: context.version, key: key, status: status)
        }
        // CollectionId and ServerIds are bounded when the request is read; a key is checked here.
        guard collection.syncKey.utf8.count <= 64 else { return answer("0", SyncStatus.protocolError) }
        let isOutbox = collection.collectionId == VirtualOutbox.folderId
        guard isOutbox || folders[collection.collectionId] != nil else {
            // Not a folder of this account (deleted, or never one): the client runs FolderSync.
            return answer(collection.syncKey, SyncStatus.folderHierarchyChanged)
        }
        if isOutbox {
            // The Outbox is always empty; keys are still issued so that the client moves on.
            return collection.syncKey == "0" ? answer(OutboxKeys.key, SyncStatus.success)
                : (context.version >= .v14_0 ? nil : answer(collection.syncKey, SyncStatus.success))
        }
        let folder = folders[collection.collectionId]!
        await trackers.touch(context.accountId, mail: context.account, folders: [folder])
        let ref = CollectionRef(device: context.deviceRef, folderId: folder.folderId)
        // A repeat of a request still being answered (a phone that gave up waiting) waits for
        // it and then replays its answer; side by side, one of the two would find the key
        // moved and answer Status 3, and the phone would start the folder over.
        return try await collectionQueue.inLine(ref) {
            let budgetBefore = budget
            // The same request on another node may move the key first (requests are put in line
            // per node only): asked once more, it is a replay of that node's answer.
            for _ in 0..<2 {
                do {
                    return try await syncCollection(collection, folder: folder, ref: ref, window: window, budget: &budget,
                                                     folders: folders, context: context)
                } catch is KeyMovedMeanwhile {
                    budget = budgetBefore
                }
            }
            return answer(collection.syncKey, SyncStatus.invalidSyncKey)
        }
    }

    /// The collection's key moved between reading it and moving it on: another node answered
    /// a request with the same key meanwhile.
    struct KeyMovedMeanwhile: Error {}

    /// The part of a collection's answer that reads and moves its key; one request of the
    /// collection at a time.
    private func syncCollection(_ collection: SyncRequest.Collection, folder: Folder, ref: CollectionRef, window: Int,
                                budget: inout Int, folders: [String: Folder], context: RequestContext) async throws -> EASElement? {
        func answer(_ key: String, _ status: String, _ rest: [EASElement] = []) -> EASElement {
            Self.collectionAnswer(collection, version: context.version, key: key, status: status, rest: rest)
        }
        let mailbox = IMAPMailboxName(wire: folder.mailboxName)
        let options = collection.options.first ?? SyncRequest.Options()
        // The catch-up's round trip to the mail server runs while the store looks up the key.
        async let caughtUp = logs.catchUp(ref.folder, mailbox: mailbox, session: context.session)
        let lookup = try await store.collection(ref, key: SyncKey(collection.syncKey))
        let generation: CollectionGeneration
        let isReplay: Bool
        switch lookup {
        case .unknown:
            return answer(collection.syncKey, SyncStatus.invalidSyncKey)
        case .initial:
            // Key 0: a new key and nothing else ([MS-ASCMD] 2.2.3.166.4); the enumeration starts
            // with the next request, from the mailbox as it is now.
            let log = try await caughtUp
            let start = log.watermark?.uidNext ?? 1
            let current = try await store.currentCollectionKey(ref)
            do {
                let next = try await store.advanceCollection(ref, from: .initial, expectedCurrent: current, to: CollectionAdvance(
                    cursor: log.head, initialSyncPosition: InitialSync(start: start, boundary: start).text,
                    filterType: options.filterType))
                return answer(next.key.rawValue, SyncStatus.success)
            } catch let error as StateStoreError where error.code == .conflict {
                throw KeyMovedMeanwhile()
            }
        case .current(let current):
            generation = current
            isReplay = false
        case .previous(let previous):
            generation = previous
            isReplay = true
        }
        let filterType = options.filterType ?? generation.filterType
        var clientOutcome = ClientCommandOutcome()
        if !collection.commands.isEmpty {
            // Other clients' changes are logged before this device's own: caught up after them,
            // a message both changed would be one entry that looks like the device's echo.
            _ = try await caughtUp
            clientOutcome = try await applyClientCommands(collection.commands, folder: folder, folders: folders,
                                                          deletesAsMoves: collection.deletesAsMoves ?? true, options: options,
                                                          context: context)
        }
        var responses: [EASElement] = []
        if !clientOutcome.responses.isEmpty { responses.append(EASElement(AS.responses, children: clientOutcome.responses)) }
        if collection.getChanges == false && clientOutcome.deleted.isEmpty && clientOutcome.setFlags.isEmpty
            && clientOutcome.added.isEmpty {
            return context.version >= .v14_0 && !isReplay && responses.isEmpty ? nil
                : answer(collection.syncKey, SyncStatus.success, responses)
        }
        // After the device's own commands the log is caught up again, to take them in.
        let log = collection.commands.isEmpty ? try await caughtUp
            : try await logs.catchUp(ref.folder, mailbox: mailbox, session: context.session)
        // Loop detection: a key that keeps coming back after it was answered (a replay of the
        // previous key) means the client cannot take the answer. Halve the window on every
        // repeat from the third; at one item, skip the item. The current key presented again
        // only means nothing changed in between (polling, a heartbeat that ran out): not counted.
        let repeats = isReplay ? try await store.countKeyUse(ref, key: SyncKey(collection.syncKey)) + 1 : 1
        var effectiveWindow = window
        if repeats >= Self.loopRepeats { effectiveWindow = max(1, window >> min(repeats - Self.loopRepeats + 1, 10)) }
        // What the device holds is looked up for the UIDs this answer meets, not loaded whole:
        // an idle Sync on a folder of 100,000 messages reads nothing of it.
        var batch = SyncBatch(window: effectiveWindow, budget: budget, preferences: Self.bodyPreferences(options),
                              heldAsOf: isReplay ? generation.number : nil,
                              clientAdded: clientOutcome.added, clientDeleted: clientOutcome.deleted)
        if effectiveWindow == 1, repeats >= Self.loopRepeats + 10 {
            batch.skipNextAdd = true
        }
        batch.clientFlags = clientOutcome.setFlags
        var cursor = generation.cursor
        var position = generation.initialSyncPosition.flatMap(InitialSync.init)
        // What the previous answer fetched ahead is taken in any case: it is for one request.
        var ahead = position == nil ? nil : await readAheads.take(ref, key: collection.syncKey)
        if let initial = position {
            ahead = try await validated(ahead, log: log, position: initial, filterType: filterType, ref: ref)
        }
        if collection.getChanges != false {
            cursor = try await collectLogChanges(ref, mailbox: mailbox, after: generation.cursor, into: &batch, context: context)
            if let initial = position, batch.hasRoom {
                position = try await enumerate(ref, mailbox, initial, filterType: filterType, into: &batch, ahead: &ahead,
                                               context: context)
            } else if position != nil {
                batch.moreAvailable = true
            }
        }
        // The next answer's messages are fetched while this one is made and read; kept only if
        // this answer gets its key.
        var fill = position.flatMap { position in
            ahead.map { fetchAhead($0, below: position.boundary, count: batch.adds.count, mailbox: mailbox, options: options,
                                   context: context) }
        }
        defer { fill?.cancel() }
        metrics.syncSent(items: batch.adds.count + batch.changes.count + batch.deletes.count, bytes: max(0, budget - batch.budget))
        budget = max(0, batch.budget)
        // A position that moved without anything to send (log entries that did not concern the
        // device, an enumeration that found nothing more) must still be kept, or every Ping
        // would see the same "changes" again.
        let moved = cursor != generation.cursor || position?.text != generation.initialSyncPosition
        guard !batch.isEmpty || batch.moreAvailable || context.version < .v14_0 || isReplay || !responses.isEmpty
            || !clientOutcome.deleted.isEmpty || !clientOutcome.setFlags.isEmpty || !clientOutcome.added.isEmpty || moved
        else {
            // Nothing to say: the key stays, the collection is left out.
            return nil
        }
        let next: CollectionGeneration
        do {
            let current = isReplay ? try await store.currentCollectionKey(ref) : generation.key
            next = try await store.advanceCollection(ref, from: SyncKey(collection.syncKey), expectedCurrent: current,
                                                     to: CollectionAdvance(
                                                         cursor: cursor, initialSyncPosition: position?.text,
                                                         filterType: filterType, options: generation.options,
                                                         added: batch.adds.map(\.uid) + clientOutcome.added,
                                                         removed: batch.deletes + Array(clientOutcome.deleted)))
        } catch let error as StateStoreError where error.code == .conflict || error.code == .unknownSyncKey {
            // Another node moved the collection meanwhile (requests on this node are in line).
            throw KeyMovedMeanwhile()
        }
        if let skipped = batch.skipped {
            logger.warning("skipped a message a client kept failing on", metadata: [
                "device": "\(context.deviceRef.deviceId)", "folder": "\(folder.folderId)", "uid": "\(skipped)",
            ])
        }
        var commands: [EASElement] = []
        let items = try await emailItems(for: batch.adds.filter { batch.builtAdds[$0.uid] == nil }, folderId: folder.folderId,
                                         mailbox: mailbox, options: options, fetched: ahead?.parts ?? [:], context: context)
        if let handedOn = fill {
            await readAheads.put(ref, key: next.key.rawValue, fill: handedOn)
            fill = nil
        }
        var made = items.makeIterator()
        for summary in batch.adds {
            if let built = batch.builtAdds[summary.uid] {
                commands.append(built)
            } else if let item = made.next() {
                commands.append(Self.addElement(item, folderId: folder.folderId, version: context.version, codec: codec))
            }
        }
        for (uid, flags) in batch.changes.sorted(by: { $0.key < $1.key }) {
            commands.append(EASElement(AS.change, children: [
                EASElement(AS.serverId, text: ItemId(folderId: folder.folderId, uid: uid).text),
                EASElement(AS.applicationData, children: Self.flagFields(flags, version: context.version)),
            ]))
        }
        for uid in batch.deletes.sorted() {
            commands.append(EASElement(AS.delete, children: [
                EASElement(AS.serverId, text: ItemId(folderId: folder.folderId, uid: uid).text),
            ]))
        }
        var rest: [EASElement] = []
        // MoreAvailable comes before Commands, Responses after ([MS-ASCMD] 2.2.3.116).
        if batch.moreAvailable { rest.append(EASElement(AS.moreAvailable)) }
        if !commands.isEmpty { rest.append(EASElement(AS.commands, children: commands)) }
        rest += responses
        return answer(next.key.rawValue, SyncStatus.success, rest)
    }

    static func flagFields(_ flags: [String], version: EASProtocolVersion) -> [EASElement] {
        var fields = [EASElement(EASTag.Email.read, text: flags.contains("\\Seen") ? "1" : "0"), EmailItem.flag(flags)]
        if version >= .v14_0 {
            fields.append(EmailItem.categories(flags, evenIfNone: true)!)
        }
        return fields
    }

    /// Reads log entries after `cursor` into the batch while it has room; returns the new cursor.
    func collectLogChanges(_ ref: CollectionRef, mailbox: IMAPMailboxName, after cursor: Int64, into batch: inout SyncBatch,
                           context: RequestContext) async throws -> Int64 {
        let limit = batch.window * 2 + 16
        let entries = try await store.changes(ref.folder, after: cursor, limit: limit)
        guard !entries.isEmpty else { return cursor }
        try await lookUpHeld(Set(entries.map(\.entry.uid)), of: ref, into: &batch)
        // New messages' summaries, in log order, as the batch takes them.
        var candidates: [UInt32] = []
        var seen: Set<UInt32> = []
        for logged in entries where logged.entry.kind == .added && !batch.held.contains(logged.entry.uid) {
            if seen.insert(logged.entry.uid).inserted { candidates.append(logged.entry.uid) }
        }
        var summaries = SummaryFetcher(candidates, mailbox: mailbox, session: context.session)
        var consumed = cursor
        for logged in entries {
            guard batch.hasRoom else {
                batch.moreAvailable = true
                return consumed
            }
            let entry = logged.entry
            switch entry.kind {
            case .added:
                if batch.held.contains(entry.uid) {
                    batch.change(entry.uid, flags: entry.flags)
                } else if let summary = try await summaries.summary(of: entry.uid) {
                    // A message gone meanwhile has no summary: it is left out. One that would
                    // take the answer over the budget waits for the next.
                    guard batch.addIfItFits(summary) else {
                        batch.moreAvailable = true
                        return consumed
                    }
                }
            case .flagsChanged:
                batch.change(entry.uid, flags: entry.flags)
            case .removed:
                batch.remove(entry.uid)
            }
            consumed = logged.sequence
        }
        if entries.count == limit { batch.moreAvailable = true }
        return consumed
    }

    /// The next messages of the initial enumeration, newest first, within the FilterType window.
    /// `ahead` holds what earlier requests found and fetched; it comes back with this one's
    /// searches added (nil when the mailbox cannot vouch for it: no mod-sequences).
    func enumerate(_ ref: CollectionRef, _ mailbox: IMAPMailboxName, _ position: InitialSync, filterType: Int?, into batch: inout SyncBatch,
                   ahead: inout EnumerationReadAhead?, context: RequestContext) async throws -> InitialSync? {
        let top = min(position.boundary, position.start)
        guard top > 1 else { return nil }
        var found = ahead ?? EnumerationReadAhead(uidValidity: 0, start: position.start, filterType: filterType, uids: [],
                                                  low: top, top: top, asOfHead: 0)
        var remaining: [UInt32] = []
        var looked = found.uids(below: top).startIndex
        while remaining.count < batch.room {
            if looked == found.uids.endIndex {
                guard found.low > 1 else { break }
                try await searchFurther(&found, mailbox: mailbox, atLeast: batch.room * 4, session: context.session)
                continue
            }
            let slice = found.uids[looked..<min(found.uids.endIndex, looked + max(batch.room, 32))]
            looked = slice.endIndex
            try await lookUpHeld(Set(slice), of: ref, into: &batch)
            remaining += slice.filter { !batch.held.contains($0) }
        }
        if ahead != nil { ahead = found }
        guard !remaining.isEmpty else { return nil }
        let exhausted = looked == found.uids.endIndex && found.low <= 1
        var boundary = position.boundary
        var index = 0
        var summaries = SummaryFetcher(remaining, mailbox: mailbox, session: context.session, known: found.summaries)
        while index < remaining.count, batch.hasRoom {
            let uid = remaining[index]
            if let summary = try await summaries.summary(of: uid) {
                let built = builtAdd(summary, folderId: ref.folderId, preferences: batch.preferences, parts: found.parts,
                                     version: context.version)
                // Over the budget it goes first in the next answer.
                guard batch.addIfItFits(summary, built: built) else { break }
            }
            boundary = uid
            index += 1
        }
        guard index < remaining.count || !exhausted else { return nil }
        batch.moreAvailable = true
        // Below the last UID taken; when everything found was taken, below what was searched.
        return InitialSync(start: position.start, boundary: index < remaining.count || looked < found.uids.endIndex
            ? boundary : min(boundary, found.low))
    }

    /// Searches the next UID window below what `found` covers, in widening windows until at
    /// least one message turns up or the bottom is reached (IMAP has no "the newest N", and
    /// ESEARCH is not used), so that a batch costs about its own size, not the whole mailbox.
    func searchFurther(_ found: inout EnumerationReadAhead, mailbox: IMAPMailboxName, atLeast span: Int,
                       session: any MailSession) async throws {
        let since = FilterType.since(found.filterType, now: Self.wallClockMilliseconds())
        // At least as wide as all searched so far: windows widen from request to request too.
        var span = max(UInt32(clamping: max(span, 4)), found.top - found.low)
        let before = found.uids.count
        while found.low > 1, found.uids.count == before {
            let low = found.low > span ? found.low - span : 1
            let uids = try await session.search(in: mailbox, MailSearch(since: since, uids: UIDSet([low...(found.low - 1)])))
            found.uids += uids.filter { $0 < found.low }.sorted(by: >)
            found.low = low
            span = span > UInt32.max / 4 ? UInt32.max : span * 4
        }
    }

    /// A read-ahead from the previous answer made fit for this request: dropped when the
    /// mailbox changed identity or cannot tell changes, its summaries of messages the log saw
    /// change since dropped; a new one when there was none.
    func validated(_ ahead: EnumerationReadAhead?, log: FolderLogState, position: InitialSync, filterType: Int?,
                   ref: CollectionRef) async throws -> EnumerationReadAhead? {
        guard let watermark = log.watermark, watermark.highestModSeq > 0 else { return nil }
        let top = min(position.boundary, position.start)
        guard var entry = ahead, entry.uidValidity == watermark.uidValidity, entry.start == position.start,
              entry.filterType == filterType, entry.top >= top
        else {
            return EnumerationReadAhead(uidValidity: watermark.uidValidity, start: position.start, filterType: filterType,
                                        uids: [], low: top, top: top, asOfHead: log.head)
        }
        if entry.asOfHead != log.head {
            let limit = 1024
            let changed = try await store.changes(ref.folder, after: entry.asOfHead, limit: limit)
            if changed.count == limit { entry.summaries = [:] } else { entry.forget(changed.map(\.entry.uid)) }
            entry.asOfHead = log.head
        }
        return entry
    }

    /// Fetches, in the background, the summaries and body parts of about the next answer's
    /// messages below `boundary` (guessed from this answer's `count`), searching further first
    /// when too few are known. A failure only leaves the next request to fetch for itself.
    func fetchAhead(_ entry: EnumerationReadAhead, below boundary: UInt32, count: Int, mailbox: IMAPMailboxName,
                    options: SyncRequest.Options, context: RequestContext) -> Task<EnumerationReadAhead?, Never> {
        let session = context.session
        let want = min(max(count * 2, EnumerationReadAhead.aheadRange.lowerBound), EnumerationReadAhead.aheadRange.upperBound)
        return Task {
            var entry = entry
            // What the answer took goes; the rest of the earlier fetch stays.
            entry.uids = Array(entry.uids(below: boundary))
            entry.top = boundary
            entry.summaries = entry.summaries.filter { $0.key < boundary }
            entry.parts = entry.parts.filter { $0.key.uid < boundary }
            do {
                if entry.uids(below: boundary).count < want, entry.low > 1 {
                    try await searchFurther(&entry, mailbox: mailbox, atLeast: want * 4, session: session)
                }
                let next = Array(entry.uids(below: boundary).prefix(want)).filter { entry.summaries[$0] == nil }
                guard !Task.isCancelled else { return nil }
                if !next.isEmpty {
                    for summary in try await session.summaries(in: mailbox, uids: UIDSet(uids: next)) {
                        entry.summaries[summary.uid] = summary
                    }
                }
                guard !Task.isCancelled else { return nil }
                var bytes = entry.parts.values.reduce(0) { $0 + $1.count }
                let withParts = Set(entry.parts.keys.map(\.uid))
                var requests: [PartRequest] = []
                for uid in entry.uids(below: boundary).prefix(want) where !withParts.contains(uid) {
                    guard let summary = entry.summaries[uid] else { continue }
                    for request in Self.partRequests(for: summary, options: options) where entry.parts[request] == nil {
                        // A part is at most the message; the range only caps it.
                        let size = min(request.range?.count ?? summary.size, summary.size)
                        guard bytes + size <= EnumerationReadAhead.maxPartBytes else { break }
                        bytes += size
                        requests.append(request)
                    }
                }
                if !requests.isEmpty {
                    entry.parts.merge(try await session.fetchParts(in: mailbox, requests)) { _, new in new }
                }
            } catch {
                logger.debug("fetching ahead failed", metadata: ["error": "\(error)"])
            }
            return entry
        }
    }

    /// Learns which of `uids` the device holds, for those the batch has not met yet.
    func lookUpHeld(_ uids: Set<UInt32>, of ref: CollectionRef, into batch: inout SyncBatch) async throws {
        let unknown = batch.unknown(among: uids)
        guard !unknown.isEmpty else { return }
        batch.learn(held: try await store.heldMessages(ref, among: unknown, asOf: batch.heldAsOf), among: unknown)
    }

    /// The body preferences a request's options stand for.
    static func bodyPreferences(_ options: SyncRequest.Options) -> [BodyPreference] {
        options.bodyPreferences.isEmpty
            ? [BodyPreference(type: options.mimeSupport == 2 ? 4 : 1, truncationSize: options.mimeTruncation.map(Self.mimeTruncation))]
            : options.bodyPreferences
    }

    /// What an Add of `summary` is made of besides the summary: the body choice, the body
    /// part to fetch, and an invitation's text/calendar part.
    struct AddParts {
        let choice: BodyChoice
        let body: PartRequest
        let calendar: (part: MIMEPart, request: PartRequest)?

        init(_ summary: MessageSummary, preferences: [BodyPreference]) {
            choice = BodyChoice.choose(for: summary, preferences: preferences)
            body = choice.partRequest(uid: summary.uid)
            calendar = EmailItem.calendarPart(of: summary).map { ($0, EmailItem.calendarRequest(uid: summary.uid, part: $0)) }
        }

        var requests: [PartRequest] { calendar.map { [body, $0.request] } ?? [body] }
    }

    /// The parts a message's item needs with these options.
    static func partRequests(for summary: MessageSummary, options: SyncRequest.Options) -> [PartRequest] {
        AddParts(summary, preferences: bodyPreferences(options)).requests
    }

    /// The item from parts already fetched (a part missing from `parts` is left out of it).
    func emailItem(_ summary: MessageSummary, folderId: String, _ needs: AddParts, parts: [PartRequest: [UInt8]]) -> EmailItem {
        let invitation = needs.calendar.flatMap { calendar in
            parts[calendar.request].flatMap { Invitation(codec.text(of: $0, part: calendar.part)) }
        }
        return EmailItem(summary: summary, folderId: folderId, choice: needs.choice, bytes: parts[needs.body], invitation: invitation)
    }

    /// Summaries plus bodies (and invitations' text/calendar parts) fetched in one batch; parts
    /// already `fetched` (ahead of this request) are not asked for again.
    func emailItems(for summaries: [MessageSummary], folderId: String, mailbox: IMAPMailboxName, options: SyncRequest.Options,
                    fetched: [PartRequest: [UInt8]] = [:], context: RequestContext) async throws -> [EmailItem] {
        guard !summaries.isEmpty else { return [] }
        let preferences = Self.bodyPreferences(options)
        let needs = summaries.map { AddParts($0, preferences: preferences) }
        let missing = needs.flatMap(\.requests).filter { fetched[$0] == nil }
        var parts = fetched
        if !missing.isEmpty {
            parts.merge(try await context.session.fetchParts(in: mailbox, missing)) { _, new in new }
        }
        return zip(summaries, needs).map { emailItem($0, folderId: folderId, $1, parts: parts) }
    }

    /// A Sync's Add of `item` ([MS-ASCMD] 2.2.3.7.2).
    static func addElement(_ item: EmailItem, folderId: String, version: EASProtocolVersion, codec: any MIMECodec) -> EASElement {
        EASElement(AS.add, children: [
            EASElement(AS.serverId, text: ItemId(folderId: folderId, uid: item.summary.uid).text),
            EASElement(AS.applicationData, children: item.applicationData(version: version, codec: codec)),
        ])
    }

    /// The Add of `summary` built now, and what it weighs in the answer, when every part it
    /// needs is at hand (fetched ahead); nil otherwise. Its exact size takes the place of the
    /// estimate, which runs about a fifth high, so that answers come near the budget.
    func builtAdd(_ summary: MessageSummary, folderId: String, preferences: [BodyPreference], parts: [PartRequest: [UInt8]],
                  version: EASProtocolVersion) -> (element: EASElement, size: Int)? {
        let needs = AddParts(summary, preferences: preferences)
        guard needs.requests.allSatisfy({ parts[$0] != nil }) else { return nil }
        let element = Self.addElement(emailItem(summary, folderId: folderId, needs, parts: parts), folderId: folderId,
                                      version: version, codec: codec)
        // Alone, the element is a document of its own: its header and code-page switches
        // stand in for those it meets within the answer, give or take a few bytes.
        guard let size = try? element.wbxml().readableBytes else { return nil }
        return (element, size + 16)
    }

    /// [MS-ASCMD] 2.2.3.109 MIMETruncation codes in bytes.
    static func mimeTruncation(_ code: Int) -> Int {
        switch code {
        case 0: 0
        case 1: 4096
        case 2: 5120
        case 3: 7168
        case 4: 10240
        case 5: 20480
        case 6: 51200
        case 7: 102_400
        default: BodyChoice.largestUntruncatedBody
        }
    }
}

/// Summaries of a list of UIDs, fetched in list order as they are asked for, in chunks that
/// double (16, 32, …): the byte budget usually ends a batch long before the window does (a
/// 50 KB answer holds a dozen ordinary messages), and a summary fetched beyond it is parsed
/// for nothing and fetched again by the next Sync.
struct SummaryFetcher {
    static let firstChunk = 16

    private let order: [UInt32]
    private let positions: [UInt32: Int]
    private let mailbox: IMAPMailboxName
    private let session: any MailSession
    private var fetched = 0
    private var chunk = Self.firstChunk
    private var summaries: [UInt32: MessageSummary] = [:]

    /// - Parameter known: summaries fetched before (ahead of the request); not fetched again.
    init(_ order: [UInt32], mailbox: IMAPMailboxName, session: any MailSession, known: [UInt32: MessageSummary] = [:]) {
        self.order = order
        positions = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        self.mailbox = mailbox
        self.session = session
        summaries = known.filter { positions[$0.key] != nil }
    }

    /// The summary of `uid` (one of the list), nil when the server no longer has it.
    mutating func summary(of uid: UInt32) async throws -> MessageSummary? {
        guard let position = positions[uid] else { return nil }
        if let known = summaries[uid] { return known }
        while fetched <= position {
            // The next chunk of the list from here, leaving out what is known already.
            var next: [UInt32] = []
            var index = max(fetched, position)
            while index < order.count, next.count < chunk {
                if summaries[order[index]] == nil { next.append(order[index]) }
                index += 1
            }
            fetched = index
            chunk *= 2
            guard !next.isEmpty else { break }
            for summary in try await session.summaries(in: mailbox, uids: UIDSet(uids: next)) {
                summaries[summary.uid] = summary
            }
        }
        return summaries[uid]
    }
}

/// What one collection's response carries, and how much room is left.
struct SyncBatch {
    /// What the device holds among the UIDs in `known`: learnt from the store when first met,
    /// then kept up to date with what this request and this answer add and remove.
    private(set) var held: Set<UInt32>
    private(set) var known: Set<UInt32>
    /// The generation whose holdings a replay is computed against; nil for the current one.
    let heldAsOf: Int64?
    let window: Int
    var budget: Int
    /// The body preferences the Adds are made with: what their bodies will weigh.
    let preferences: [BodyPreference]
    var adds: [MessageSummary] = []
    /// Adds built while the batch was chosen (their exact size counted); the answer sends them
    /// as they are.
    private(set) var builtAdds: [UInt32: EASElement] = [:]
    var changes: [UInt32: [String]] = [:]
    var deletes: [UInt32] = []
    var moreAvailable = false
    /// The client's own changes in this request: not echoed back.
    var clientFlags: [UInt32: [String]] = [:]
    let clientDeleted: Set<UInt32>
    /// Loop detection's last resort: the next Add is left out for good.
    var skipNextAdd = false
    private(set) var skipped: UInt32?
    private var addedUIDs: Set<UInt32> = []

    init(window: Int, budget: Int, preferences: [BodyPreference] = [], heldAsOf: Int64? = nil, clientAdded: [UInt32] = [],
         clientDeleted: Set<UInt32> = []) {
        held = Set(clientAdded).subtracting(clientDeleted)
        known = clientDeleted.union(clientAdded)
        self.heldAsOf = heldAsOf
        self.clientDeleted = clientDeleted
        self.window = window
        self.budget = budget
        self.preferences = preferences
    }

    /// The UIDs among `uids` whose holding is not known yet.
    func unknown(among uids: Set<UInt32>) -> Set<UInt32> { uids.subtracting(known) }

    /// Records what the store says about `uids` (those held are in `held`); UIDs already
    /// known keep what this request decided about them.
    mutating func learn(held found: Set<UInt32>, among uids: Set<UInt32>) {
        for uid in uids where !known.contains(uid) {
            known.insert(uid)
            if found.contains(uid) { held.insert(uid) }
        }
    }

    var count: Int { adds.count + changes.count + deletes.count }
    var room: Int { max(0, window - count) }
    /// Room for one more command: the window is not full and the byte budget not spent (an
    /// oversized first item still goes, alone).
    var hasRoom: Bool { count < window && (budget > 0 || count == 0) }
    var isEmpty: Bool { count == 0 }

    /// Adds the message if its Add keeps the answer within the byte budget or is the answer's
    /// first item (an oversized message still goes, alone); false when it must wait for the
    /// next answer. An Add `built` already counts with its size, others with the estimate.
    mutating func addIfItFits(_ summary: MessageSummary, built: (element: EASElement, size: Int)? = nil) -> Bool {
        let cost = built?.size ?? Self.estimate(summary, preferences: preferences)
        guard count == 0 || cost <= budget else { return false }
        add(summary, cost: cost)
        if let built, addedUIDs.contains(summary.uid) { builtAdds[summary.uid] = built.element }
        return true
    }

    private mutating func add(_ summary: MessageSummary, cost: Int) {
        guard !addedUIDs.contains(summary.uid) else { return }
        if skipNextAdd {
            skipNextAdd = false
            skipped = summary.uid
            return
        }
        adds.append(summary)
        addedUIDs.insert(summary.uid)
        held.insert(summary.uid)
        known.insert(summary.uid)
        budget -= cost
    }

    mutating func change(_ uid: UInt32, flags: [String]) {
        // A message the device does not have yet gets its flags with its Add.
        guard held.contains(uid), !addedUIDs.contains(uid) else { return }
        // Flags the client itself just set are not news to it, unless an earlier entry of
        // this answer (another client's change) would otherwise be the last word.
        if clientFlags[uid] == flags.sorted(), changes[uid] == nil { return }
        if changes.updateValue(flags, forKey: uid) == nil { budget -= 200 }
    }

    mutating func remove(_ uid: UInt32) {
        changes[uid] = nil
        if clientDeleted.contains(uid) { return }
        if addedUIDs.contains(uid) {
            adds.removeAll { $0.uid == uid }
            builtAdds[uid] = nil
            addedUIDs.remove(uid)
            held.remove(uid)
            return
        }
        guard held.contains(uid) else { return }
        held.remove(uid)
        deletes.append(uid)
        budget -= 80
    }

    /// What an Add costs in the response: the fields every item has, the envelope's text, the
    /// body as it will be cut (decoded size of the part sent, or the whole message for MIME),
    /// and a line per attachment. Close enough that answers stay near the byte budget, not far
    /// under it or over it.
    static func estimate(_ summary: MessageSummary, preferences: [BodyPreference]) -> Int {
        let choice = BodyChoice.choose(for: summary, preferences: preferences)
        let encoded = choice.part?.size ?? summary.size
        let decoded = choice.part?.encoding.lowercased() == "base64" ? encoded / 4 * 3 : encoded
        var body = min(decoded, choice.truncation ?? BodyChoice.largestUntruncatedBody)
        // Plain text shown as HTML grows by its markup and escapes (a quarter covers text with
        // much markup in it; only text that is mostly `&<>"` goes beyond); a preview is one
        // more line.
        if choice.convert, choice.type == 2 { body += body / 4 + 40 }
        if let preview = choice.preview { body += min(preview, 255) }
        let envelope = summary.envelope
        let addresses = (envelope.from + envelope.to + envelope.cc + envelope.replyTo)
            .reduce(0) { $0 + $1.address.utf8.count + ($1.name?.utf8.count ?? 0) + 6 }
        let text = (envelope.subject?.utf8.count ?? 0) * 2 + addresses
        // The parts listed as attachments: not the containers, not the text alternatives.
        var attachments = 0
        summary.structure?.forEachPart { part in
            if !part.isMultipart && (part.type != "text" || part.disposition == "attachment" || part.fileName != nil) {
                attachments += 1
            }
        }
        return 300 + text + body + attachments * 150
    }
}

/// Where an initial enumeration stands: messages with UIDs below `start` (the mailbox's
/// UIDNEXT when it began; newer ones come through the log) and below `boundary` are still to go.
struct InitialSync: Hashable {
    var start: UInt32
    var boundary: UInt32

    var text: String { "\(start):\(boundary)" }

    init(start: UInt32, boundary: UInt32) {
        self.start = start
        self.boundary = boundary
    }

    init?(_ text: String) {
        let pieces = text.split(separator: ":")
        guard pieces.count == 2, let start = UInt32(pieces[0]), let boundary = UInt32(pieces[1]) else { return nil }
        self.init(start: start, boundary: boundary)
    }
}

/// [MS-ASCMD] 2.2.3.70.1 FilterType for email: how far back to sync.
enum FilterType {
    static func since(_ filterType: Int?, now: Int64) -> Int64? {
        let day: Int64 = 86_400_000
        switch filterType {
        case 1: return now - day
        case 2: return now - 3 * day
        case 3: return now - 7 * day
        case 4: return now - 14 * day
        case 5: return now - 31 * day
        case 6: return now - 92 * day
        case 7: return now - 183 * day
        default: return nil
        }
    }
}

/// Keys of the virtual Outbox: one key, forever.
enum OutboxKeys {
    static let key = "1"
}

/// The last full Sync request of each device, for empty and partial Syncs
/// ([MS-ASCMD] 2.2.2.20: the server caches the collections).
actor SyncRequestCache {
    private var requests: [DeviceRef: SyncRequest] = [:]
    /// Devices remembered; the oldest is forgotten beyond this.
    static let capacity = 100_000

    func request(for device: DeviceRef) -> SyncRequest? { requests[device] }

    func remember(_ request: SyncRequest, for device: DeviceRef) {
        if requests.count >= Self.capacity, requests[device] == nil, let any = requests.keys.first {
            requests[any] = nil
        }
        requests[device] = request
    }
}
