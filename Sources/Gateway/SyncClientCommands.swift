import EASProtocol
import MailUpstream
import SyncState

/// What a Sync request's own Commands did ([MS-ASCMD] 2.2.3.24.x): flag and read changes,
/// deletes and fetches, applied to the mailbox before the server's changes are collected.
struct ClientCommandOutcome {
    /// `Responses` children, for the commands that need one (failures, fetches).
    var responses: [EASElement] = []
    /// Per message the client changed, the flags it believes the message has now: log entries
    /// with these are the echo of its own change and are not sent back.
    var setFlags: [UInt32: [String]] = [:]
    /// Messages the client deleted: no Delete goes back for them.
    var deleted: Set<UInt32> = []
    /// Messages the client added (drafts): the device holds them already.
    var added: [UInt32] = []
}

extension Gateway {
    /// Most client commands applied from one collection.
    static let maxClientCommands = 512

    func applyClientCommands(_ commands: [EASElement], folder: Folder, folders: [String: Folder], deletesAsMoves: Bool,
                             options: SyncRequest.Options, context: RequestContext) async throws
        -> ClientCommandOutcome
    {
        var outcome = ClientCommandOutcome()
        let mailbox = IMAPMailboxName(wire: folder.mailboxName)
        var fetches: [(serverId: String, uid: UInt32)] = []
        for command in commands.prefix(Self.maxClientCommands) {
            if command.tag == AS.add {
                outcome.responses.append(try await addDraft(command, folder: folder, context: context, outcome: &outcome))
                continue
            }
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
                if folder.type == FolderType.drafts, context.version >= .v16_0, DraftMessage.changesContent(data) {
                    if let failure = try await changeDraft(serverId: serverId, uid: item.uid, data: data, folder: folder,
                                                           context: context) {
                        outcome.responses.append(failure)
                    }
                    continue
                }
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
                    let stored = try await context.session.setFlags(in: mailbox, uids: UIDSet(uids: [item.uid]), add: add,
                                                                    remove: remove).first { $0.uid == item.uid }
                    // What the device believes now: the flags its STORE left, as the server
                    // answered it. A log entry with exactly these is the echo of its change; a
                    // change by another client a moment later (even to another flag) makes the
                    // logged flags differ, and the entry goes out to the device. Read back, with
                    // the change applied, only when the server did not answer with the flags.
                    let now = if let stored { stored.flags } else {
                        try await context.session.summaries(in: mailbox, uids: UIDSet(uids: [item.uid])).first.map { summary in
                            Set(summary.flags).union(add).subtracting(remove).sorted()
                        }
                    }
                    if let now {
                        outcome.setFlags[item.uid] = now
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

extension Gateway {
    /// A draft the client creates ([MS-ASCMD] 2.2.3.7.2, 16.0+): built into a message and
    /// stored in the Drafts folder with `\Draft`. A replay with the same ClientId gets the
    /// ServerId given the first time, and no second copy.
    func addDraft(_ command: EASElement, folder: Folder, context: RequestContext, outcome: inout ClientCommandOutcome) async throws
        -> EASElement
    {
        guard context.version >= .v16_0, folder.type == FolderType.drafts,
              let clientId = command.child(AS.clientId)?.text, clientId.utf8.count <= 64,
              let data = command.child(AS.applicationData)
        else { return Self.addRefused(command) }
        let scope = "add:\(folder.folderId)"
        func added(_ serverId: String) -> EASElement {
            EASElement(AS.add, children: [
                EASElement(AS.clientId, text: clientId), EASElement(AS.serverId, text: serverId), EASElement(AS.status, text: "1"),
            ])
        }
        if let known = try await store.serverId(context.deviceRef, scope: scope, clientId: clientId) { return added(known) }
        let message = DraftMessage.build(from: data, sender: context.account.emailAddress)
        let uid: UInt32?
        do {
            uid = try await context.session.append(to: IMAPMailboxName(wire: folder.mailboxName), message: message,
                                                    flags: ["\\Draft", "\\Seen"], internalDate: Self.wallClockMilliseconds())
        } catch let error as UpstreamError where error.code == .refused || error.code == .mailboxNotFound {
            return Self.addRefused(command)
        }
        guard let uid else {
            // Without APPENDUID the new message cannot be named; the next Sync brings it as new.
            return Self.addRefused(command)
        }
        let serverId = try await store.recordClientId(context.deviceRef, scope: scope, clientId: clientId,
                                                      serverId: ItemId(folderId: folder.folderId, uid: uid).text)
        outcome.added.append(uid)
        outcome.setFlags[uid] = ["\\Draft", "\\Seen"]
        return added(serverId)
    }
}

extension Gateway {
    /// A 16.x client's edit of a draft ([MS-ASEMAIL] 2.2.2 in Drafts): the fields it sends
    /// replace the draft's, the message is stored anew and the old one expunged, so the next
    /// Sync brings the draft back under a new ServerId (IMAP cannot change a message in place).
    /// With `Email2:Send` the draft goes out instead, is filed in Sent and leaves Drafts. A
    /// draft with attachments is not rewritten (the phone does not send them back). Returns
    /// the Change's failure response, or nil.
    func changeDraft(serverId: String, uid: UInt32, data: EASElement, folder: Folder, context: RequestContext) async throws
        -> EASElement?
    {
        let mailbox = IMAPMailboxName(wire: folder.mailboxName)
        guard let summary = try await context.session.summaries(in: mailbox, uids: UIDSet(uids: [uid])).first else {
            return Self.response(AS.change, serverId: serverId, status: "8")
        }
        guard EmailItem.attachments(of: summary, folderId: folder.folderId).isEmpty else {
            logger.notice("a draft with attachments was not rewritten from the phone")
            return Self.response(AS.change, serverId: serverId, status: "6")
        }
        let current = try await emailItems(
            for: [summary], folderId: folder.folderId, mailbox: mailbox,
            options: SyncRequest.Options(bodyPreferences: [BodyPreference(type: 2), BodyPreference(type: 1)]), context: context
        ).first
        var fields = current?.applicationData(version: context.version, codec: codec) ?? []
        for field in data.children where field.tag != EASTag.Email2.send {
            if let index = fields.firstIndex(where: { $0.tag == field.tag }) { fields[index] = field } else { fields.append(field) }
        }
        let message = DraftMessage.build(from: EASElement(AS.applicationData, children: fields), sender: context.account.emailAddress)
        do {
            if data.child(EASTag.Email2.send) != nil {
                if try await submit(OutgoingMessage.completed(message, from: context.account.emailAddress), clientId: nil,
                                    scope: "draft", saveInSent: true, context: context) != nil {
                    return Self.response(AS.change, serverId: serverId, status: "6")
                }
            } else {
                _ = try await context.session.append(to: mailbox, message: message, flags: ["\\Draft", "\\Seen"],
                                                     internalDate: Self.wallClockMilliseconds())
            }
            try await context.session.expunge(in: mailbox, uids: UIDSet(uids: [uid]))
        } catch let error as UpstreamError where error.code == .refused || error.code == .messageNotFound {
            return Self.response(AS.change, serverId: serverId, status: "6")
        }
        return nil
    }
}

/// A draft's fields ([MS-ASEMAIL] To, Cc, Subject, Importance, Body) as an RFC 5322 message.
enum DraftMessage {
    /// Whether a Change touches what the message says, not only its flags.
    static func changesContent(_ data: EASElement) -> Bool {
        let content: Set<EASTag> = [EASTag.Email.to, EASTag.Email.cc, EASTag.Email2.bcc, EASTag.Email.subject,
                                    EASTag.Email.importance, EASTag.AirSyncBase.body, EASTag.Email2.send]
        return data.children.contains { content.contains($0.tag) }
    }

    static func build(from data: EASElement, sender: String) -> [UInt8] {
        func header(_ value: String) -> String {
            // No line breaks from the client into the header block.
            value.filter { $0 != "\r" && $0 != "\n" }
        }
        var lines: [String] = ["From: \(header(sender))"]
        if let to = data.child(EASTag.Email.to)?.text, !to.isEmpty { lines.append("To: \(header(to))") }
        if let cc = data.child(EASTag.Email.cc)?.text, !cc.isEmpty { lines.append("Cc: \(header(cc))") }
        if let bcc = data.child(EASTag.Email2.bcc)?.text, !bcc.isEmpty { lines.append("Bcc: \(header(bcc))") }
        lines.append("Subject: \(HeaderEncoding.encoded(data.child(EASTag.Email.subject)?.text ?? ""))")
        switch data.child(EASTag.Email.importance)?.text {
        case "2": lines.append("Importance: High")
        case "0": lines.append("Importance: Low")
        default: break
        }
        lines.append("Date: \(RFC5322Date.now())")
        let body = data.child(EASTag.AirSyncBase.body)
        let isHTML = body?.child(EASTag.AirSyncBase.type)?.text == "2"
        var text = body?.child(EASTag.AirSyncBase.data)?.text ?? ""
        text = text.replacing("\r\n", with: "\n").replacing("\n", with: "\r\n")
        lines += ["MIME-Version: 1.0", "Content-Type: text/\(isHTML ? "html" : "plain"); charset=utf-8",
                  "Content-Transfer-Encoding: 8bit"]
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + text + "\r\n").utf8)
    }
}
