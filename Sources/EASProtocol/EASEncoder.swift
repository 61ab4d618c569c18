import NIOCore
import WBXML

extension EASElement {
    /// The WBXML body of a document whose root is this element ([MS-ASWBXML] 2.1.2):
    /// header `03 01 6A 00`, `SWITCH_PAGE` only where the page changes, strings as `STR_I`.
    ///
    /// Throws only if some text contains NUL, which WBXML cannot carry in a string.
    public func wbxml() throws(WBXMLError) -> ByteBuffer {
        var writer = WBXMLWriter(capacity: 4 + maximumEncodedSize)
        try write(to: &writer)
        return try writer.finished()
    }

    /// An upper bound of the encoded size of this element, so the writer allocates once: a
    /// large response grown by doubling would copy and page-fault its way through several
    /// times its own size.
    var maximumEncodedSize: Int {
        // Every tag may need a SWITCH_PAGE (2 bytes) before it.
        switch content {
        case .empty: 3
        case .text(let text): 3 + 1 + text.utf8.count + 1 + 1
        case .opaque(let bytes): 3 + 1 + 5 + bytes.readableBytes + 1
        case .children(let children): children.reduce(3 + 1) { $0 + $1.maximumEncodedSize }
        }
    }

    /// Writes this element and everything in it.
    public func write(to writer: inout WBXMLWriter) throws(WBXMLError) {
        switch content {
        case .empty:
            writer.emptyElement(tag.wbxml)
        case .text(let text):
            writer.startElement(tag.wbxml)
            try writer.text(text)
            try writer.endElement()
        case .opaque(let bytes):
            writer.startElement(tag.wbxml)
            writer.opaque(bytes)
            try writer.endElement()
        case .children(let children):
            writer.startElement(tag.wbxml)
            for child in children {
                try child.write(to: &writer)
            }
            try writer.endElement()
        }
    }
}
