import EASProtocol
import MailUpstream
import SyncState

/// What a Sync request's own Commands did ([MS-ASCMD] 2.2.3.24.x): flag and read changes,
/// deletes and fetches, applied to the mailbox before the server's changes are collected.
struct ClientCommandOutcome {
    /// `Responses` children, for the commands that need one (failures, fetches).
    var responses: [EASElement] = []
    /// Flags the client set, so that the resulting log entries are not echoed back to it.
    var setFlags: [UInt32: [String]] = [:]
    /// Messages the client deleted: no Delete goes back for them.
    var deleted: Set<UInt32> = []
}

extension Gateway {
    /// Most client commands applied from one collection.
    static let maxClientCommands = 512

    func applyClientCommands(_ commands: [EASElement], folder: Folder, folders: [String: Folder], deletesAsMoves: Bool,
                             options: SyncRequest.Options, held: Set<UInt32>, context: RequestContext) async throws
        -> ClientCommandOutcome
    {
        var outcome = ClientCommandOutcome()
        let mailbox = IMAPMailboxName(wire: folder.mailboxName)
        var fetches: [(serverId: String, uid: UInt32)] = []
        for command in commands.prefix(Self.maxClientCommands) {
            let serverId = command.child(AS.serverId)?.text ?? ""
            // An id of another folder or account, or of a message the device never had: not found.
            guard let item = ItemId(serverId), item.folderId == folder.folderId else {
                if command.tag != AS.add { outcome.responses.append(Self.response(command.tag, serverId: serverId, status: "8")) }
                else { outcome.responses.append(Self.addRefused(command)) }
                continue
            }
            switch command.tag {
            case AS.change:
                guard let data = command.child(AS.applicationData) else { continue }
                var add: [String] = []
                var remove: [String] = []
                if let read = data.child(EASTag.Email.read)?.text { (read == "1" ? { add.append("\\Seen") } : { remove.append("\\Seen") })() }
                if let flag = data.child(EASTag.Email.flag) {
                    // Status 2 active, 1 complete, absent or 0 cleared ([MS-ASEMAIL] 2.2.2.33).
                    if flag.child(EASTag.Email.status)?.text == "2" { add.append("\\Flagged") } else { remove.append("\\Flagged") }
                }
                if let categories = data.child(EASTag.Email.categories), context.version >= .v14_0 {
                    let wanted = categories.children(EASTag.Email.category).compactMap(\.text).filter(Self.isKeyword)
                    let current = try await context.session.summaries(in: mailbox, uids: UIDSet(uids: [item.uid])).first?.flags ?? []
                    let existing = current.filter { !$0.hasPrefix("\\") && !$0.hasPrefix("$") }
                    add += wanted.filter { !existing.contains($0) }
                    remove += existing.filter { !wanted.contains($0) }
                }
                do {
                    try await context.session.setFlags(in: mailbox, uids: UIDSet(uids: [item.uid]), add: add, remove: remove)
                    if let now = try await context.session.summaries(in: mailbox, uids: UIDSet(uids: [item.uid])).first {
                        outcome.setFlags[item.uid] = now.flags
                    } else {
                        outcome.responses.append(Self.response(AS.change, serverId: serverId, status: "8"))
                    }
                } catch let error as UpstreamError where error.code == .refused || error.code == .messageNotFound {
                    outcome.responses.append(Self.response(AS.change, serverId: serverId, status: "6"))
                }
            case AS.delete:
                let trash = folders.values.first { $0.type == FolderType.deletedItems }
                do {
                    if deletesAsMoves, let trash, trash.folderId != folder.folderId {
                        _ = try await context.session.move(from: mailbox, uids: UIDSet(uids: [item.uid]),
                                                           to: IMAPMailboxName(wire: trash.mailboxName))
                    } else {
                        try await context.session.expunge(in: mailbox, uids: UIDSet(uids: [item.uid]))
                    }
                    outcome.deleted.insert(item.uid)
                } catch let error as UpstreamError where error.code == .refused || error.code == .messageNotFound {
                    outcome.responses.append(Self.response(AS.delete, serverId: serverId, status: "8"))
                }
            case AS.fetch:
                fetches.append((serverId, item.uid))
            case AS.add:
                outcome.responses.append(Self.addRefused(command))
            default:
                continue
            }
        }
        if !fetches.isEmpty {
            let summaries = try await context.session.summaries(in: mailbox, uids: UIDSet(uids: fetches.map(\.uid)))
            let items = try await emailItems(for: summaries, folderId: folder.folderId, mailbox: mailbox, options: options,
                                             context: context)
            for fetch in fetches {
                if let item = items.first(where: { $0.summary.uid == fetch.uid }) {
                    outcome.responses.append(EASElement(AS.fetch, children: [
                        EASElement(AS.serverId, text: fetch.serverId), EASElement(AS.status, text: "1"),
                        EASElement(AS.applicationData, children: item.applicationData(version: context.version, codec: codec)),
                    ]))
                } else {
                    outcome.responses.append(Self.response(AS.fetch, serverId: fetch.serverId, status: "8"))
                }
            }
        }
        return outcome
    }

    static func response(_ tag: EASTag, serverId: String, status: String) -> EASElement {
        EASElement(tag, children: [EASElement(AS.serverId, text: serverId), EASElement(AS.status, text: status)])
    }

    /// Adds from the client (drafts) come with the mail actions; until then each is refused
    /// with Status 6 so that the client does not believe it stored anything.
    static func addRefused(_ command: EASElement) -> EASElement {
        var children: [EASElement] = []
        if let clientId = command.child(AS.clientId)?.text { children.append(EASElement(AS.clientId, text: clientId)) }
        children.append(EASElement(AS.status, text: "6"))
        return EASElement(AS.add, children: children)
    }

    /// An IMAP keyword a category can become.
    static func isKeyword(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128 && !name.hasPrefix("$") && !name.hasPrefix("\\")
            && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && !"(){ %*\"\\]".utf8.contains($0) }
    }
}
