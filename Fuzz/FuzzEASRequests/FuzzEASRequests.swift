import EASProtocol
import NIOCore
import WBXML

/// libFuzzer's entry point: one request body, decoded, then read by every command's request
/// decoder.
///
/// Properties checked: no decoder crashes, hangs or leaks on any tree; each either reads a
/// request or throws its typed `EASRequestError`; every id a decoder accepts is at most 64
/// characters (the schemas' limit, which answers echo).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEASRequests(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let limits = WBXMLLimits(maxBodySize: 1 << 20, maxOpaqueLength: 1 << 20, maxStringLength: 1 << 20)
    guard let element = try? EASDecoder.decode(ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size)), limits: limits)
    else { return 0 }
    // Any root goes to every decoder: a client can send any body with any Cmd.
    if let sync = try? SyncRequest(element) {
        for collection in sync.collections ?? [] {
            precondition(collection.collectionId.count <= 64, "a CollectionId over 64 characters was accepted")
        }
    }
    if let moves = try? MoveItemsRequest(element) {
        for move in moves.moves {
            precondition(move.sourceMessageId.count <= 64 && move.sourceFolderId.count <= 64 && move.destinationFolderId.count <= 64,
                         "a MoveItems id over 64 characters was accepted")
        }
    }
    _ = try? FolderSyncRequest(element)
    _ = try? FolderChangeRequest(element)
    _ = try? GetItemEstimateRequest(element)
    _ = try? ItemOperationsRequest(element)
    _ = try? MeetingResponseRequest(element)
    _ = try? PingRequest(element)
    _ = try? ProvisionRequest(element)
    _ = try? SearchRequest(element)
    _ = try? FindRequest(element)
    _ = try? SendMailRequest(element)
    _ = try? SmartSendRequest(element)
    return 0
}
