import EASProtocol
import MailUpstream
import SyncState

/// [MS-ASCMD] 2.2.1.2 FolderCreate, 2.2.1.3 FolderDelete and 2.2.1.4 FolderUpdate on IMAP
/// mailboxes; folder ids stay stable across renames, and the hierarchy key moves on.
extension Gateway {
    /// [MS-ASCMD] 2.2.3.177.2–4 Status values.
    enum FolderChangeStatus {
        static let success = "1"
        static let exists = "2"
        static let special = "3"
        static let notFound = "4"
        static let parentNotFound = "5"
        static let serverError = "6"
        static let invalidKey = "9"
        static let malformed = "10"
    }

    func folderChange(_ context: RequestContext, root: EASTag) async throws -> EASResponse {
        func status(_ value: String, key: String? = nil, serverId: String? = nil) -> EASResponse {
            var children = [EASElement(FH.status, text: value)]
            if let key { children.append(EASElement(FH.syncKey, text: key)) }
            if let serverId { children.append(EASElement(FH.serverId, text: serverId)) }
            return .ok(EASElement(root, children: children))
        }
        guard let body = context.request.body, let request = try? FolderChangeRequest(body) else {
            return status(FolderChangeStatus.malformed)
        }
        guard request.syncKey.utf8.count <= 64,
              case .current(let currentKey, _) = try await store.hierarchy(context.deviceRef, key: SyncKey(request.syncKey))
        else { return status(FolderChangeStatus.invalidKey) }

        let listing = try await context.session.listMailboxes()
        let delimiter = listing.compactMap(\.delimiter).first
        let folders = try await store.folders(of: context.accountId)
        let byId = Dictionary(folders.map { ($0.folderId, $0) }, uniquingKeysWith: { first, _ in first })
        func isSpecial(_ folder: Folder) -> Bool {
            folder.type != FolderType.userMail && folder.type != FolderType.userGeneric
        }
        func parentPath(_ parentId: String?) -> (ok: Bool, path: String?) {
            guard let parentId, parentId != "0" else { return (true, nil) }
            guard let parent = byId[parentId] else { return (false, nil) }
            return (true, parent.mailboxName)
        }
        func path(for name: String, under parent: String?) -> IMAPMailboxName? {
            let leaf = ModifiedUTF7.encode(name)
            guard let parent else { return IMAPMailboxName(wire: leaf) }
            guard let delimiter else { return nil }
            return IMAPMailboxName(wire: parent + String(delimiter) + leaf)
        }

        var newServerId: String?
        do {
            switch request.kind {
            case .create:
                let (ok, parent) = parentPath(request.parentId)
                guard ok, let name = request.displayName, let mailbox = path(for: name, under: parent) else {
                    return status(FolderChangeStatus.parentNotFound)
                }
                if listing.contains(where: { $0.name == mailbox }) { return status(FolderChangeStatus.exists) }
                do {
                    try await context.session.createMailbox(mailbox)
                } catch let error as UpstreamError where error.code == .mailboxExists {
                    // It was not there a moment ago: Dovecot 2.3 can answer ALREADYEXISTS to a
                    // CREATE that created it, under concurrent creates and deletes.
                }
                let folder = try await store.saveFolder(of: context.accountId, mailboxName: mailbox.wireName, uidValidity: 0,
                                                        type: FolderType.userMail, parentId: request.parentId == "0" ? nil : request.parentId)
                newServerId = folder.folderId
            case .delete:
                guard let id = request.serverId, let folder = byId[id] else { return status(FolderChangeStatus.notFound) }
                guard !isSpecial(folder) else { return status(FolderChangeStatus.special) }
                try await context.session.deleteMailbox(IMAPMailboxName(wire: folder.mailboxName))
            case .update:
                guard let id = request.serverId, let folder = byId[id] else { return status(FolderChangeStatus.notFound) }
                guard !isSpecial(folder) else { return status(FolderChangeStatus.special) }
                let (ok, parent) = parentPath(request.parentId ?? folder.parentId)
                guard ok, let name = request.displayName, let target = path(for: name, under: parent) else {
                    return status(FolderChangeStatus.parentNotFound)
                }
                let old = folder.mailboxName
                if target.wireName != old {
                    if listing.contains(where: { $0.name == target }) { return status(FolderChangeStatus.exists) }
                    try await context.session.renameMailbox(IMAPMailboxName(wire: old), to: target)
                    // The ids stay: the folder and everything below it are renamed in the store.
                    let parentId = request.parentId == "0" ? nil : (request.parentId ?? folder.parentId)
                    try await store.renameFolder(FolderRef(account: context.accountId, folderId: folder.folderId),
                                                 mailboxName: target.wireName, parentId: parentId)
                    if let delimiter {
                        let prefix = old + String(delimiter)
                        for child in folders where child.mailboxName.hasPrefix(prefix) {
                            let renamed = target.wireName + String(delimiter) + child.mailboxName.dropFirst(prefix.count)
                            try await store.renameFolder(FolderRef(account: context.accountId, folderId: child.folderId),
                                                         mailboxName: renamed, parentId: child.parentId)
                        }
                    }
                }
            }
        } catch let error as UpstreamError where error.code == .mailboxExists {
            return status(FolderChangeStatus.exists)
        } catch let error as UpstreamError where error.code == .mailboxNotFound {
            return status(FolderChangeStatus.notFound)
        } catch let error as UpstreamError where error.code == .refused {
            logger.notice("folder change refused", metadata: ["error": "\(error)"])
            return status(FolderChangeStatus.serverError)
        }
        // The device's hierarchy now includes the change, so its next FolderSync does not
        // report it again.
        let snapshot = try await hierarchySnapshot(context)
        let listed = Set(snapshot.entries.map(\.folderId))
        for folder in try await store.folders(of: context.accountId) where !listed.contains(folder.folderId) {
            try await store.deleteFolder(FolderRef(account: context.accountId, folderId: folder.folderId))
        }
        let next = try await store.advanceHierarchy(context.deviceRef, from: currentKey, expectedCurrent: currentKey,
                                                    to: snapshot)
        return status(FolderChangeStatus.success, key: next.rawValue, serverId: newServerId)
    }
}
