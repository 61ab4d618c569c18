import NIOCore

/// Reads EAS documents written as XML: the output of `EASElement.xml()`, libwbxml's
/// `wbxml2xml` (including its own names for some tokens, see `LibwbxmlNames`), and the
/// examples of [MS-ASCMD].
///
/// It understands what those documents use and nothing more: elements with default or
/// prefixed namespaces (`AirSync:` or `AirSync`), text with the predefined entities and
/// character references, CDATA, comments, the XML declaration and a DOCTYPE. Whitespace between
/// child elements is indentation and is dropped; text in a leaf element is kept exactly.
/// An `opaque="base64"` or `opaque="hex"` attribute makes the element's content opaque bytes.
public struct EASXMLParser {
    /// Why the XML could not be read, with the line where it happened.
    public struct Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        public var message: String
        public var line: Int
        public var description: String { "XML line \(line): \(message)" }
    }

    /// The deepest nesting accepted.
    public static let defaultMaxDepth = 64

    private let bytes: [UInt8]
    private var position = 0
    private let maxDepth: Int

    private init(_ bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Parses a whole document and returns its root element.
    public static func parse(_ xml: some Collection<UInt8>, maxDepth: Int = defaultMaxDepth) throws(Error) -> EASElement {
        var parser = EASXMLParser(Array(xml), maxDepth: maxDepth)
        try parser.skipMisc()
        guard parser.peek() == UInt8(ascii: "<") else { throw parser.error("expected the root element") }
        let root = try parser.parseElement(namespaces: [:], depth: 1)
        try parser.skipMisc()
        guard parser.position == parser.bytes.count else { throw parser.error("content after the root element") }
        return root
    }

    /// Parses a whole document and returns its root element.
    public static func parse(_ xml: String, maxDepth: Int = defaultMaxDepth) throws(Error) -> EASElement {
        try parse(Array(xml.utf8), maxDepth: maxDepth)
    }

    // MARK: - Markup

    /// Skips whitespace, comments, the XML declaration, processing instructions and DOCTYPE.
    private mutating func skipMisc() throws(Error) {
        while true {
            skipWhitespace()
            if starts(with: "<?") {
                try skip(past: "?>")
            } else if starts(with: "<!--") {
                try skip(past: "-->")
            } else if starts(with: "<!DOCTYPE") {
                try skipDoctype()
            } else {
                return
            }
        }
    }

    private mutating func skipDoctype() throws(Error) {
        var bracketDepth = 0
        while let byte = peek() {
            position += 1
            if byte == UInt8(ascii: "[") { bracketDepth += 1 }
            if byte == UInt8(ascii: "]") { bracketDepth -= 1 }
            if byte == UInt8(ascii: ">") && bracketDepth <= 0 { return }
        }
        throw error("unterminated DOCTYPE")
    }

    private mutating func parseElement(namespaces: [String: String], depth: Int) throws(Error) -> EASElement {
        guard depth <= maxDepth else { throw error("elements nested deeper than \(maxDepth)") }
        position += 1  // "<"
        let qualifiedName = try readName()
        var namespaces = namespaces
        var opaqueEncoding: String?
        var selfClosing = false
        while true {
            skipWhitespace()
            guard let byte = peek() else { throw error("unterminated start tag <\(qualifiedName)>") }
            if byte == UInt8(ascii: "/") {
                guard starts(with: "/>") else { throw error("expected /> in <\(qualifiedName)>") }
                position += 2
                selfClosing = true
                break
            }
            if byte == UInt8(ascii: ">") {
                position += 1
                break
            }
            let attribute = try readName()
            skipWhitespace()
            guard peek() == UInt8(ascii: "=") else { throw error("expected = after attribute \(attribute)") }
            position += 1
            skipWhitespace()
            let value = try readQuoted()
            if attribute == "xmlns" {
                namespaces[""] = value
            } else if attribute.hasPrefix("xmlns:") {
                namespaces[String(attribute.dropFirst(6))] = value
            } else if attribute == "opaque" {
                opaqueEncoding = value
            } else {
                throw error("unexpected attribute \(attribute) on <\(qualifiedName)>")
            }
        }
        let tag = try resolve(qualifiedName, namespaces: namespaces)
        if selfClosing {
            if opaqueEncoding != nil { return EASElement(tag, .opaque(ByteBuffer())) }
            return EASElement(tag, .empty)
        }

        var children: [EASElement] = []
        var text: [UInt8] = []
        var sawCharacterData = false
        var sawNonWhitespace = false
        while true {
            guard let byte = peek() else { throw error("<\(qualifiedName)> is not closed") }
            if byte == UInt8(ascii: "<") {
                if starts(with: "</") {
                    position += 2
                    let closing = try readName()
                    guard closing == qualifiedName else {
                        throw error("</\(closing)> closes <\(qualifiedName)>")
                    }
                    skipWhitespace()
                    guard peek() == UInt8(ascii: ">") else { throw error("expected > after </\(closing)") }
                    position += 1
                    break
                } else if starts(with: "<!--") {
                    try skip(past: "-->")
                } else if starts(with: "<![CDATA[") {
                    position += 9
                    let start = position
                    try skip(past: "]]>")
                    text += bytes[start..<(position - 3)]
                    sawCharacterData = true
                    sawNonWhitespace = true
                } else if starts(with: "<?") {
                    try skip(past: "?>")
                } else {
                    children.append(try parseElement(namespaces: namespaces, depth: depth + 1))
                }
            } else if byte == UInt8(ascii: "&") {
                text += try readReference()
                sawCharacterData = true
                sawNonWhitespace = true
            } else {
                if !Self.isWhitespace(byte) { sawNonWhitespace = true }
                text.append(byte)
                position += 1
                sawCharacterData = true
            }
        }

        if !children.isEmpty {
            guard !sawNonWhitespace else { throw error("<\(qualifiedName)> mixes text and elements") }
            guard opaqueEncoding == nil else { throw error("opaque <\(qualifiedName)> has child elements") }
            return EASElement(tag, .children(children))
        }
        if let opaqueEncoding {
            return EASElement(tag, .opaque(ByteBuffer(bytes: try decodeOpaque(text, encoding: opaqueEncoding))))
        }
        guard sawCharacterData else { return EASElement(tag, .children([])) }
        guard let string = String(validating: text, as: UTF8.self) else {
            throw error("<\(qualifiedName)> holds invalid UTF-8")
        }
        return EASElement(tag, .text(string))
    }

    private func resolve(_ qualifiedName: String, namespaces: [String: String]) throws(Error) -> EASTag {
        let parts = qualifiedName.split(separator: ":", maxSplits: 1)
        let prefix = parts.count == 2 ? String(parts[0]) : ""
        let name = String(parts.last ?? "")
        guard let namespace = namespaces[prefix] else {
            throw error("no namespace declared for <\(qualifiedName)>")
        }
        // libwbxml's own names for some tokens are accepted too, so its output encodes back.
        guard let tag = EASTag(namespace: namespace, name: name) ?? LibwbxmlNames.tag(namespace: namespace, name: name)
        else {
            throw error("\(namespace) has no element \(name) in [MS-ASWBXML]")
        }
        return tag
    }

    private func decodeOpaque(_ text: [UInt8], encoding: String) throws(Error) -> [UInt8] {
        let string = String(decoding: text, as: UTF8.self)
        switch encoding {
        case "base64":
            guard let decoded = Base64.decode(string) else { throw error("invalid base64 in opaque data") }
            return decoded
        case "hex":
            let digits = Array(string.utf8.filter { !Self.isWhitespace($0) })
            guard digits.count % 2 == 0 else { throw error("odd number of hex digits in opaque data") }
            var result: [UInt8] = []
            result.reserveCapacity(digits.count / 2)
            for index in stride(from: 0, to: digits.count, by: 2) {
                guard let high = Self.hexValue(digits[index]), let low = Self.hexValue(digits[index + 1]) else {
                    throw error("invalid hex digit in opaque data")
                }
                result.append(high << 4 | low)
            }
            return result
        default:
            throw error("unknown opaque encoding \(encoding) (use base64 or hex)")
        }
    }

    // MARK: - Lexical

    private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private func starts(with literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        return literal.withUTF8Buffer { literalBytes in
            for index in 0..<count where bytes[position + index] != literalBytes[index] { return false }
            return true
        }
    }

    private mutating func skip(past terminator: StaticString) throws(Error) {
        while position < bytes.count {
            if starts(with: terminator) {
                position += terminator.utf8CodeUnitCount
                return
            }
            position += 1
        }
        throw error("missing \(terminator)")
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), Self.isWhitespace(byte) { position += 1 }
    }

    private mutating func readName() throws(Error) -> String {
        let start = position
        while let byte = peek(), !Self.isWhitespace(byte), byte != UInt8(ascii: ">"), byte != UInt8(ascii: "/"),
            byte != UInt8(ascii: "="), byte != UInt8(ascii: "<")
        {
            position += 1
        }
        guard position > start else { throw error("expected a name") }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func readQuoted() throws(Error) -> String {
        guard let quote = peek(), quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else {
            throw error("expected a quoted attribute value")
        }
        position += 1
        var value: [UInt8] = []
        while let byte = peek(), byte != quote {
            if byte == UInt8(ascii: "&") {
                value += try readReference()
            } else {
                value.append(byte)
                position += 1
            }
        }
        guard peek() == quote else { throw error("unterminated attribute value") }
        position += 1
        return String(decoding: value, as: UTF8.self)
    }

    /// An entity or character reference, as UTF-8.
    private mutating func readReference() throws(Error) -> [UInt8] {
        let start = position
        while let byte = peek(), byte != UInt8(ascii: ";") {
            position += 1
            guard position - start < 12 else { throw error("unterminated reference") }
        }
        guard peek() == UInt8(ascii: ";") else { throw error("unterminated reference") }
        let name = String(decoding: bytes[(start + 1)..<position], as: UTF8.self)
        position += 1
        switch name {
        case "lt": return [UInt8(ascii: "<")]
        case "gt": return [UInt8(ascii: ">")]
        case "amp": return [UInt8(ascii: "&")]
        case "quot": return [UInt8(ascii: "\"")]
        case "apos": return [UInt8(ascii: "'")]
        default:
            var value: UInt32?
            if name.hasPrefix("#x") || name.hasPrefix("#X") {
                value = UInt32(name.dropFirst(2), radix: 16)
            } else if name.hasPrefix("#") {
                value = UInt32(name.dropFirst(), radix: 10)
            }
            guard let value, value != 0, let scalar = Unicode.Scalar(value) else {
                throw error("unknown reference &\(name);")
            }
            return Array(String(Character(scalar)).utf8)
        }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private func error(_ message: String) -> Error {
        let line = bytes[..<min(position, bytes.count)].reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
        return Error(message: message, line: line)
    }
}
