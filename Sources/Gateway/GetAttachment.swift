import EASProtocol
import MailUpstream

/// [MS-ASCMD] 2.2.1.8 GetAttachment (12.0–14.1): the attachment named by the
/// `AttachmentName` query parameter — a FileReference this gateway gave in Sync — as the
/// response body, decoded, with the attachment's own Content-Type. 16.x clients use
/// ItemOperations instead and get 400 here.
extension Gateway {
    func getAttachment(_ context: RequestContext) async throws -> EASResponse {
        guard context.version < .v16_0, let name = context.request.parameters["AttachmentName"],
              let reference = FileReference(name)
        else { return EASResponse(httpStatus: 400) }
        // Only the requesting account's folders: another account's reference names nothing.
        guard let folder = try await store.folders(of: context.accountId).first(where: { $0.folderId == reference.folderId }) else {
            return EASResponse(httpStatus: 404)
        }
        let mailbox = IMAPMailboxName(wire: folder.mailboxName)
        guard let summary = try await context.session.summaries(in: mailbox, uids: UIDSet(uids: [reference.uid])).first,
              let part = summary.structure?.part(reference.section), !part.isMultipart
        else { return EASResponse(httpStatus: 404) }
        // Encoded base64 takes a third more than the limit it decodes to.
        guard part.size <= Self.largestFetchedAttachment * 4 / 3 + 4096 else {
            logger.notice("GetAttachment refused: attachment above the size limit", metadata: ["size": "\(part.size)"])
            return EASResponse(httpStatus: 413)
        }
        let content = try await attachmentContent(part, uid: reference.uid, in: mailbox, session: context.session)
        return EASResponse(rawBody: [content], rawBodyType: part.mediaType)
    }
}
