import NIOCore

extension EASElement {
    /// How opaque bytes appear in XML.
    public enum OpaqueRendering: String, Sendable, CaseIterable {
        case base64
        case hex
    }

    /// The document as indented XML, in the form of the [MS-ASCMD] examples: each element whose
    /// namespace differs from its parent's declares it as the default (`xmlns="AirSyncBase:"`).
    ///
    /// The rendering is lossless, so `EASXMLParser` reads it back to the same tree: opaque data
    /// carries an `opaque="base64"` (or `"hex"`) attribute, an empty string is an empty CDATA
    /// section, `<Tag/>` is a tag without content and `<Tag></Tag>` a tag with empty content.
    public func xml(opaque: OpaqueRendering = .base64) -> String {
        var output = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        appendXML(to: &output, parentNamespace: nil, indent: 0, opaque: opaque)
        return output
    }

    private func appendXML(to output: inout String, parentNamespace: String?, indent: Int, opaque: OpaqueRendering) {
        output += String(repeating: "  ", count: indent)
        output += "<" + tag.name
        let namespace = tag.namespace
        if namespace != parentNamespace {
            output += " xmlns=\"\(namespace):\""
        }
        switch content {
        case .empty:
            output += "/>\n"
        case .text(let text):
            output += text.isEmpty ? "><![CDATA[]]>" : ">" + Self.escaped(text)
            output += "</\(tag.name)>\n"
        case .opaque(let bytes):
            let encoded = opaque == .base64 ? Base64.encode(bytes.readableBytesView) : Self.hex(bytes.readableBytesView)
            output += " opaque=\"\(opaque.rawValue)\">\(encoded)</\(tag.name)>\n"
        case .children(let children):
            if children.isEmpty {
                output += "></\(tag.name)>\n"
                return
            }
            output += ">\n"
            for child in children {
                child.appendXML(to: &output, parentNamespace: namespace, indent: indent + 1, opaque: opaque)
            }
            output += String(repeating: "  ", count: indent) + "</\(tag.name)>\n"
        }
    }

    /// Escapes markup characters, and as character references the characters an XML parser
    /// would drop or normalise (CR, other C0 controls).
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\t", "\n": result.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                result += "&#x" + String(scalar.value, radix: 16, uppercase: true) + ";"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var result: [UInt8] = []
        for byte in bytes {
            result.append(digits[Int(byte >> 4)])
            result.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: result, as: UTF8.self)
    }
}
