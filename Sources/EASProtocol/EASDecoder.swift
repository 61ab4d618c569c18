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
        var hasContent: Bool
        /// Where this element's children start in `children`.
        var firstChild: Int
        var leaf: Leaf

        var isElementContainer: Bool {
            if case .none = leaf { return true }
            return false
        }
    }

    private enum Leaf {
        case none
        case text(String)
        case opaque(ByteBuffer)
    }

    private var reader: WBXMLReader
    private var open: [OpenElement] = []
    /// The finished children of every open element, in document order; an element takes its
    /// own off the end when it closes. One array for all levels keeps allocations to one per
    /// element that has children.
    private var children: [EASElement] = []
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
        guard let root else {
            // The only root was one of Outlook's page-0xFE annotations, which are skipped.
            var error = EASDecodingError(.wbxml, at: reader.offset)
            error.wbxmlCode = .missingRoot
            throw error
        }
        return root
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
            guard wbxmlTag.page < EASCodePage.standard.count else {
                throw EASDecodingError(.unknownCodePage, at: offset, tag: wbxmlTag)
            }
            guard let tag = EASTag(page: wbxmlTag.page, token: wbxmlTag.token) else {
                throw EASDecodingError(.unknownTag, at: offset, tag: wbxmlTag)
            }
            if !open.isEmpty, !open[open.count - 1].isElementContainer {
                throw EASDecodingError(.mixedContent, at: offset)
            }
            open.append(OpenElement(tag: tag, hasContent: hasContent, firstChild: children.count, leaf: .none))

        case .endElement:
            let finished = open.removeLast()
            let content: EASElement.Content
            switch finished.leaf {
            case .text(let text): content = .text(text)
            case .opaque(let bytes): content = .opaque(bytes)
            case .none where children.count > finished.firstChild:
                content = .children(takeChildren(from: finished.firstChild))
            case .none: content = finished.hasContent ? .children([]) : .empty
            }
            let element = EASElement(finished.tag, content)
            if open.isEmpty {
                root = element
            } else {
                children.append(element)
            }

        case .text(let text):
            let index = open.count - 1
            switch open[index].leaf {
            case .none where children.count == open[index].firstChild:
                open[index].leaf = .text(text)
            case .text(let previous):
                // Consecutive strings (STR_I, STR_T, ENTITY) form one text.
                open[index].leaf = .text(previous + text)
            default:
                throw EASDecodingError(.mixedContent, at: offset)
            }

        case .opaque(let bytes):
            let index = open.count - 1
            guard case .none = open[index].leaf, children.count == open[index].firstChild else {
                throw EASDecodingError(.mixedContent, at: offset)
            }
            open[index].leaf = .opaque(bytes)
        }
    }

    /// Moves `children[first...]` into a new array. Copying them out and then removing them
    /// would retain and release every child's payload once for nothing.
    private mutating func takeChildren(from first: Int) -> [EASElement] {
        let count = children.count - first
        let taken = children.withUnsafeMutableBufferPointer { source in
            let start = source.baseAddress! + first
            let moved = [EASElement](unsafeUninitializedCapacity: count) { destination, initialized in
                destination.baseAddress!.moveInitialize(from: start, count: count)
                initialized = count
            }
            // The moved-from slots get placeholders with nothing to release, then go.
            start.initialize(repeating: Self.placeholder, count: count)
            return moved
        }
        children.removeLast(count)
        return taken
    }

    private static let placeholder = EASElement(EASTag.AirSync.sync)
}
