import EASProtocol
import MailUpstream
import SyncState

/// [MS-ASCMD] 2.2.1.2 Find (16.1): the mailbox search of Search (same IMAP SEARCH, same
/// newest-first paging) answered in Find's lighter shape, a folder's subfolders included with
/// DeepTraversal; and the address book for GALSearchCriterion.
extension Gateway {
    typealias FD = EASTag.Find

    /// [MS-ASCMD] 2.2.3.177.2 Find Status values.
    enum FindStatus {
        static let success = "1"
        static let invalidRequest = "2"
        static let folderSyncRequired = "3"
    }

    func find(_ context: RequestContext) async throws -> EASResponse {
        func answer(_ status: String, _ response: [EASElement]? = nil) -> EASResponse {
            var children = [EASElement(FD.status, text: status)]
            if let response { children.append(EASElement(FD.response, children: response)) }
            return .ok(EASElement(FD.find, children: children))
        }
        guard let body = context.request.body, let request = try? FindRequest(body) else {
            return answer(FindStatus.invalidRequest)
        }
        var results: [EASElement] = []
        let total: Int
        let storeName: String
        switch request.target {
        case .gal:
            storeName = "GAL"
            let all = directory(for: context.account).find(request.text, limit: 10_000)
            total = all.count
            for entry in all.dropFirst(request.range.lowerBound).prefix(request.range.count) {
                results.append(EASElement(FD.result, children: [EASElement(FD.properties, children: [
                    EASElement(EASTag.GAL.displayName, text: entry.name ?? entry.address),
                    EASElement(EASTag.GAL.emailAddress, text: entry.address),
                ])]))
            }
        case .mailbox(let collectionId, let deepTraversal):
            storeName = "Mailbox"
            let all = try await store.folders(of: context.accountId)
            var folders = all
            if let collectionId {
                guard let root = all.first(where: { $0.folderId == collectionId }) else {
                    return answer(FindStatus.folderSyncRequired)
                }
                folders = [root] + (deepTraversal ? Self.descendants(of: root.folderId, in: all) : [])
            }
            let matches = try await mailboxMatches(in: folders, MailSearch(text: request.text), range: request.range,
                                                   context: context)
            total = matches.total
            results = try await findResults(matches.page, context: context)
        }
        var response = [EASElement(EASTag.ItemOperations.store, text: storeName), EASElement(FD.status, text: FindStatus.success)]
        response += results
        if !results.isEmpty {
            response.append(EASElement(FD.range, text: "\(request.range.lowerBound)-\(request.range.lowerBound + results.count - 1)"))
        }
        response.append(EASElement(FD.total, text: String(total)))
        return answer(FindStatus.success, response)
    }

    /// Every folder below `folderId`, however deep.
    static func descendants(of folderId: String, in folders: [Folder]) -> [Folder] {
        var found: [Folder] = []
        var parents: Set<String> = [folderId]
        // Each pass adds one level; a hierarchy is at most as deep as it has folders.
        for _ in 0..<folders.count {
            let level = folders.filter { folder in
                folder.parentId.map(parents.contains) == true && !found.contains { $0.folderId == folder.folderId }
            }
            if level.isEmpty { break }
            found += level
            parents.formUnion(level.map(\.folderId))
        }
        return found
    }

    /// Find's Result: the item's identity and the few properties a results list shows
    /// ([MS-ASCMD] 2.2.3.137.1), with a plain-text preview of up to 255 characters.
    private func findResults(_ page: [(folder: Folder, summary: MessageSummary)], context: RequestContext) async throws
        -> [EASElement]
    {
        typealias E = EASTag.Email
        let preferences = [BodyPreference(type: 1, truncationSize: 1024, preview: 255)]
        return try await emailItems(for: page, preferences: preferences, context: context).map { folder, item in
            let summary = item.summary
            let envelope = summary.envelope
            let preview = BodyContent.make(choice: item.choice, summary: summary, bytes: item.bytes, codec: codec).previewText
            var properties = [
                EASElement(E.subject, text: envelope.subject ?? ""),
                EASElement(E.dateReceived, text: EASDate.string(milliseconds: summary.internalDate)),
                EASElement(E.displayTo, text: envelope.to.map { $0.name ?? $0.address }.joined(separator: "; ")),
            ]
            if !envelope.cc.isEmpty {
                properties.append(EASElement(FD.displayCc, text: envelope.cc.map { $0.name ?? $0.address }.joined(separator: "; ")))
            }
            properties += [
                EASElement(E.importance, text: String(EmailItem.importance(summary.headers))),
                EASElement(E.read, text: summary.flags.contains("\\Seen") ? "1" : "0"),
                EASElement(EASTag.Email2.isDraft, text: summary.flags.contains("\\Draft") ? "1" : "0"),
                EASElement(FD.preview, text: String(preview.prefix(255))),
                EASElement(FD.hasAttachments, text: EmailItem.attachments(of: summary, folderId: folder.folderId).isEmpty ? "0" : "1"),
            ]
            if let from = envelope.from.first { properties.append(EASElement(E.from, text: EmailItem.addressList([from]))) }
            return EASElement(FD.result, children: [
                EASElement(EASTag.AirSync.class, text: "Email"),
                EASElement(EASTag.AirSync.serverId, text: ItemId(folderId: folder.folderId, uid: summary.uid).text),
                EASElement(EASTag.AirSync.collectionId, text: folder.folderId),
                EASElement(FD.properties, children: properties),
            ])
        }
    }
}
