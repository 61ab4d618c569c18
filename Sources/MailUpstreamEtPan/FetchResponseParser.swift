import MailUpstream

#if canImport(Glibc)
import Glibc
#endif

/// Why an untagged FETCH response could not be read.
struct FetchResponseError: Error, CustomStringConvertible {
    var reason: String
    /// Byte offset in the response.
    var offset: Int

    var description: String { "\(reason) at byte \(offset)" }
}

/// Reads one untagged FETCH response ([RFC 3501] 7.4.2; MODSEQ from [RFC 7162] 3.1.4) from its
/// bytes, literals inline, into a `FetchedMessage`: the same values libetpan's parse gives
/// (`FetchedMessage.init(_:)`), for the fetches a Sync makes by the thousand. libetpan's
/// general parser allocated a C structure per token and the copy into Swift values came on top;
/// this reads the bytes once, straight into the Swift values. Pure: no I/O.
package struct FetchResponseParser {
    /// Body structures and extension values are read this deep; what nests deeper (a message
    /// can nest parts as deep as its sender likes, Dovecot reads 100 levels) is stepped over
    /// without recursion, an unread part standing for it.
    static let maxDepth = 64
    /// Parameters of one part beyond this many are skipped.
    static let maxParameters = 256

    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The message a `* n FETCH (…)` response describes; nil for any other untagged response.
    static func message(in response: UnsafeRawBufferPointer) throws(FetchResponseError) -> FetchedMessage? {
        var parser = FetchResponseParser(response)
        guard parser.skipFetchPrefix() else { return nil }
        return try parser.attributes()
    }

    /// For the fuzzer: reads `response` as `message(in:)` does; whether it was a FETCH read
    /// without error. Checks what must hold of any message read.
    package static func fuzz(_ response: UnsafeRawBufferPointer) -> Bool {
        guard let message = try? message(in: response) else { return false }
        precondition(message.flags == message.flags.sorted(), "flags not sorted")
        precondition(!message.flags.contains("\\Recent"), "\\Recent kept")
        if let root = message.structure {
            // Sections are unique: a part fetched by number is the part meant.
            let sections = root.allParts.map(\.section)
            precondition(Set(sections).count == sections.count, "a section number given twice: \(sections)")
        }
        return true
    }

    // MARK: The response

    /// `* ` nz-number ` FETCH ` before the attribute list; false when the response is not a FETCH.
    private mutating func skipFetchPrefix() -> Bool {
        guard peek() == .star, peek(1) == .space else { return false }
        index = 2
        let start = index
        while let byte = peek(), byte.isDigit { index += 1 }
        guard index > start, peek() == .space else { return false }
        index += 1
        let word = index
        while let byte = peek(), byte.isLetter { index += 1 }
        guard equalsIgnoringCase(word..<index, "FETCH"), peek() == .space else { return false }
        index += 1
        return true
    }

    private mutating func attributes() throws(FetchResponseError) -> FetchedMessage {
        var message = FetchedMessage()
        try list { parser throws(FetchResponseError) in try parser.attribute(into: &message) }
        message.flags.sort()
        return message
    }

    private mutating func attribute(into message: inout FetchedMessage) throws(FetchResponseError) {
        let name = index
        while let byte = peek(), byte.isNameByte { index += 1 }
        let word = name..<index
        guard !word.isEmpty else { throw failure("expected a FETCH item") }
        if peek() == .openBracket {
            // BODY[section]<origin>, BINARY[…]: only BODY[…] is kept.
            try skipBracketed(.openBracket, .closeBracket)
            if peek() == .lessThan { try skipBracketed(.lessThan, .greaterThan) }
            try expect(.space)
            let value = try nstring()
            if equalsIgnoringCase(word, "BODY") { message.section = value.map(copy) ?? [] }
            return
        }
        try expect(.space)
        if equalsIgnoringCase(word, "UID") {
            let value = try number()
            guard value <= UInt64(UInt32.max) else { throw failure("UID out of range") }
            message.uid = UInt32(value)
        } else if equalsIgnoringCase(word, "FLAGS") {
            message.flags = try flags()
            message.hasFlags = true
        } else if equalsIgnoringCase(word, "MODSEQ") {
            try expect(.open)
            message.modSeq = try number()
            try expect(.close)
        } else if equalsIgnoringCase(word, "INTERNALDATE") {
            guard let value = try nstring(), case .slice(let range) = value else { throw failure("bad INTERNALDATE") }
            message.internalDate = try date(range)
        } else if equalsIgnoringCase(word, "RFC822.SIZE") {
            let value = try number()
            guard value <= UInt64(Int.max) else { throw failure("size out of range") }
            message.size = Int(value)
        } else if equalsIgnoringCase(word, "ENVELOPE") {
            message.envelope = try envelope()
        } else if equalsIgnoringCase(word, "BODYSTRUCTURE") || equalsIgnoringCase(word, "BODY") {
            message.structure = try body(section: "", topLevel: true, depth: 0)
        } else {
            try skipValue(depth: 0)
        }
    }

    // MARK: Items

    /// A flag list: system flags in their usual spelling, `\Recent` left out (it is per
    /// session and means nothing to a gateway).
    private mutating func flags() throws(FetchResponseError) -> [String] {
        var flags: [String] = []
        try list { parser throws(FetchResponseError) in
            let start = parser.index
            if parser.peek() == .backslash { parser.index += 1 }
            while let byte = parser.peek(), byte != .space, byte != .close, byte != .cr, byte != .lf { parser.index += 1 }
            guard parser.index > start else { throw parser.failure("expected a flag") }
            if let flag = parser.flagName(start..<parser.index) { flags.append(flag) }
        }
        return flags
    }

    private func flagName(_ range: Range<Int>) -> String? {
        guard bytes[range.lowerBound] == .backslash else { return text(range) }
        let name = range.lowerBound + 1..<range.upperBound
        if equalsIgnoringCase(name, "SEEN") { return "\\Seen" }
        if equalsIgnoringCase(name, "ANSWERED") { return "\\Answered" }
        if equalsIgnoringCase(name, "FLAGGED") { return "\\Flagged" }
        if equalsIgnoringCase(name, "DELETED") { return "\\Deleted" }
        if equalsIgnoringCase(name, "DRAFT") { return "\\Draft" }
        if equalsIgnoringCase(name, "RECENT") { return nil }
        return text(range)
    }

    /// `date-time` ([RFC 3501] 9): `dd-Mon-yyyy hh:mm:ss +zzzz`, the day perhaps space-padded;
    /// milliseconds since 1970.
    private func date(_ range: Range<Int>) throws(FetchResponseError) -> Int64 {
        var at = range.lowerBound
        let end = range.upperBound
        func digits(_ count: Int) -> Int64? {
            guard at + count <= end else { return nil }
            var value: Int64 = 0
            for offset in 0..<count {
                let byte = bytes[at + offset]
                guard byte.isDigit else { return nil }
                value = value * 10 + Int64(byte - .zero)
            }
            at += count
            return value
        }
        func skip(_ byte: UInt8) -> Bool {
            guard at < end, bytes[at] == byte else { return false }
            at += 1
            return true
        }
        if at < end, bytes[at] == .space { at += 1 }
        let dayDigits = at + 1 < end && bytes[at + 1].isDigit ? 2 : 1
        guard let day = digits(dayDigits), skip(.minus), at + 3 <= end else { throw failure("bad INTERNALDATE") }
        let monthName = at..<at + 3
        at += 3
        let months: [StaticString] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        guard let month = months.firstIndex(where: { equalsIgnoringCase(monthName, $0) }), skip(.minus),
              let year = digits(4), skip(.space), let hour = digits(2), skip(.colon), let minute = digits(2),
              skip(.colon), let second = digits(2), skip(.space), at < end
        else { throw failure("bad INTERNALDATE") }
        let sign: Int64
        switch bytes[at] {
        case .plus: sign = 1
        case .minus: sign = -1
        default: throw failure("bad INTERNALDATE zone")
        }
        at += 1
        guard let zoneHours = digits(2), let zoneMinutes = digits(2), at == end else { throw failure("bad INTERNALDATE zone") }
        let days = CivilDate.days(year: year, month: Int64(month + 1), day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second
        return (seconds - sign * (zoneHours * 3600 + zoneMinutes * 60)) * 1000
    }

    /// ENVELOPE ([RFC 3501] 7.4.2), encoded words decoded.
    private mutating func envelope() throws(FetchResponseError) -> Envelope {
        try expect(.open)
        let date = try nstringText()
        try expect(.space)
        let subject = try nstringText()
        try expect(.space)
        let fromStart = index
        let from = try addresses()
        let fromBytes = fromStart..<index
        try expect(.space)
        // Servers fill Sender and Reply-To from From when the message has neither: the same
        // bytes need not be read (and their names decoded) again.
        let sender = skipIfRepeated(fromBytes) ? from : try addresses()
        try expect(.space)
        let replyTo = skipIfRepeated(fromBytes) ? from : try addresses()
        try expect(.space)
        let to = try addresses()
        try expect(.space)
        let cc = try addresses()
        try expect(.space)
        let bcc = try addresses()
        try expect(.space)
        let inReplyTo = try nstringText()
        try expect(.space)
        let messageId = try nstringText()
        try expect(.close)
        return Envelope(date: date, subject: EncodedWords.decode(subject), from: from, sender: sender, replyTo: replyTo,
                        to: to, cc: cc, bcc: bcc, inReplyTo: inReplyTo, messageId: messageId)
    }

    /// An address list; group start and end markers (no host) are left out.
    private mutating func addresses() throws(FetchResponseError) -> [MailAddress] {
        if try consumeNIL() { return [] }
        var addresses: [MailAddress] = []
        try list { parser throws(FetchResponseError) in
            try parser.expect(.open)
            let name = try parser.nstring()
            try parser.expect(.space)
            _ = try parser.nstring()
            try parser.expect(.space)
            let mailbox = try parser.nstring()
            try parser.expect(.space)
            let host = try parser.nstring()
            try parser.expect(.close)
            guard let mailbox, let host else { return }
            let decoded = EncodedWords.decode(name.map { parser.text($0) })
            addresses.append(MailAddress(name: decoded?.isEmpty == true ? nil : decoded,
                                         address: parser.text(mailbox) + "@" + parser.text(host)))
        }
        return addresses
    }

    /// A `body` ([RFC 3501] 9) as `MIMEPart`, numbered as IMAP numbers sections ([RFC 3501]
    /// 6.4.5): a multipart's children 1, 2 … below it, a single-part message's body 1, an
    /// attached message's parts below the attachment's number.
    private mutating func body(section: String, topLevel: Bool, depth: Int) throws(FetchResponseError) -> MIMEPart {
        guard depth < Self.maxDepth else {
            try skipNested()
            return MIMEPart(section: section, type: "application", subtype: "octet-stream")
        }
        try expect(.open)
        if peek() == .open { return try multipart(section: section, depth: depth) }
        let type = try nstringText() ?? "application"
        try expect(.space)
        let subtype = try nstringText() ?? "octet-stream"
        try expect(.space)
        let parameters = try parameterList()
        try expect(.space)
        let contentId = try nstringText()
        try expect(.space)
        let description = try nstringText()
        try expect(.space)
        let encoding = try nstringText()?.lowercased() ?? "7bit"
        try expect(.space)
        let size = try number()
        let ownSection = topLevel ? "1" : section
        var children: [MIMEPart] = []
        var envelope: Envelope?
        let isMessage = type.utf8.count == 7 && type.lowercased() == "message"
        if isMessage, peek() == .space, peek(1) == .open {
            // An attached message: its envelope, its body, its line count.
            index += 1
            envelope = try self.envelope()
            try expect(.space)
            let innerIsMultipart = peek(1) == .open
            let inner = try body(section: innerIsMultipart ? ownSection : ownSection + ".1", topLevel: false,
                                 depth: depth + 1)
            children = innerIsMultipart ? inner.parts : [inner]
            try expect(.space)
            _ = try number()
        } else if peek() == .space, let next = peek(1), next.isDigit {
            // A text part's line count.
            index += 1
            _ = try number()
        }
        var disposition: (String?, [String: String]) = (nil, [:])
        var location: String?
        if peek() == .space {
            index += 1
            _ = try nstring() // MD5
            if peek() == .space {
                index += 1
                disposition = try dispositionField()
                location = try languageAndLocation(depth: depth)
            }
        }
        try expect(.close)
        return MIMEPart(section: ownSection, type: type, subtype: subtype, parameters: parameters, contentId: contentId,
                        contentDescription: EncodedWords.decode(description), encoding: encoding,
                        size: size <= UInt64(Int.max) ? Int(size) : Int.max, disposition: disposition.0,
                        dispositionParameters: disposition.1, location: location, parts: children, envelope: envelope)
    }

    private mutating func multipart(section: String, depth: Int) throws(FetchResponseError) -> MIMEPart {
        var children: [MIMEPart] = []
        while peek() == .open {
            let childSection = section.isEmpty ? String(children.count + 1) : section + "." + String(children.count + 1)
            children.append(try body(section: childSection, topLevel: false, depth: depth + 1))
            skipSpaces()
        }
        let subtype = try nstringText() ?? "mixed"
        var parameters: [String: String] = [:]
        var disposition: (String?, [String: String]) = (nil, [:])
        var location: String?
        if peek() == .space {
            index += 1
            parameters = try parameterList()
            if peek() == .space {
                index += 1
                disposition = try dispositionField()
                location = try languageAndLocation(depth: depth)
            }
        }
        try expect(.close)
        return MIMEPart(section: section, type: "multipart", subtype: subtype, parameters: parameters,
                        disposition: disposition.0, dispositionParameters: disposition.1, location: location,
                        parts: children)
    }

    /// After a disposition: the language, the location, then extension values nobody defined yet.
    private mutating func languageAndLocation(depth: Int) throws(FetchResponseError) -> String? {
        guard peek() == .space else { return nil }
        index += 1
        try skipValue(depth: depth + 1)
        guard peek() == .space else { return nil }
        index += 1
        let location = try nstringText()
        while peek() == .space {
            index += 1
            try skipValue(depth: depth + 1)
        }
        return location
    }

    /// `body-fld-param`: names lower-cased, RFC 2231 and encoded words decoded.
    private mutating func parameterList() throws(FetchResponseError) -> [String: String] {
        if try consumeNIL() { return [:] }
        var raw: [(String, String)] = []
        try list { parser throws(FetchResponseError) in
            let name = try parser.nstringText()
            try parser.expect(.space)
            let value = try parser.nstringText()
            if let name, let value, raw.count < Self.maxParameters { raw.append((name.lowercased(), value)) }
        }
        return raw.isEmpty ? [:] : MIMEParameters.decode(raw)
    }

    /// `body-fld-dsp`: the disposition lower-cased and its parameters.
    private mutating func dispositionField() throws(FetchResponseError) -> (String?, [String: String]) {
        if try consumeNIL() { return (nil, [:]) }
        try expect(.open)
        let type = try nstringText()?.lowercased()
        try expect(.space)
        let parameters = try parameterList()
        try expect(.close)
        return (type, parameters)
    }

    /// Any value: a number, an nstring, an atom or a parenthesised list of them.
    private mutating func skipValue(depth: Int) throws(FetchResponseError) {
        guard peek() == .open else {
            if let byte = peek(), byte.isDigit {
                _ = try number()
            } else {
                // A flag-like atom (`\Inbox`) is as good as any.
                if peek() == .backslash { index += 1 }
                _ = try nstring()
            }
            return
        }
        guard depth < Self.maxDepth else { return try skipNested() }
        try list { parser throws(FetchResponseError) in try parser.skipValue(depth: depth + 1) }
    }

    /// `(` item *(SP item) `)` with `item` reading each item; spaces between items forgiven.
    private mutating func list(_ item: (inout FetchResponseParser) throws(FetchResponseError) -> Void)
        throws(FetchResponseError)
    {
        try expect(.open)
        while true {
            skipSpaces()
            if peek() == .close {
                index += 1
                return
            }
            try item(&self)
        }
    }

    /// Steps over a parenthesised value however deep it nests, strings and literals included,
    /// without recursion.
    private mutating func skipNested() throws(FetchResponseError) {
        try expect(.open)
        var open = 1
        while open > 0 {
            guard let byte = peek() else { throw failure("unterminated list") }
            switch byte {
            case .open:
                open += 1
                index += 1
            case .close:
                open -= 1
                index += 1
            case .quote:
                _ = try quoted()
            case .openBrace:
                _ = try literal()
            default:
                index += 1
            }
        }
    }

    // MARK: Tokens

    /// A string's bytes where they lie, or unescaped from a quoted string with backslashes.
    private enum Piece {
        case slice(Range<Int>)
        case unescaped([UInt8])
    }

    /// NIL, a quoted string, a literal, or (as some servers send) an atom.
    private mutating func nstring() throws(FetchResponseError) -> Piece? {
        switch peek() {
        case .quote:
            return try quoted()
        case .openBrace:
            return try literal()
        case let byte? where byte.isAtomByte:
            let start = index
            while let byte = peek(), byte.isAtomByte { index += 1 }
            let range = start..<index
            return equalsIgnoringCase(range, "NIL") ? nil : .slice(range)
        default:
            throw failure("expected a string")
        }
    }

    private mutating func nstringText() throws(FetchResponseError) -> String? {
        try nstring().map(text)
    }

    /// Consumes NIL if it comes next.
    private mutating func consumeNIL() throws(FetchResponseError) -> Bool {
        guard peek() == .capitalN || peek() == .smallN else { return false }
        guard index + 3 <= bytes.count, equalsIgnoringCase(index..<index + 3, "NIL") else {
            throw failure("expected NIL")
        }
        index += 3
        return true
    }

    private mutating func quoted() throws(FetchResponseError) -> Piece {
        index += 1
        let start = index
        while let byte = peek() {
            switch byte {
            case .quote:
                index += 1
                return .slice(start..<index - 1)
            case .backslash:
                return try unescapedRest(from: start)
            case .cr, .lf:
                throw failure("line break in a quoted string")
            default:
                index += 1
            }
        }
        throw failure("unterminated quoted string")
    }

    private mutating func unescapedRest(from start: Int) throws(FetchResponseError) -> Piece {
        var out = Array(bytes[start..<index])
        while let byte = peek() {
            index += 1
            switch byte {
            case .quote:
                return .unescaped(out)
            case .backslash:
                guard let escaped = peek() else { throw failure("unterminated quoted string") }
                out.append(escaped)
                index += 1
            case .cr, .lf:
                throw failure("line break in a quoted string")
            default:
                out.append(byte)
            }
        }
        throw failure("unterminated quoted string")
    }

    /// `{n}` CRLF and n bytes (`{n+}` tolerated).
    private mutating func literal() throws(FetchResponseError) -> Piece {
        index += 1
        let count = try number()
        if peek() == .plus { index += 1 }
        try expect(.closeBrace)
        try expect(.cr)
        try expect(.lf)
        guard count <= UInt64(bytes.count - index) else { throw failure("literal longer than the response") }
        let range = index..<index + Int(count)
        index = range.upperBound
        return .slice(range)
    }

    private mutating func number() throws(FetchResponseError) -> UInt64 {
        let start = index
        var value: UInt64 = 0
        while let byte = peek(), byte.isDigit {
            let (times, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (sum, carried) = times.addingReportingOverflow(UInt64(byte - .zero))
            guard !overflowed, !carried else { throw failure("number too large") }
            value = sum
            index += 1
        }
        guard index > start else { throw failure("expected a number") }
        return value
    }

    private mutating func skipBracketed(_ open: UInt8, _ close: UInt8) throws(FetchResponseError) {
        try expect(open)
        while let byte = peek(), byte != close {
            guard byte != .cr, byte != .lf else { break }
            index += 1
        }
        try expect(close)
    }

    /// Skips the bytes of `earlier` if they come again next; whether they did.
    private mutating func skipIfRepeated(_ earlier: Range<Int>) -> Bool {
        let count = earlier.count
        guard count > 3, index + count <= bytes.count,
              memcmp(bytes.baseAddress! + earlier.lowerBound, bytes.baseAddress! + index, count) == 0
        else { return false }
        index += count
        return true
    }

    private mutating func skipSpaces() {
        while peek() == .space { index += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws(FetchResponseError) {
        guard peek() == byte else {
            throw failure("expected \"\(Character(Unicode.Scalar(byte)))\"")
        }
        index += 1
    }

    private func peek(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    private func text(_ piece: Piece) -> String {
        switch piece {
        case .slice(let range): return text(range)
        case .unescaped(let bytes): return String(decoding: bytes, as: UTF8.self)
        }
    }

    private func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    private func copy(_ piece: Piece) -> [UInt8] {
        switch piece {
        case .slice(let range): return Array(UnsafeRawBufferPointer(rebasing: bytes[range]))
        case .unescaped(let bytes): return bytes
        }
    }

    /// Whether the bytes in `range` spell `word` (upper-case ASCII) in any case.
    private func equalsIgnoringCase(_ range: Range<Int>, _ word: StaticString) -> Bool {
        guard range.count == word.utf8CodeUnitCount else { return false }
        return word.withUTF8Buffer { expected in
            for offset in 0..<expected.count {
                let byte = bytes[range.lowerBound + offset]
                let upper = byte >= .smallA && byte <= .smallZ ? byte - 32 : byte
                if upper != expected[offset] { return false }
            }
            return true
        }
    }

    private func failure(_ reason: String) -> FetchResponseError {
        FetchResponseError(reason: reason, offset: index)
    }
}

private extension UInt8 {
    static let space = UInt8(ascii: " ")
    static let star = UInt8(ascii: "*")
    static let open = UInt8(ascii: "(")
    static let close = UInt8(ascii: ")")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let lessThan = UInt8(ascii: "<")
    static let greaterThan = UInt8(ascii: ">")
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let plus = UInt8(ascii: "+")
    static let minus = UInt8(ascii: "-")
    static let colon = UInt8(ascii: ":")
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let zero = UInt8(ascii: "0")
    static let capitalN = UInt8(ascii: "N")
    static let smallN = UInt8(ascii: "n")
    static let smallA = UInt8(ascii: "a")
    static let smallZ = UInt8(ascii: "z")

    var isDigit: Bool { self >= .zero && self <= UInt8(ascii: "9") }
    var isLetter: Bool { (self | 0x20) >= .smallA && (self | 0x20) <= .smallZ }

    /// What a FETCH item's name is made of (`RFC822.SIZE`, `X-GM-MSGID`).
    var isNameByte: Bool { isLetter || isDigit || self == UInt8(ascii: ".") || self == .minus || self == UInt8(ascii: "_") }

    /// [RFC 3501] 9 `ATOM-CHAR`, and `]` (which `astring` allows).
    var isAtomByte: Bool {
        guard self > 0x20, self < 0x7F else { return false }
        switch self {
        case .open, .close, .openBrace, .space, UInt8(ascii: "%"), .star, .quote, .backslash: return false
        default: return true
        }
    }
}
