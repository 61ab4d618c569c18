import EASProtocol
import NIOCore
import WBXML

/// libFuzzer's entry point: one input, decoded whole and in pieces.
///
/// Properties checked: decoding never crashes and either fails with a typed error or gives a
/// tree; feeding the same bytes in pieces gives the same outcome; a decoded tree re-encodes and
/// decodes again to the same tree, and its XML rendering parses back to it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEASDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let limits = WBXMLLimits(maxBodySize: 1 << 20, maxOpaqueLength: 1 << 20, maxStringLength: 1 << 20)
    let whole = Result { () throws(EASDecodingError) in try EASDecoder.decode(ByteBuffer(bytes: bytes), limits: limits) }

    // The same bytes in pieces whose sizes come from the input itself.
    var decoder = EASDecoder(limits: limits)
    let step = size > 0 ? Int(bytes[0] % 7) + 1 : 1
    let pieces = Result { () throws(EASDecodingError) -> EASElement in
        var index = 0
        while index < size {
            try decoder.feed(ByteBuffer(bytes: bytes[index..<min(index + step, size)]))
            index += step
        }
        return try decoder.finish()
    }
    switch (whole, pieces) {
    case (.success(let a), .success(let b)):
        precondition(a == b, "pieces decoded to another tree")
        let encoded = try! a.wbxml()
        precondition((try? EASDecoder.decode(encoded, limits: limits)) == a, "re-encoding changed the tree")
        precondition((try? EASXMLParser.parse(a.xml(), maxDepth: limits.maxDepth + 1)) == a, "XML changed the tree")
    case (.failure, .failure):
        break
    default:
        preconditionFailure("whole and piecewise decoding disagree")
    }
    return 0
}
