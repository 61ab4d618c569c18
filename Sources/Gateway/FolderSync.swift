import EASProtocol
import MailUpstream
import SyncState

/// [MS-ASCMD] 2.2.3.186.3 FolderHierarchy Type values used for mail.
enum FolderType {
    static let userGeneric = 1
    static let inbox = 2
    static let drafts = 3
    static let deletedItems = 4
    static let sentItems = 5
    static let outbox = 6
    static let userMail = 12

    static func of(_ use: SpecialUse?) -> Int {
        switch use {
        case .inbox: inbox
        case .drafts: drafts
        case .trash: deletedItems
        case .sent: sentItems
        default: userMail
        }
    }
}

/// The Outbox a client expects ([MS-ASCMD]; Android will not set up an account without one).
/// IMAP has none: it is a folder of the gateway's, always empty, with a fixed id.
enum VirtualOutbox {
    static let folderId = "outbox"
    static let entry = HierarchySnapshot.Entry(folderId: folderId, parentId: nil, displayName: "Outbox", type: FolderType.outbox)
}

/// [MS-ASCMD] 2.2.1.5 FolderSync.
extension Gateway {
    typealias FH = EASTag.FolderHierarchy

    func folderSync(_ context: RequestContext) async throws -> EASResponse {
        guard let body = context.request.body, let request = try? FolderSyncRequest(body) else {
            return .ok(EASElement(FH.folderSync, children: [EASElement(FH.status, text: "10")]))
        }
        guard request.syncKey.utf8.count <= 64 else {
            return .ok(EASElement(FH.folderSync, children: [EASElement(FH.status, text: "9")]))
        }
        let lookup = try await store.hierarchy(context.deviceRef, key: SyncKey(request.syncKey))
        let basis: HierarchySnapshot
        let current: SyncKey?
        switch lookup {
        case .initial:
            basis = HierarchySnapshot()
            current = try await store.currentHierarchyKey(context.deviceRef)
        case .current(let key, let snapshot):
            basis = snapshot
            current = key
        case .previous(_, let snapshot):
            basis = snapshot
            current = try await store.currentHierarchyKey(context.deviceRef)
        case .unknown:
            // [MS-ASCMD] 2.2.3.177.4: Status 9, the client starts over at 0.
            return .ok(EASElement(FH.folderSync, children: [EASElement(FH.status, text: "9")]))
        }
        let snapshot = try await hierarchySnapshot(context)
        let (adds, updates, deletes) = Self.difference(from: basis, to: snapshot)
        // Mailboxes gone from the server: their folders, logs and collections go too.
        let listed = Set(snapshot.entries.map(\.folderId))
        for folder in try await store.folders(of: context.accountId) where !listed.contains(folder.folderId) {
            try await store.deleteFolder(FolderRef(account: context.accountId, folderId: folder.folderId))
        }
        var key = current
        if case .current(let currentKey, _) = lookup, adds.isEmpty, updates.isEmpty, deletes.isEmpty {
            key = currentKey
        } else {
            do {
                key = try await store.advanceHierarchy(context.deviceRef, from: SyncKey(request.syncKey),
                                                       expectedCurrent: current, to: snapshot)
            } catch let error as StateStoreError where error.code == .conflict {
                // Another request of this device moved the hierarchy meanwhile: the client retries.
                return EASResponse.unavailable(after: 1)
            }
        }
        var changes: [EASElement] = [EASElement(FH.count, text: String(adds.count + updates.count + deletes.count))]
        for entry in updates { changes.append(EASElement(FH.update, children: Self.folderFields(entry))) }
        for folderId in deletes { changes.append(EASElement(FH.delete, children: [EASElement(FH.serverId, text: folderId)])) }
        for entry in adds { changes.append(EASElement(FH.add, children: Self.folderFields(entry))) }
        return .ok(EASElement(FH.folderSync, children: [
            EASElement(FH.status, text: "1"),
            EASElement(FH.syncKey, text: key?.rawValue ?? request.syncKey),
            EASElement(FH.changes, children: changes),
        ]))
    }

    static func folderFields(_ entry: HierarchySnapshot.Entry) -> [EASElement] {
        [
            EASElement(FH.serverId, text: entry.folderId),
            EASElement(FH.parentId, text: entry.parentId ?? "0"),
            EASElement(FH.displayName, text: entry.displayName),
            EASElement(FH.type, text: String(entry.type)),
        ]
    }

    /// The account's folders as the client sees them: every selectable mailbox of the personal
    /// namespace with a stable id, parents before children, plus the Outbox.
    func hierarchySnapshot(_ context: RequestContext) async throws -> HierarchySnapshot {
        let listing = try await context.session.listMailboxes()
        let namespaces = (try? await context.session.namespaces()) ?? MailNamespaces(personal: [])
        let visible = listing.filter { !namespaces.isForeign($0.name) }
        let byName = Dictionary(visible.map { ($0.name.wireName, $0) }, uniquingKeysWith: { first, _ in first })
        func parentName(_ entry: MailboxListing) -> String? {
            guard let delimiter = entry.delimiter, let cut = entry.name.wireName.lastIndex(of: delimiter) else { return nil }
            return String(entry.name.wireName[..<cut])
        }
        func depth(_ entry: MailboxListing) -> Int {
            guard let delimiter = entry.delimiter else { return 0 }
            return entry.name.wireName.filter { $0 == delimiter }.count
        }
        var entries: [HierarchySnapshot.Entry] = [VirtualOutbox.entry]
        var idsByName: [String: String] = [:]
        for entry in visible.sorted(by: { (depth($0), $0.name.wireName) < (depth($1), $1.name.wireName) }) {
            // A \Noselect parent is still shown, so that its children have a place.
            let parent = parentName(entry).flatMap { idsByName[$0] }
            let type = FolderType.of(entry.specialUse)
            let folder = try await store.saveFolder(of: context.accountId, mailboxName: entry.name.wireName, uidValidity: 0,
                                                    type: type, parentId: parent)
            idsByName[entry.name.wireName] = folder.folderId
            let displayName = entry.name.isInbox ? "Inbox" : entry.name.leafName(delimiter: entry.delimiter)
            entries.append(.init(folderId: folder.folderId, parentId: parent, displayName: displayName,
                                 type: entry.isSelectable || byName[entry.name.wireName] == nil ? type : FolderType.userGeneric))
        }
        return HierarchySnapshot(entries: entries)
    }

    static func difference(from old: HierarchySnapshot, to new: HierarchySnapshot)
        -> (adds: [HierarchySnapshot.Entry], updates: [HierarchySnapshot.Entry], deletes: [String])
    {
        let before = Dictionary(old.entries.map { ($0.folderId, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Set(new.entries.map(\.folderId))
        var adds: [HierarchySnapshot.Entry] = []
        var updates: [HierarchySnapshot.Entry] = []
        for entry in new.entries {
            if let previous = before[entry.folderId] {
                if previous != entry { updates.append(entry) }
            } else {
                adds.append(entry)
            }
        }
        let deletes = old.entries.map(\.folderId).filter { !after.contains($0) }
        return (adds, updates, deletes)
    }
}
