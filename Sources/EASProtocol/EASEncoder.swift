import NIOCore
import WBXML

extension EASElement {
    /// The WBXML body of a document whose root is this element ([MS-ASWBXML] 2.1.2):
    /// header `03 01 6A 00`, `SWITCH_PAGE` only where the page changes, strings as `STR_I`.
    ///
    /// Throws only if some text contains NUL, which WBXML cannot carry in a string.
    public func wbxml() throws(WBXMLError) -> ByteBuffer {
        var writer = WBXMLWriter()
        try write(to: &writer)
        return try writer.finished()
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
            try children.withUnsafeBufferPointer { elements throws(WBXMLError) in
                for index in elements.indices { try elements[index].write(to: &writer) }
            }
            try writer.endElement()
        }
    }
}
