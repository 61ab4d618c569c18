/// [MS-ASCMD] 2.2.1.17 SendMail (14.0+ WBXML form; 12.x sends the MIME as the body and
/// `SaveInSent` in the query).
public struct SendMailRequest: Hashable, Sendable {
    public var clientId: String?
    public var saveInSentItems: Bool
    public var mime: [UInt8]

    public init(clientId: String?, saveInSentItems: Bool, mime: [UInt8]) {
        self.clientId = clientId
        self.saveInSentItems = saveInSentItems
        self.mime = mime
    }

    public init(_ element: EASElement) throws(EASRequestError) {
        try element.expect(EASTag.ComposeMail.sendMail)
        clientId = element.text(of: EASTag.ComposeMail.clientId)
        saveInSentItems = element.child(EASTag.ComposeMail.saveInSentItems) != nil
        guard let mime = element.child(EASTag.ComposeMail.mime) else { throw EASRequestError("SendMail without Mime") }
        switch mime.content {
        case .opaque(var buffer): self.mime = buffer.readBytes(length: buffer.readableBytes) ?? []
        case .text(let text): self.mime = Array(text.utf8)
        default: throw EASRequestError("SendMail with an empty Mime")
        }
        guard clientId.map({ $0.utf8.count <= 64 }) ?? true else { throw EASRequestError("ClientId too long") }
    }
}

/// [MS-ASCMD] 2.2.1.12 MoveItems request.
public struct MoveItemsRequest: Hashable, Sendable {
    public struct Move: Hashable, Sendable {
        public var sourceMessageId: String
        public var sourceFolderId: String
        public var destinationFolderId: String
    }

    public var moves: [Move]

    /// Most moves read from one request.
    public static let maxMoves = 1000

    public init(_ element: EASElement) throws(EASRequestError) {
        try element.expect(EASTag.Move.moveItems)
        let entries = element.children(EASTag.Move.move)
        guard entries.count <= Self.maxMoves else { throw EASRequestError("too many moves") }
        var moves: [Move] = []
        for entry in entries {
            guard let message = entry.text(of: EASTag.Move.srcMsgId), let source = entry.text(of: EASTag.Move.srcFldId),
                  let destination = entry.text(of: EASTag.Move.dstFldId)
            else { throw EASRequestError("Move without SrcMsgId, SrcFldId or DstFldId") }
            moves.append(Move(sourceMessageId: message, sourceFolderId: source, destinationFolderId: destination))
        }
        self.moves = moves
    }
}
