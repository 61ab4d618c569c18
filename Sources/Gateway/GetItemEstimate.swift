import EASProtocol
import MailUpstream
import SyncState

/// [MS-ASCMD] 2.2.1.9 GetItemEstimate: how many changes the next Syncs would bring.
extension Gateway {
    typealias GIE = EASTag.GetItemEstimate

    func getItemEstimate(_ context: RequestContext) async throws -> EASResponse {
        guard let body = context.request.body, let request = try? GetItemEstimateRequest(body) else {
            return .ok(EASElement(GIE.getItemEstimate, children: [EASElement(GIE.status, text: "2")]))
        }
        let folders = Dictionary(try await store.folders(of: context.accountId).map { ($0.folderId, $0) },
                                 uniquingKeysWith: { first, _ in first })
        var responses: [EASElement] = []
        for collection in request.collections {
            func response(_ status: String, estimate: Int? = nil) -> EASElement {
                var children = [EASElement(GIE.collectionId, text: collection.collectionId)]
                if let estimate { children.append(EASElement(GIE.estimate, text: String(estimate))) }
                return EASElement(GIE.response, children: [
                    EASElement(GIE.status, text: status), EASElement(GIE.collection, children: children),
                ])
            }
            if collection.collectionId == VirtualOutbox.folderId {
                responses.append(response("1", estimate: 0))
                continue
            }
            guard let folder = folders[collection.collectionId] else {
                responses.append(response("2"))
                continue
            }
            let ref = CollectionRef(device: context.deviceRef, folderId: folder.folderId)
            var key = collection.syncKey
            if key == nil { key = try await store.currentCollectionKey(ref)?.rawValue }
            let generation: CollectionGeneration
            switch try await store.collection(ref, key: SyncKey(key ?? "0")) {
            case .initial:
                // [MS-ASCMD] 2.2.3.177.6 Status 3: the collection has not been primed with a Sync.
                responses.append(response("3"))
                continue
            case .unknown:
                responses.append(response("4"))
                continue
            case .current(let current), .previous(let current):
                generation = current
            }
            let mailbox = IMAPMailboxName(wire: folder.mailboxName)
            let log = try await logs.catchUp(ref.folder, mailbox: mailbox, session: context.session)
            var estimate = Int(max(0, log.head - generation.cursor))
            if let position = generation.initialSyncPosition.flatMap(InitialSync.init) {
                let since = FilterType.since(collection.filterType ?? generation.filterType, now: Self.wallClockMilliseconds())
                let uids = try await context.session.search(in: mailbox, MailSearch(since: since))
                estimate += uids.filter { $0 < position.boundary && $0 < position.start }.count
            }
            responses.append(response("1", estimate: estimate))
        }
        return .ok(EASElement(GIE.getItemEstimate, children: responses))
    }
}
