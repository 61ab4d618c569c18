import MailUpstream

/// A body ready to send: decoded, converted and cut to the client's size ([MS-ASAIRS] 2.2.2.9).
struct BodyContent {
    enum Data {
        case text(String)
        case bytes([UInt8])
    }

    var data: Data
    var truncated: Bool
    /// The size of the whole body, as far as it is known without fetching it all.
    var estimatedSize: Int
    var previewText: String

    static func make(choice: BodyChoice, summary: MessageSummary, bytes: [UInt8]?, codec: any MIMECodec) -> BodyContent {
        let fetched = bytes ?? []
        guard let part = choice.part else {
            // MIME: the raw message, as opaque bytes.
            let limit = choice.truncation ?? BodyChoice.largestUntruncatedBody
            let cut = Array(fetched.prefix(limit))
            return BodyContent(data: .bytes(cut), truncated: summary.size > cut.count, estimatedSize: summary.size,
                               previewText: "")
        }
        let fetchedAll = fetched.count >= part.size
        var text = codec.text(of: fetched, part: part)
        if choice.convert {
            text = choice.type == 1 ? HTMLText.plain(fromHTML: text) : HTMLText.html(fromPlain: text)
        }
        let preview = choice.type == 1 || part.subtype == "plain" ? text : HTMLText.plain(fromHTML: text)
        var truncated = !fetchedAll
        if let limit = choice.truncation, text.utf8.count > limit {
            text = Self.prefix(text, utf8Bytes: limit)
            truncated = true
        }
        let decodedEstimate = part.encoding == "base64" ? part.size / 4 * 3 : part.size
        let estimated = fetchedAll && !truncated ? text.utf8.count : max(decodedEstimate, text.utf8.count)
        return BodyContent(data: .text(text), truncated: truncated, estimatedSize: estimated,
                           previewText: Self.previewLine(preview))
    }

    /// The longest prefix of `text` of at most `limit` UTF-8 bytes that ends on a character.
    static func prefix(_ text: String, utf8Bytes limit: Int) -> String {
        var count = 0
        var end = text.startIndex
        for index in text.indices {
            let size = text[index].utf8.count
            if count + size > limit { break }
            count += size
            end = text.index(after: index)
        }
        return String(text[..<end])
    }

    static func previewLine(_ text: String) -> String {
        var out = ""
        var lastWasSpace = false
        for character in text.prefix(2048) {
            if character.isWhitespace {
                if !lastWasSpace, !out.isEmpty { out.append(" ") }
                lastWasSpace = true
            } else {
                out.append(character)
                lastWasSpace = false
            }
            if out.count >= 255 { break }
        }
        return out
    }
}

/// Just enough HTML handling to show an HTML-only message as text and a text-only message as
/// HTML; not a renderer.
enum HTMLText {
    static func plain(fromHTML html: String) -> String {
        var out = ""
        var inTag = false
        var tag = ""
        var skipping = false
        for character in html {
            if inTag {
                if character == ">" {
                    inTag = false
                    let name = tag.lowercased().split(whereSeparator: { $0 == " " || $0 == "/" }).first.map(String.init) ?? ""
                    if name == "style" || name == "script" { skipping = true }
                    if name == "/style" || name == "/script" || tag.lowercased().hasPrefix("/style") || tag.lowercased().hasPrefix("/script") {
                        skipping = false
                    }
                    if ["br", "p", "/p", "div", "/div", "tr", "li", "h1", "h2", "h3"].contains(name) { out.append("\n") }
                    tag = ""
                } else {
                    tag.append(character)
                }
            } else if character == "<" {
                inTag = true
            } else if !skipping {
                out.append(character)
            }
        }
        return decodeEntities(out)
    }

    static func html(fromPlain text: String) -> String {
        "<html><body><pre>\(escaped(text))</pre></body></html>"
    }

    /// `text` with the characters HTML gives meaning to escaped.
    static func escaped(_ text: String) -> String {
        MarkupEscaping.escaped(text)
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        let named = ["&nbsp;": " ", "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": "\"", "&#39;": "'", "&apos;": "'"]
        var result = text
        for (entity, replacement) in named { result = result.replacing(entity, with: replacement) }
        return result
    }
}

/// Escaping for text put into HTML or XML (bodies, Autodiscover answers).
public enum MarkupEscaping {
    public static func escaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
