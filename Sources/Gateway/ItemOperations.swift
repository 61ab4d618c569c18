import EASProtocol
import MailUpstream
import NIOCore
import SyncState

/// [MS-ASCMD] 2.2.1.10 ItemOperations: Fetch of an item, an attachment or a byte range of
/// one, and EmptyFolderContents.
extension Gateway {
    typealias IO = EASTag.ItemOperations

    /// [MS-ASCMD] 2.2.3.177.8 ItemOperations Status values used here.
    enum ItemOperationsStatus {
        static let success = "1"
        static let protocolError = "2"
        static let notFound = "6"
        static let badRange = "8"
        static let unknownStore = "9"
        static let invalidAttachment = "15"
    }

    /// Largest attachment sent inline in one response.
    static let largestFetchedAttachment = 32 * 1024 * 1024

    func itemOperations(_ context: RequestContext) async throws -> EASResponse {
        guard let body = context.request.body, let request = try? ItemOperationsRequest(body) else {
            return .ok(EASElement(IO.itemOperations, children: [EASElement(IO.status, text: ItemOperationsStatus.protocolError)]))
        }
        let folders = Dictionary(try await store.folders(of: context.accountId).map { ($0.folderId, $0) },
                                 uniquingKeysWith: { first, _ in first })
        // The answer lists EmptyFolderContents before Fetch ([MS-ASCMD] 2.2.3.145), each kind in
        // the order asked.
        var emptied: [EASElement] = []
        var fetched: [EASElement] = []
        for operation in request.operations {
            switch operation {
            case .fetch(let fetch):
                fetched.append(try await itemFetch(fetch, folders: folders, context: context))
            case .emptyFolderContents(let collectionId, _):
                emptied.append(try await emptyFolder(collectionId, folders: folders, context: context))
            case .unsupported:
                fetched.append(EASElement(IO.fetch, children: [EASElement(IO.status, text: ItemOperationsStatus.protocolError)]))
            }
        }
        let answer = EASElement(IO.itemOperations, children: [
            EASElement(IO.status, text: ItemOperationsStatus.success),
            EASElement(IO.response, children: emptied + fetched),
        ])
        guard context.request.acceptsMultipart else { return .ok(Self.inlineData(answer)) }
        return try Self.multipart(answer)
    }

    /// The answer for the inline form: attachment bytes as base64 text in `Data`.
    static func inlineData(_ element: EASElement) -> EASElement {
        switch element.content {
        case .opaque(let bytes) where element.tag == IO.data:
            return EASElement(IO.data, text: Base64.encode(bytes.readableBytesView))
        case .children(let children):
            return EASElement(element.tag, children: children.map(inlineData))
        default:
            return element
        }
    }

    /// [MS-ASCMD] 2.2.1.10.1.1 multipart form: the WBXML answer as part 0 with every `Data`
    /// replaced by a `Part` number, then each datum as raw bytes; up front the part count and
    /// each part's offset and length (32-bit little-endian).
    static func multipart(_ answer: EASElement) throws -> EASResponse {
        // The parts are sent one after another as they are; a large attachment is not copied
        // into one response buffer.
        var parts: [ByteBuffer] = [ByteBuffer()]
        func rewrite(_ element: EASElement) -> EASElement {
            switch element.tag {
            case IO.data, EASTag.AirSyncBase.data:
                switch element.content {
                case .opaque(let buffer): parts.append(buffer)
                case .text(let text):
                    // ItemOperations Data carries base64; a body's Data carries the text itself.
                    parts.append(ByteBuffer(bytes: element.tag == IO.data ? (Base64.decode(text) ?? []) : Array(text.utf8)))
                default: parts.append(ByteBuffer())
                }
                return EASElement(IO.part, text: String(parts.count - 1))
            default:
                guard case .children(let children) = element.content else { return element }
                return EASElement(element.tag, children: children.map(rewrite))
            }
        }
        let rewritten = rewrite(answer)
        parts[0] = try rewritten.wbxml()
        var header = ByteBuffer()
        header.writeInteger(UInt32(parts.count), endianness: .little)
        var offset = 4 + parts.count * 8
        for part in parts {
            header.writeInteger(UInt32(truncatingIfNeeded: offset), endianness: .little)
            header.writeInteger(UInt32(truncatingIfNeeded: part.readableBytes), endianness: .little)
            offset += part.readableBytes
        }
        return EASResponse(rawBody: [header] + parts)
    }

