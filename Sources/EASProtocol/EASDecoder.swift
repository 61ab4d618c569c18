import NIOCore
import WBXML

/// Builds the EAS element tree of a WBXML body, streaming: feed bytes as they arrive and take
/// the root element once the body is complete.
///
/// Tags are checked against the code pages of [MS-ASWBXML] 2.1.2.1; an unknown page or token is
/// an error. Elements on Outlook's page 0xFE are skipped with everything inside them.
public struct EASDecoder {
    private struct OpenElement {
        var tag: EASTag
        var content: EASElement.Content
    }

    private var reader: WBXMLReader
    private var open: [OpenElement] = []
    /// Depth inside a skipped page-0xFE element; zero when not skipping.
    private var skippedDepth = 0
    private var root: EASElement?

    /// A decoder waiting for bytes.
    public init(limits: WBXMLLimits = .default) {
        reader = WBXMLReader(limits: limits)
    }

    /// Decodes a complete body.
    public static func decode(_ body: ByteBuffer, limits: WBXMLLimits = .default) throws(EASDecodingError) -> EASElement {
        var decoder = EASDecoder(limits: limits)
        do {
            decoder.reader = try WBXMLReader(body: body, limits: limits)
        } catch {
            throw EASDecodingError(error)
        }
        return try decoder.finish()
    }

    /// Appends more of the body and decodes as far as the bytes allow.
    public mutating func feed(_ bytes: ByteBuffer) throws(EASDecodingError) {
        do {
            try reader.feed(bytes)
        } catch {
            throw EASDecodingError(error)
        }
        try drain()
    }

    /// Declares the body complete and returns its root element.
    public mutating func finish() throws(EASDecodingError) -> EASElement {
        reader.finish()
        try drain()
        // A finished reader has either thrown or closed the root.
        return root!
    }

    private mutating func drain() throws(EASDecodingError) {
        while true {
            let event: WBXMLEvent?
            do {
                event = try reader.next()
            } catch {
                throw EASDecodingError(error)
            }
            guard let event else { return }
            try apply(event, at: reader.eventOffset)
        }
    }

    private mutating func apply(_ event: WBXMLEvent, at offset: Int) throws(EASDecodingError) {
        if skippedDepth > 0 {
            switch event {
            case .startElement: skippedDepth += 1
            case .endElement: skippedDepth -= 1
            case .text, .opaque: break
            }
            return
        }
        switch event {
        case .startElement(let wbxmlTag, let hasContent):
            if wbxmlTag.page == EASCodePage.windowsLive.number {
                // Outlook's annotations: not part of [MS-ASWBXML]; skip the element and its content.
                skippedDepth = 1
                return
            }
            guard let codePage = EASCodePage.standard(wbxmlTag.page) else {
                throw EASDecodingError(.unknownCodePage, at: offset, tag: wbxmlTag)
            }
            guard codePage.name(of: wbxmlTag.token) != nil else {
                throw EASDecodingError(.unknownTag, at: offset, tag: wbxmlTag)
            }
            let tag = EASTag(known: wbxmlTag.page, wbxmlTag.token)
            if !open.isEmpty {
                switch open[open.count - 1].content {
                case .text, .opaque: throw EASDecodingError(.mixedContent, at: offset)
                case .empty, .children: break
                }
            }
            open.append(OpenElement(tag: tag, content: hasContent ? .children([]) : .empty))

        case .endElement:
            let finished = open.removeLast()
            let element = EASElement(finished.tag, finished.content)
            if open.isEmpty {
                root = element
            } else {
                appendChild(element)
            }

        case .text(let text):
            switch open[open.count - 1].content {
            case .children(let children) where children.isEmpty:
                open[open.count - 1].content = .text(text)
            case .text(let previous):
                // Consecutive strings (STR_I, STR_T, ENTITY) form one text.
                open[open.count - 1].content = .text(previous + text)
            default:
                throw EASDecodingError(.mixedContent, at: offset)
            }

        case .opaque(let bytes):
            guard case .children(let children) = open[open.count - 1].content, children.isEmpty else {
                throw EASDecodingError(.mixedContent, at: offset)
            }
            open[open.count - 1].content = .opaque(bytes)
        }
    }

    private mutating func appendChild(_ element: EASElement) {
        let index = open.count - 1
        // Take the array out so the append does not copy it.
        guard case .children(var children) = open[index].content else {
            preconditionFailure("the reader only nests elements inside elements with content")
        }
        open[index].content = .empty
        children.append(element)
        open[index].content = .children(children)
    }
}
