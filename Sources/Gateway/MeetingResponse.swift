import EASProtocol
import MailUpstream
import SyncState

/// [MS-ASCMD] 2.2.1.11 MeetingResponse for invitations that arrived by mail. There is no
/// calendar behind this gateway, so no CalendarId is answered; the invitation is marked
/// answered and read, and from 16.0 the iTIP REPLY goes to the organizer by SMTP when the
/// client asks for it (SendResponse). Before 16.0 the client sends its own answer by SendMail,
/// as the spec has it.
extension Gateway {
    typealias MR = EASTag.MeetingResponse

    /// [MS-ASCMD] 2.2.3.177.9 MeetingResponse Status values.
    enum MeetingResponseStatus {
        static let success = "1"
        static let invalidRequest = "2"
        static let mailboxError = "3"
        static let serverError = "4"
    }

    func meetingResponse(_ context: RequestContext) async throws -> EASResponse {
        guard let body = context.request.body, let request = try? MeetingResponseRequest(body) else {
            return EASResponse(httpStatus: 400)
        }
        let folders = Dictionary(try await store.folders(of: context.accountId).map { ($0.folderId, $0) },
                                 uniquingKeysWith: { first, _ in first })
        var results: [EASElement] = []
        for answer in request.answers {
            let status = try await respond(answer, folders: folders, context: context)
            var children: [EASElement] = []
            if let requestId = answer.requestId { children.append(EASElement(MR.requestId, text: requestId)) }
            children.append(EASElement(MR.status, text: status))
            results.append(EASElement(MR.result, children: children))
        }
        return .ok(EASElement(MR.meetingResponse, children: results))
    }

    /// One answer's status. Throws only what makes the whole request a 503.
    func respond(_ answer: MeetingResponseRequest.Answer, folders: [String: Folder], context: RequestContext) async throws
        -> String
    {
        // The item must be an invitation in one of this account's folders.
        guard let itemText = answer.longId ?? answer.requestId, let item = ItemId(itemText),
              let folder = folders[item.folderId], answer.collectionId == nil || answer.collectionId == folder.folderId
        else { return MeetingResponseStatus.invalidRequest }
        let mailbox = IMAPMailboxName(wire: folder.mailboxName)
        let invitation: Invitation
        do {
            guard let summary = try await context.session.summaries(in: mailbox, uids: UIDSet(uids: [item.uid])).first,
                  let found = try await self.invitation(in: summary, mailbox: mailbox, context: context), found.method == "REQUEST"
            else { return MeetingResponseStatus.invalidRequest }
            invitation = found
        } catch let error as UpstreamError where error.code != .unavailable {
            logger.warning("meeting response: the invitation could not be read", metadata: ["error": "\(error)"])
            return MeetingResponseStatus.mailboxError
        }
        let reply: Invitation.Answer = answer.userResponse == 1 ? .accepted : answer.userResponse == 2 ? .tentative : .declined
        if context.version >= .v16_0, answer.sendResponse, invitation.responseRequested, let organizer = invitation.organizer {
            let message = Self.meetingReplyMessage(invitation, answer: reply, from: context.account.emailAddress,
                                                   to: organizer, note: answer.responseText)
            guard let submitter = context.account.submitter else {
                logger.error("meeting response: no submission server configured")
                return MeetingResponseStatus.serverError
            }
            do {
                let submission = try SubmissionBuilder.submission(from: message, sender: context.account.emailAddress, codec: codec)
                _ = try await submitter.submit(submission)
            } catch {
                logger.warning("meeting response: the answer to the organizer failed", metadata: ["error": "\(error)"])
                return MeetingResponseStatus.serverError
            }
        }
        do {
            try await context.session.setFlags(in: mailbox, uids: UIDSet(uids: [item.uid]), add: ["\\Answered", "\\Seen"], remove: [])
        } catch let error as UpstreamError where error.code != .unavailable {
            logger.warning("meeting response: the invitation could not be marked", metadata: ["error": "\(error)"])
        }
        return MeetingResponseStatus.success
    }

    /// The invitation a message carries in a text/calendar part, if any.
    func invitation(in summary: MessageSummary, mailbox: IMAPMailboxName, context: RequestContext) async throws -> Invitation? {
        guard let part = EmailItem.calendarPart(of: summary) else { return nil }
        let request = EmailItem.calendarRequest(uid: summary.uid, part: part)
        guard let bytes = try await context.session.fetchParts(in: mailbox, [request])[request] else { return nil }
        return Invitation(codec.text(of: bytes, part: part))
    }

    /// The answer to the organizer: a short text part and the iTIP REPLY as text/calendar
    /// (`method=REPLY`), the form Outlook, Google and Apple calendars read.
    static func meetingReplyMessage(_ invitation: Invitation, answer: Invitation.Answer, from address: String, to organizer: String,
                                    note: String?) -> [UInt8] {
        let now = wallClockMilliseconds()
        let stamp = EASDate.string(milliseconds: now).filter { $0 != "-" && $0 != ":" }.prefix(15) + "Z"
        let calendar = invitation.reply(from: address, name: nil, answer: answer, stamp: String(stamp))
        let boundary = "airgate-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let subject = answer.subjectPrefix + ": " + (invitation.summary ?? "")
        var text = "\(address) has \(answer == .tentative ? "tentatively accepted" : answer.rawValue.lowercased()) this invitation."
        if let note, !note.isEmpty { text = note + "\r\n\r\n" + text }
        let message = """
            From: \(address)\r
            To: \(organizer)\r
            Subject: \(HeaderEncoding.encoded(subject))\r
            MIME-Version: 1.0\r
            Content-Type: multipart/alternative; boundary="\(boundary)"\r
            \r
            --\(boundary)\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: 8bit\r
            \r
            \(text.replacing("\r\n", with: "\n").replacing("\n", with: "\r\n"))\r
            --\(boundary)\r
            Content-Type: text/calendar; charset=utf-8; method=REPLY\r
            Content-Transfer-Encoding: 8bit\r
            \r
            \(calendar)--\(boundary)--\r

            """
        return OutgoingMessage.completed(Array(message.utf8), from: address)
    }
}