    private func itemFetch(_ fetch: ItemOperationsRequest.Fetch, folders: [String: Folder], context: RequestContext) async throws
        -> EASElement
    {
        func failed(_ status: String, _ identity: [EASElement]) -> EASElement {
            EASElement(IO.fetch, children: [EASElement(IO.status, text: status)] + identity)
        }
        guard fetch.store.lowercased() == "mailbox" else {
            return failed(ItemOperationsStatus.unknownStore, [])
        }
        if let text = fetch.fileReference {
            let identity = [EASElement(EASTag.AirSyncBase.fileReference, text: text)]
            // The folder is looked up among the requesting account's folders only: another
            // account's reference names nothing here.
            guard let reference = FileReference(text), let folder = folders[reference.folderId] else {
                return failed(ItemOperationsStatus.invalidAttachment, identity)
            }
            let mailbox = IMAPMailboxName(wire: folder.mailboxName)
            guard let summary = try await context.session.summaries(in: mailbox, uids: UIDSet(uids: [reference.uid])).first,
                  let part = summary.structure?.part(reference.section), !part.isMultipart
            else { return failed(ItemOperationsStatus.invalidAttachment, identity) }
            var bytes = try await attachmentContent(part, uid: reference.uid, in: mailbox, session: context.session,
                                                    encodedLimit: Self.largestFetchedAttachment * 2)
            let total = bytes.readableBytes
            var properties: [EASElement] = [EASElement(EASTag.AirSyncBase.contentType, text: part.mediaType)]
            if let range = fetch.range {
                guard range.lowerBound < max(total, 1) else { return failed(ItemOperationsStatus.badRange, identity) }
                // The upper bound is the client's, up to Int.max: no "+ 1" on it.
                bytes = bytes.getSlice(at: bytes.readerIndex + range.lowerBound,
                                       length: min(total - 1, range.upperBound) + 1 - range.lowerBound) ?? ByteBuffer()
                properties += [
                    EASElement(IO.range, text: "\(range.lowerBound)-\(range.lowerBound + max(0, bytes.readableBytes - 1))"),
                    EASElement(IO.total, text: String(total)),
                ]
            }
            // The bytes as they are: the multipart form sends them so, inline WBXML as base64
            // (`inlineData`).
            properties.append(EASElement(IO.data, .opaque(bytes)))
            return EASElement(IO.fetch, children: [EASElement(IO.status, text: ItemOperationsStatus.success)] + identity
                + [EASElement(IO.properties, children: properties)])
        }
        guard let collectionId = fetch.collectionId, let serverId = fetch.serverId else {
            return failed(ItemOperationsStatus.protocolError, [])
        }
        let identity = [EASElement(EASTag.AirSync.collectionId, text: collectionId), EASElement(EASTag.AirSync.serverId, text: serverId)]
        guard let folder = folders[collectionId], let item = ItemId(serverId), item.folderId == folder.folderId else {
            return failed(ItemOperationsStatus.notFound, identity)
        }
        let mailbox = IMAPMailboxName(wire: folder.mailboxName)
        guard let summary = try await context.session.summaries(in: mailbox, uids: UIDSet(uids: [item.uid])).first else {
            return failed(ItemOperationsStatus.notFound, identity)
        }
        let preferences = fetch.bodyPreferences.isEmpty ? [BodyPreference(type: fetch.mimeSupport == 2 ? 4 : 1)] : fetch.bodyPreferences
        let items = try await emailItems(for: [summary], folderId: folder.folderId, mailbox: mailbox,
                                         options: SyncRequest.Options(bodyPreferences: preferences, mimeSupport: fetch.mimeSupport),
                                         context: context)
        guard let email = items.first else { return failed(ItemOperationsStatus.notFound, identity) }
        return EASElement(IO.fetch, children: [EASElement(IO.status, text: ItemOperationsStatus.success)] + identity + [
            EASElement(EASTag.AirSync.class, text: "Email"),
            EASElement(IO.properties, children: email.applicationData(version: context.version, codec: codec)),
        ])
    }

    private func emptyFolder(_ collectionId: String, folders: [String: Folder], context: RequestContext) async throws -> EASElement {
        let identity = [EASElement(EASTag.AirSync.collectionId, text: collectionId)]
        guard let folder = folders[collectionId] else {
            return EASElement(IO.emptyFolderContents, children: [EASElement(IO.status, text: ItemOperationsStatus.notFound)] + identity)
        }
        let mailbox = IMAPMailboxName(wire: folder.mailboxName)
        let uids = try await context.session.search(in: mailbox, MailSearch())
        if !uids.isEmpty { try await context.session.expunge(in: mailbox, uids: UIDSet(uids: uids)) }
        return EASElement(IO.emptyFolderContents, children: [EASElement(IO.status, text: ItemOperationsStatus.success)] + identity)
    }
}
