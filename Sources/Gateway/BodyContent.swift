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
    /// What the preview is made of (the decoded part); made into text only when asked for,
    /// as most clients never ask.
    private var previewSource: String
    private var previewSourceIsHTML: Bool

    /// [MS-ASAIRS] 2.2.2.37 Preview: the start of the body as one line of plain text.
    var previewText: String {
        Self.previewLine(previewSourceIsHTML ? HTMLText.plain(fromHTML: previewSource) : previewSource)
    }

    init(data: Data, truncated: Bool, estimatedSize: Int, previewSource: String = "", previewSourceIsHTML: Bool = false) {
        self.data = data
        self.truncated = truncated
        self.estimatedSize = estimatedSize
        self.previewSource = previewSource
        self.previewSourceIsHTML = previewSourceIsHTML
    }

    static func make(choice: BodyChoice, summary: MessageSummary, bytes: [UInt8]?, codec: any MIMECodec) -> BodyContent {
        let fetched = bytes ?? []
        guard let part = choice.part else {
            // MIME: the raw message, as opaque bytes.
            let limit = choice.truncation ?? BodyChoice.largestUntruncatedBody
            let cut = Array(fetched.prefix(limit))
            return BodyContent(data: .bytes(cut), truncated: summary.size > cut.count, estimatedSize: summary.size)
        }
        let fetchedAll = fetched.count >= part.size
        let decoded = codec.text(of: fetched, part: part)
        var text = decoded
        if choice.convert {
            text = choice.type == 1 ? HTMLText.plain(fromHTML: decoded) : HTMLText.html(fromPlain: decoded)
        }
        // The preview comes from the part as sent: plain text, or the text of its HTML (a
        // plain part converted to HTML for the body must not put markup into the preview).
        let previewIsHTML = part.subtype != "plain" && !(choice.type == 1 && choice.convert)
        let previewSource = previewIsHTML || part.subtype == "plain" ? decoded : text
        var truncated = !fetchedAll
        if let limit = choice.truncation, text.utf8.count > limit {
            text = Self.prefix(text, utf8Bytes: limit)
            truncated = true
        }
        let decodedEstimate = part.encoding == "base64" ? part.size / 4 * 3 : part.size
        let estimated = fetchedAll && !truncated ? text.utf8.count : max(decodedEstimate, text.utf8.count)
        return BodyContent(data: .text(text), truncated: truncated, estimatedSize: estimated, previewSource: previewSource,
                           previewSourceIsHTML: previewIsHTML)
    }

    /// The longest prefix of `text` of at most `limit` UTF-8 bytes that ends on a character.
    static func prefix(_ text: String, utf8Bytes limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        // Found from the byte limit backwards (a body is cut at 50 KB: walking its characters
        // from the start cost more than everything else in a Sync).
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: max(limit, 0))
        while end > text.startIndex, end.samePosition(in: text) == nil {
            end = text.utf8.index(before: end)
        }
        return String(text[..<end])
    }

    static func previewLine(_ text: String) -> String {
        var out = ""
        var count = 0
        var lastWasSpace = false
        for character in text.prefix(2048) {
            if character.isWhitespace {
                if !lastWasSpace, count > 0 {
                    out.append(" ")
                    count += 1
                }
                lastWasSpace = true
            } else {
                out.append(character)
                count += 1
                lastWasSpace = false
            }
            if count >= 255 { break }
        }
        return out
    }
}

/// Just enough HTML handling to show an HTML-only message as text and a text-only message as
/// HTML; not a renderer.
enum HTMLText {
    static func plain(fromHTML html: String) -> String {
        // Scalars, not characters: every character that matters here is ASCII, and grapheme
        // breaking over a whole body is what made this slow.
        var out = String.UnicodeScalarView()
        var inTag = false
        var tagScalars = String.UnicodeScalarView()
        var skipping = false
        for scalar in html.unicodeScalars {
            if inTag {
                if scalar == ">" {
                    inTag = false
                    let tag = String(tagScalars).lowercased()
                    let name = tag.split(whereSeparator: { $0 == " " || $0 == "/" }).first.map(String.init) ?? ""
                    if name == "style" || name == "script" { skipping = true }
                    if name == "/style" || name == "/script" || tag.hasPrefix("/style") || tag.hasPrefix("/script") {
                        skipping = false
                    }
                    if ["br", "p", "/p", "div", "/div", "tr", "li", "h1", "h2", "h3"].contains(name) { out.append("\n") }
                    tagScalars.removeAll()
                } else {
                    tagScalars.append(scalar)
                }
            } else if scalar == "<" {
                inTag = true
            } else if !skipping {
                out.append(scalar)
            }
        }
        return decodeEntities(String(out))
    }

    static func html(fromPlain text: String) -> String {
        "<html><body><pre>\(escaped(text))</pre></body></html>"
    }

    /// `text` with the characters HTML gives meaning to escaped.
    static func escaped(_ text: String) -> String {
        MarkupEscaping.escaped(text)
    }

    /// The named entities plain text keeps, and numeric ones, decoded in one pass: each `&`
    /// is read once, so `&amp;lt;` stays the text `&lt;`.
    static func decodeEntities(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "&")) else { return text }
        let named: [Substring: String] = ["nbsp": " ", "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'"]
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var rest = Substring(text)
        while let ampersand = rest.firstIndex(of: "&") {
            result += rest[..<ampersand]
            let afterAmpersand = rest.index(after: ampersand)
            // Entities are short; a longer run is text with a stray ampersand.
            let window = rest[afterAmpersand...].prefix(10)
            if let semicolon = window.firstIndex(of: ";"), let decoded = entity(rest[afterAmpersand..<semicolon], named: named) {
                result += decoded
                rest = rest[rest.index(after: semicolon)...]
            } else {
                result += "&"
                rest = rest[afterAmpersand...]
            }
        }
        result += rest
        return result
    }

    private static func entity(_ name: Substring, named: [Substring: String]) -> String? {
        if let known = named[name] { return known }
        guard name.first == "#" else { return nil }
        let digits = name.dropFirst()
        let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
        // NUL and surrogates are not characters: left as written.
        guard let value, value != 0, let scalar = Unicode.Scalar(value) else { return nil }
        return String(Character(scalar))
    }
}

/// Escaping for text put into HTML or XML (bodies, Autodiscover answers).
public enum MarkupEscaping {
    public static func escaped(_ text: String) -> String {
        // Byte by byte: the escaped characters are ASCII, so UTF-8 sequences pass untouched.
        var escaped: [UInt8] = []
        escaped.reserveCapacity(text.utf8.count + 64)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): escaped += Array("&amp;".utf8)
            case UInt8(ascii: "<"): escaped += Array("&lt;".utf8)
            case UInt8(ascii: ">"): escaped += Array("&gt;".utf8)
            case UInt8(ascii: "\""): escaped += Array("&quot;".utf8)
            default: escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }
}
