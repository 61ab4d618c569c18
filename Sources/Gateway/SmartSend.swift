import EASProtocol
import MailUpstream
import SyncState

/// [MS-ASCMD] 2.2.1.19 SmartForward and 2.2.1.20 SmartReply: the client's new text goes out
/// with the original added by the server (quoted below a reply, attached to a forward), unless
/// the client sent the whole message itself (ReplaceMime). The original gets `\Answered` or
/// `$Forwarded`.
extension Gateway {
    /// [MS-ASCMD] 2.2.3.177.1: the source item is not there.
    static let itemNotFound = "150"

    func smartSend(_ context: RequestContext, forward: Bool) async throws -> EASResponse {
        let request: SmartSendRequest
        if let raw = context.request.rawBody {
            let parameters = context.request.parameters
            request = SmartSendRequest(clientId: nil, saveInSentItems: parameters["SaveInSent"]?.uppercased() == "T",
                                       replaceMime: false, sourceFolderId: parameters["CollectionId"],
                                       sourceItemId: parameters["ItemId"], mime: raw)
        } else if let body = context.request.body, let parsed = try? SmartSendRequest(body) {
            request = parsed
        } else {
            return Self.smartFailure(SendStatus.invalidMIME, forward: forward, context)
        }
        let scope = forward ? "smartforward" : "smartreply"
        if let clientId = request.clientId, try await store.serverId(context.deviceRef, scope: scope, clientId: clientId) != nil {
            return .empty
        }
        // The source must be an item of this account's folder.
        let folders = try await store.folders(of: context.accountId)
        guard let itemText = request.sourceItemId, let item = ItemId(itemText),
              let folder = folders.first(where: { $0.folderId == (request.sourceFolderId ?? item.folderId) }),
              folder.folderId == item.folderId
        else { return Self.smartFailure(Self.itemNotFound, forward: forward, context) }
        let mailbox = IMAPMailboxName(wire: folder.mailboxName)
        guard let original = try await context.session.summaries(in: mailbox, uids: UIDSet(uids: [item.uid])).first else {
            return Self.smartFailure(Self.itemNotFound, forward: forward, context)
        }
        var message = OutgoingMessage.completed(request.mime, from: context.account.emailAddress)
        if !forward { message = OutgoingMessage.threaded(message, replyingTo: original) }
        if !request.replaceMime {
            if forward {
                let whole = try await context.session.fetch(in: mailbox, uid: item.uid, section: nil, range: nil)
                message = OutgoingMessage.forwarding(message, original: whole)
            } else {
                let text = try await originalText(original, mailbox: mailbox, context: context)
                message = OutgoingMessage.quoting(message, original: text, attribution: Self.attribution(original))
            }
        }
        if let failure = try await submit(message, clientId: request.clientId, scope: scope,
                                          saveInSent: request.saveInSentItems, context: context) {
            return forward ? failure.renamed(CM.sendMail, to: CM.smartForward)
                : failure.renamed(CM.sendMail, to: CM.smartReply)
        }
        try? await context.session.setFlags(in: mailbox, uids: UIDSet(uids: [item.uid]),
                                            add: [forward ? "$Forwarded" : "\\Answered"], remove: [])
        return .empty
    }

    /// The original's plain text (HTML reduced to text), at most 64 KB of it.
    func originalText(_ original: MessageSummary, mailbox: IMAPMailboxName, context: RequestContext) async throws -> String {
        let choice = BodyChoice.choose(for: original, preferences: [BodyPreference(type: 1, truncationSize: 64 * 1024)])
        guard let part = choice.part else { return "" }
        let bytes = try await context.session.fetch(in: mailbox, uid: original.uid, section: part.section,
                                                    range: 0..<(64 * 1024 * 3))
        let text = codec.text(of: bytes, part: part)
        return choice.convert ? HTMLText.plain(fromHTML: text) : text
    }

    static func attribution(_ original: MessageSummary) -> String {
        let who = original.envelope.from.first.map { $0.name ?? $0.address } ?? "someone"
        return "On \(original.envelope.date ?? EASDate.string(milliseconds: original.internalDate)), \(who) wrote:"
    }

    static func smartFailure(_ status: String, forward: Bool, _ context: RequestContext) -> EASResponse {
        guard context.version >= .v14_0 else { return EASResponse(httpStatus: 400) }
        return .ok(EASElement(forward ? CM.smartForward : CM.smartReply, children: [EASElement(CM.status, text: status)]))
    }
}

extension EASResponse {
    /// The same answer with its root element renamed (SendMail's statuses for SmartReply).
    func renamed(_ from: EASTag, to: EASTag) -> EASResponse {
        guard let body, body.tag == from else { return self }
        var copy = self
        copy.body = EASElement(to, children: body.children)
        return copy
    }
}

