import EASProtocol
import MailUpstream
import SyncState

/// [MS-ASCMD] 2.2.1.16 Search: the Mailbox store through IMAP SEARCH (Dovecot's full-text
/// index when configured), newest first, with Range and Total; the GAL store knows the
/// account itself.
extension Gateway {
    typealias SR = EASTag.Search

    func search(_ context: RequestContext) async throws -> EASResponse {
        func answer(_ status: String, _ store: [EASElement] = []) -> EASResponse {
            var children = [EASElement(SR.status, text: status)]
            if !store.isEmpty { children.append(EASElement(SR.response, children: [EASElement(SR.store, children: store)])) }
            return .ok(EASElement(SR.search, children: children))
        }
        guard let body = context.request.body, let request = try? SearchRequest(body) else {
            // [MS-ASCMD] 2.2.3.177.14 Status 2: the request was invalid.
            return answer("2")
        }
        switch request.store.lowercased() {
        case "mailbox":
            return answer("1", try await mailboxSearch(request, context: context))
        case "gal":
            let all = directory(for: context.account).find(request.text ?? "", limit: 10_000)
            let page = all.count > request.range.lowerBound
                ? Array(all[request.range.lowerBound..<min(all.count, request.range.upperBound + 1)]) : []
            var store = [EASElement(SR.status, text: "1")]
            for entry in page {
                store.append(EASElement(SR.result, children: [EASElement(SR.properties, children: [
                    EASElement(EASTag.GAL.displayName, text: entry.name ?? entry.address),
                    EASElement(EASTag.GAL.emailAddress, text: entry.address),
                ])]))
            }
            if page.isEmpty {
                store.append(EASElement(SR.result))
            } else {
                store.append(EASElement(SR.range, text: "\(request.range.lowerBound)-\(request.range.lowerBound + page.count - 1)"))
            }
            store.append(EASElement(SR.total, text: String(all.count)))
            return answer("1", store)
        default:
            // Status 3: the store is not one this server has (DocumentLibrary).
            return answer("3")
        }
    }

    private func mailboxSearch(_ request: SearchRequest, context: RequestContext) async throws -> [EASElement] {
        let all = try await store.folders(of: context.accountId)
        let folders = request.collectionIds.isEmpty ? all : all.filter { request.collectionIds.contains($0.folderId) }
        let query = MailSearch(text: request.text.flatMap { $0.isEmpty ? nil : $0 },
                               since: request.receivedAfter.flatMap(EASDate.milliseconds(iso:)),
                               before: request.receivedBefore.flatMap(EASDate.milliseconds(iso:)))
        let (page, total) = try await mailboxMatches(in: folders, query, range: request.range, context: context)
        let preferences = request.bodyPreferences.isEmpty ? [BodyPreference(type: 1, truncationSize: 512)] : request.bodyPreferences
        let results = try await emailItems(for: page, preferences: preferences, context: context).map { folder, item in
            EASElement(SR.result, children: [
                EASElement(EASTag.AirSync.class, text: "Email"),
                EASElement(SR.longId, text: ItemId(folderId: folder.folderId, uid: item.summary.uid).text),
                EASElement(EASTag.AirSync.collectionId, text: folder.folderId),
                EASElement(SR.properties, children: item.applicationData(version: context.version, codec: codec)),
            ])
        }
        var store = [EASElement(SR.status, text: "1")]
        if results.isEmpty {
            store.append(EASElement(SR.result))
        } else {
            store += results
            store.append(EASElement(SR.range, text: "\(request.range.lowerBound)-\(request.range.lowerBound + results.count - 1)"))
        }
        store.append(EASElement(SR.total, text: String(total)))
        return store
    }

    /// A page of matches as email items, in the page's order (newest first), fetched one
    /// folder at a time.
    func emailItems(for page: [(folder: Folder, summary: MessageSummary)], preferences: [BodyPreference],
                    context: RequestContext) async throws -> [(folder: Folder, item: EmailItem)] {
        var items: [String: (folder: Folder, item: EmailItem)] = [:]
        for group in Dictionary(grouping: page, by: { $0.folder.folderId }).values {
            let folder = group[0].folder
            for item in try await emailItems(for: group.map(\.summary), folderId: folder.folderId,
                                             mailbox: IMAPMailboxName(wire: folder.mailboxName),
                                             options: SyncRequest.Options(bodyPreferences: preferences), context: context) {
                items[ItemId(folderId: folder.folderId, uid: item.summary.uid).text] = (folder, item)
            }
        }
        return page.compactMap { items[ItemId(folderId: $0.folder.folderId, uid: $0.summary.uid).text] }
    }

    /// The messages matching `query` across `folders`, newest first, cut to `range`, and how
    /// many match in all. Search and Find both answer from this.
    func mailboxMatches(in folders: [Folder], _ query: MailSearch, range: ClosedRange<Int>, context: RequestContext) async throws
        -> (page: [(folder: Folder, summary: MessageSummary)], total: Int)
    {
        let wanted = range.upperBound + 1
        var total = 0
        var candidates: [(folder: Folder, summary: MessageSummary)] = []
        for folder in folders {
            let mailbox = IMAPMailboxName(wire: folder.mailboxName)
            let uids = try await context.session.search(in: mailbox, query)
            total += uids.count
            let newest = Array(uids.sorted(by: >).prefix(wanted))
            guard !newest.isEmpty else { continue }
            for summary in try await context.session.summaries(in: mailbox, uids: UIDSet(uids: newest)) {
                candidates.append((folder, summary))
            }
        }
        let ordered = candidates.sorted { ($0.summary.internalDate, $0.summary.uid) > ($1.summary.internalDate, $1.summary.uid) }
        let page = ordered.count > range.lowerBound ? Array(ordered[range.lowerBound..<min(ordered.count, wanted)]) : []
        return (page, total)
    }
}

extension EASDate {
    /// `2026-11-23T09:41:00.000Z` (or without fraction) to milliseconds since 1970.
    static func milliseconds(iso text: String) -> Int64? {
        let digits = text.split(whereSeparator: { !$0.isNumber }).map { Int64($0) ?? 0 }
        guard digits.count >= 6 else { return nil }
        let days = CivilDate.days(year: digits[0], month: digits[1], day: digits[2])
        return ((days * 86_400) + digits[3] * 3600 + digits[4] * 60 + digits[5]) * 1000
    }
}
