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
            guard let message = try entry.id(of: EASTag.Move.srcMsgId), let source = try entry.id(of: EASTag.Move.srcFldId),
                  let destination = try entry.id(of: EASTag.Move.dstFldId)
            else { throw EASRequestError("Move without SrcMsgId, SrcFldId or DstFldId") }
            moves.append(Move(sourceMessageId: message, sourceFolderId: source, destinationFolderId: destination))
        }
        self.moves = moves
    }
}

/// [MS-ASCMD] 2.2.1.19 SmartForward and 2.2.1.20 SmartReply (14.0+ WBXML form; 12.x sends
/// the MIME as the body with `ItemId`, `CollectionId` and `SaveInSent` in the query).
public struct SmartSendRequest: Hashable, Sendable {
    public var clientId: String?
    public var saveInSentItems: Bool
    /// The client sends the whole message itself; the server adds nothing of the original.
    public var replaceMime: Bool
    public var sourceFolderId: String?
    public var sourceItemId: String?
    public var mime: [UInt8]

    public init(clientId: String?, saveInSentItems: Bool, replaceMime: Bool, sourceFolderId: String?, sourceItemId: String?,
                mime: [UInt8]) {
        self.clientId = clientId
        self.saveInSentItems = saveInSentItems
        self.replaceMime = replaceMime
        self.sourceFolderId = sourceFolderId
        self.sourceItemId = sourceItemId
        self.mime = mime
    }

    public init(_ element: EASElement) throws(EASRequestError) {
        guard element.tag == EASTag.ComposeMail.smartReply || element.tag == EASTag.ComposeMail.smartForward else {
            throw EASRequestError("expected SmartReply or SmartForward, got \(element.tag)")
        }
        clientId = element.text(of: EASTag.ComposeMail.clientId)
        saveInSentItems = element.child(EASTag.ComposeMail.saveInSentItems) != nil
        replaceMime = element.child(EASTag.ComposeMail.replaceMime) != nil
        let source = element.child(EASTag.ComposeMail.source)
        sourceFolderId = source?.text(of: EASTag.ComposeMail.folderId)
        sourceItemId = source?.text(of: EASTag.ComposeMail.itemId) ?? source?.text(of: EASTag.ComposeMail.longId)
        guard let mime = element.child(EASTag.ComposeMail.mime) else { throw EASRequestError("no Mime") }
        switch mime.content {
        case .opaque(var buffer): self.mime = buffer.readBytes(length: buffer.readableBytes) ?? []
        case .text(let text): self.mime = Array(text.utf8)
        default: throw EASRequestError("an empty Mime")
        }
    }
}
