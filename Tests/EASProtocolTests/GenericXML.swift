import Foundation
import Testing

@testable import EASProtocol

#if canImport(FoundationXML)
import FoundationXML
#endif

/// An XML tree with names as plain strings, for reading what other tools print.
enum GenericXML {
    final class Element {
        var namespace: String
        var name: String
        var text = ""
        var children: [Element] = []
        init(namespace: String, name: String) {
            self.namespace = namespace
            self.name = name
        }
    }

    final class Builder: NSObject, XMLParserDelegate {
        var stack: [Element] = []
        var root: Element?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            stack.append(Element(namespace: namespaceURI ?? "", name: elementName))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            let element = stack.removeLast()
            if !element.children.isEmpty { element.text = "" }  // indentation
            if let parent = stack.last { parent.children.append(element) } else { root = element }
        }
    }

    struct Failure: Error {}

    static func parse(_ data: Data) throws -> Element {
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        let builder = Builder()
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else { throw Failure() }
        return root
    }
}

/// The comparison of our trees with libwbxml's, using the name table in `LibwbxmlNames`.
enum LibwbxmlDifferences {
    static var names: [String: String] { LibwbxmlNames.byStandardName }
    static var base64Text: Set<String> { LibwbxmlNames.base64Text }
    /// Walks our tree and libwbxml's together, noting where libwbxml's names or text rendering
    /// differ; anything else that differs is a test failure.
    static func compare(
        _ ours: EASElement, _ theirs: GenericXML.Element, renamed: inout [String: String], shownAsBase64: inout Set<String>
    ) throws {
        if theirs.namespace != ours.tag.namespace + ":" {
            renamed[ours.tag.namespace] = theirs.namespace
        }
        if theirs.name != ours.tag.name {
            renamed[ours.tag.description] = theirs.name
        }
        switch ours.content {
        case .text(let text) where theirs.text != text:
            let decoded = Base64.decode(theirs.text).map { String(decoding: $0, as: UTF8.self) }
            #expect(decoded == text, "text of \(ours.tag)")
            shownAsBase64.insert(ours.tag.description)
        case .text, .opaque:
            #expect(theirs.children.isEmpty, "\(ours.tag) holds no elements")
        case .empty:
            #expect(theirs.children.isEmpty && theirs.text.isEmpty, "\(ours.tag) is empty")
        case .children(let children):
            try #require(children.count == theirs.children.count, "children of \(ours.tag)")
            for (child, theirChild) in zip(children, theirs.children) {
                try compare(child, theirChild, renamed: &renamed, shownAsBase64: &shownAsBase64)
            }
        }
    }
}
