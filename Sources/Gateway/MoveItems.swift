import EASProtocol
import MailUpstream
import SyncState

/// [MS-ASCMD] 2.2.1.12 MoveItems: UID MOVE between two folders of the requesting account,
/// answering each message's new ServerId.
extension Gateway {
    typealias MV = EASTag.Move

    /// [MS-ASCMD] 2.2.3.177.9 MoveItems Status values.
    enum MoveStatus {
        static let invalidSource = "1"
        static let invalidDestination = "2"
        static let success = "3"
        static let sameFolder = "4"
        static let failed = "5"
    }

    func moveItems(_ context: RequestContext) async throws -> EASResponse {
        guard let body = context.request.body, let request = try? MoveItemsRequest(body) else {
            return EASResponse(httpStatus: 400)
        }
        let folders = Dictionary(try await store.folders(of: context.accountId).map { ($0.folderId, $0) },
                                 uniquingKeysWith: { first, _ in first })
        var responses: [EASElement] = []
        for move in request.moves {
            func response(_ status: String, _ newId: String? = nil) -> EASElement {
                var children = [EASElement(MV.srcMsgId, text: move.sourceMessageId), EASElement(MV.status, text: status)]
                if let newId { children.append(EASElement(MV.dstMsgId, text: newId)) }
                return EASElement(MV.response, children: children)
            }
            // Both folders must be this account's: another account's ids name nothing here.
            guard let source = folders[move.sourceFolderId], let item = ItemId(move.sourceMessageId),
                  item.folderId == source.folderId
            else {
                responses.append(response(MoveStatus.invalidSource))
                continue
            }
            guard let destination = folders[move.destinationFolderId] else {
                responses.append(response(MoveStatus.invalidDestination))
                continue
            }
            guard destination.folderId != source.folderId else {
                responses.append(response(MoveStatus.sameFolder))
                continue
            }
            do {
                let moved = try await context.session.move(from: IMAPMailboxName(wire: source.mailboxName),
                                                            uids: UIDSet(uids: [item.uid]),
                                                            to: IMAPMailboxName(wire: destination.mailboxName))
                guard let newUID = moved[item.uid] else {
                    // Nothing moved: the message is gone from the source.
                    responses.append(response(MoveStatus.invalidSource))
                    continue
                }
                // The device moved it itself: no Delete from the source, no Add in the destination.
                try await store.adjustHeld(CollectionRef(device: context.deviceRef, folderId: source.folderId),
                                           adding: [], removing: [item.uid])
                try await store.adjustHeld(CollectionRef(device: context.deviceRef, folderId: destination.folderId),
                                           adding: [newUID], removing: [])
                responses.append(response(MoveStatus.success, ItemId(folderId: destination.folderId, uid: newUID).text))
            } catch let error as UpstreamError where error.code == .refused || error.code == .mailboxNotFound {
                responses.append(response(MoveStatus.failed))
            }
        }
        return .ok(EASElement(MV.moveItems, children: responses))
    }
}