extension OutgoingMessage {
    /// Adds In-Reply-To and References ([RFC 5322] 3.6.4) when the client left them out.
    static func threaded(_ message: [UInt8], replyingTo original: MessageSummary) -> [UInt8] {
        guard let id = original.envelope.messageId,
              let end = SubmissionBuilder.endOfHeaders(message)
        else { return message }
        let names = Set(SubmissionBuilder.fields(in: message[..<end]).map { $0.name.lowercased() })
        var added = ""
        if !names.contains("in-reply-to") { added += "In-Reply-To: \(id)\r\n" }
        if !names.contains("references") { added += "References: \((original.references + [id]).joined(separator: " "))\r\n" }
        return Array(added.utf8) + message
    }

    /// The original's text quoted below the client's, when the client's message is one text
    /// part the server can extend without re-encoding it (7bit/8bit, UTF-8 or ASCII); other
    /// shapes go out as the client wrote them.
    static func quoting(_ message: [UInt8], original: String, attribution: String) -> [UInt8] {
        guard let end = SubmissionBuilder.endOfHeaders(message) else { return message }
        let fields = SubmissionBuilder.fields(in: message[..<end])
        let type = fields.first { $0.name.lowercased() == "content-type" }?.text.lowercased() ?? "text/plain"
        let encoding = fields.first { $0.name.lowercased() == "content-transfer-encoding" }?.text.lowercased() ?? "7bit"
        guard ["7bit", "8bit"].contains(encoding), type.hasPrefix("text/plain") || type.hasPrefix("text/html"),
              !type.contains("charset") || type.contains("utf-8") || type.contains("us-ascii")
        else { return message }
        let quoted = original.split(separator: "\n", omittingEmptySubsequences: false)
            .map { "> " + $0.replacing("\r", with: "") }.joined(separator: "\r\n")
        var body = Array(message[end...])
        if type.hasPrefix("text/html") {
            let block = "<p>\(HTMLText.escaped(attribution))</p><blockquote type=\"cite\"><pre>\(HTMLText.escaped(original))</pre></blockquote>"
            let text = String(decoding: body, as: UTF8.self)
            if let close = text.firstRange(of: "</body>") ?? text.firstRange(of: "</BODY>") {
                body = Array((text[..<close.lowerBound] + block + text[close.lowerBound...]).utf8)
            } else {
                body += Array(block.utf8)
            }
        } else {
            body += Array("\r\n\r\n\(attribution)\r\n\(quoted)\r\n".utf8)
        }
        // Declare UTF-8 and 8bit: the quote may bring non-ASCII text into an ASCII message.
        var headers: [UInt8] = []
        for field in fields {
            switch field.name.lowercased() {
            case "content-type": headers += Array("Content-Type: \(type.hasPrefix("text/html") ? "text/html" : "text/plain"); charset=utf-8\r\n".utf8)
            case "content-transfer-encoding": continue
            default: headers += field.raw
            }
        }
        if !fields.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers += Array("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n".utf8)
        }
        headers += Array("Content-Transfer-Encoding: 8bit\r\n".utf8)
        return headers + body
    }

    /// The client's message as the first part of a multipart/mixed whose second part is the
    /// original, attached whole (message/rfc822) with all its attachments.
    static func forwarding(_ message: [UInt8], original: [UInt8]) -> [UInt8] {
        guard let end = SubmissionBuilder.endOfHeaders(message) else { return message }
        let fields = SubmissionBuilder.fields(in: message[..<end])
        var outer: [UInt8] = []
        var content: [UInt8] = []
        for field in fields {
            let name = field.name.lowercased()
            if name == "mime-version" { continue }
            if name.hasPrefix("content-") { content += field.raw } else { outer += field.raw }
        }
        if content.isEmpty { content = Array("Content-Type: text/plain; charset=utf-8\r\n".utf8) }
        var generator = SystemRandomNumberGenerator()
        let boundary = "airgate-\(String(generator.next(), radix: 36))\(String(generator.next(), radix: 36))"
        var body = message[end...]
        // The blank line that ended the headers.
        if body.first == 13 { body = body.dropFirst() }
        if body.first == 10 { body = body.dropFirst() }
        return outer + Array("""
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="\(boundary)"\r
            \r
            --\(boundary)\r

            """.utf8) + content + Array("\r\n".utf8) + Array(body) + Array("""
            \r
            --\(boundary)\r
            Content-Type: message/rfc822\r
            Content-Disposition: attachment; filename="forwarded.eml"\r
            \r

            """.utf8) + original + Array("\r\n--\(boundary)--\r\n".utf8)
    }
}
