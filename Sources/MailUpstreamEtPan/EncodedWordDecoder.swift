import MailUpstream

/// [RFC 2047] encoded words (`=?charset?B?…?=`, `=?charset?Q?…?=`) in a header's text, decoded
/// to UTF-8 as libetpan's `mailmime_encoded_phrase_parse` decodes them (the tests compare the
/// two): names and subjects of every message a Sync sends go through here. Pure but for the
/// charset conversion.
enum EncodedWordDecoder {
    /// Longest charset name taken from an encoded word.
    static let maxCharsetBytes = 64

    static func decode(_ text: String) -> String {
        Array(text.utf8).withUnsafeBufferPointer { decode($0) }
    }

    private static func decode(_ input: UnsafeBufferPointer<UInt8>) -> String {
        var output = ""
        // Bytes of consecutive encoded words in one charset, converted together: a character
        // may be split across two words.
        var pending: [UInt8] = []
        var pendingCharset: Substring?
        var index = 0
        var plainStart = 0
        var lastWasEncoded = false
        var lookahead = Lookahead(input)
        func flushPending() {
            guard let charset = pendingCharset else { return }
            output += Charsets.utf8String(pending, charset: String(charset))
            pending.removeAll(keepingCapacity: true)
            pendingCharset = nil
        }
        while index < input.count {
            guard input[index] == UInt8(ascii: "="), index + 1 < input.count, input[index + 1] == UInt8(ascii: "?"),
                  let word = EncodedWord(input, at: index, &lookahead)
            else {
                index += 1
                continue
            }
            let between = input[plainStart..<index]
            // Only white space between two encoded words is dropped ([RFC 2047] 6.2).
            if !(lastWasEncoded && between.allSatisfy(isWhiteSpace)) {
                flushPending()
                appendPlain(between, to: &output, atStart: plainStart == 0)
            }
            let charset = Substring(decoding: UnsafeBufferPointer(rebasing: input[word.charset]), as: UTF8.self)
            if let current = pendingCharset, current.lowercased() != charset.lowercased() { flushPending() }
            pendingCharset = charset
            word.appendDecoded(input, to: &pending)
            index = word.end
            plainStart = index
            lastWasEncoded = true
        }
        flushPending()
        appendPlain(input[plainStart...], to: &output, atStart: plainStart == 0)
        return output
    }

    /// Text between encoded words, unfolded: each run of white space (line breaks included)
    /// becomes one space, and none is left at the start of the header.
    private static func appendPlain(_ text: Slice<UnsafeBufferPointer<UInt8>>, to output: inout String, atStart: Bool) {
        let text = atStart ? text.drop(while: isWhiteSpace) : text
        guard text.contains(where: { isWhiteSpace($0) && $0 != 32 }) || text.contains(pairOfSpaces: ()) else {
            output += String(decoding: UnsafeBufferPointer(rebasing: text), as: UTF8.self)
            return
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var inSpace = false
        for byte in text {
            if isWhiteSpace(byte) {
                if !inSpace { bytes.append(32) }
                inSpace = true
            } else {
                bytes.append(byte)
                inSpace = false
            }
        }
        output += String(decoding: bytes, as: UTF8.self)
    }

    private static func isWhiteSpace(_ byte: UInt8) -> Bool {
        byte == 32 || byte == 9 || byte == 13 || byte == 10
    }
}

private extension Slice<UnsafeBufferPointer<UInt8>> {
    /// Whether two spaces follow each other.
    func contains(pairOfSpaces _: Void) -> Bool {
        var previous: UInt8 = 0
        for byte in self {
            if byte == 32, previous == 32 { return true }
            previous = byte
        }
        return false
    }
}

/// One `=?charset?encoding?text?=` found in header text.
private struct EncodedWord {
    var charset: Range<Int>
    var base64: Bool
    var text: Range<Int>
    /// Just past the closing `?=`.
    var end: Int

    init?(_ input: UnsafeBufferPointer<UInt8>, at start: Int, _ lookahead: inout Lookahead) {
        var index = start + 2
        let charsetStart = index
        while index < input.count, input[index] != UInt8(ascii: "?") {
            guard isTokenByte(input[index]), index - charsetStart < EncodedWordDecoder.maxCharsetBytes else { return nil }
            index += 1
        }
        guard index > charsetStart, index + 2 < input.count, input[index + 2] == UInt8(ascii: "?") else { return nil }
        // RFC 2231 adds a language after "*": it is not needed.
        let charsetEnd = input[charsetStart..<index].firstIndex(of: UInt8(ascii: "*")) ?? index
        guard charsetEnd > charsetStart else { return nil }
        charset = charsetStart..<charsetEnd
        switch input[index + 1] {
        case UInt8(ascii: "B"), UInt8(ascii: "b"): base64 = true
        case UInt8(ascii: "Q"), UInt8(ascii: "q"): base64 = false
        default: return nil
        }
        let textStart = index + 3
        // The text runs to the next "?=" and holds no space, control or 8-bit byte.
        let close = lookahead.close(from: textStart)
        guard close < input.count, lookahead.nonText(from: textStart) >= close else { return nil }
        text = textStart..<close
        end = close + 2
    }

    func appendDecoded(_ input: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        let encoded = Array(input[text])
        if base64 {
            bytes += MIMEBase64Decoder.decode(encoded)
            return
        }
        var index = 0
        while index < encoded.count {
            let byte = encoded[index]
            if byte == UInt8(ascii: "_") {
                bytes.append(32)
            } else if byte == UInt8(ascii: "="), index + 2 < encoded.count, let high = hexValue(encoded[index + 1]),
                      let low = hexValue(encoded[index + 2])
            {
                bytes.append(high << 4 | low)
                index += 2
            } else {
                bytes.append(byte)
            }
            index += 1
        }
    }

    private func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

/// Where the next `?=` and the next byte an encoded text may not hold are, found once for a
/// header: the words are tried at rising positions, so each search goes on from the last and
/// a header of many unfinished `=?` costs time in proportion to its length.
private struct Lookahead {
    private let input: UnsafeBufferPointer<UInt8>
    private var nextClose = -1
    private var nextNonText = -1

    init(_ input: UnsafeBufferPointer<UInt8>) {
        self.input = input
    }

    /// The first `?=` at or after `start`; `input.count` if there is none.
    mutating func close(from start: Int) -> Int {
        if nextClose < start {
            nextClose = start
            while nextClose + 1 < input.count,
                  !(input[nextClose] == UInt8(ascii: "?") && input[nextClose + 1] == UInt8(ascii: "="))
            {
                nextClose += 1
            }
            if nextClose + 1 >= input.count { nextClose = input.count }
        }
        return nextClose
    }

    /// The first space, control or 8-bit byte at or after `start`; `input.count` if none.
    mutating func nonText(from start: Int) -> Int {
        if nextNonText < start {
            nextNonText = start
            while nextNonText < input.count, input[nextNonText] > 32, input[nextNonText] < 127 { nextNonText += 1 }
        }
        return nextNonText
    }
}

/// [RFC 2045] 5.1 `token` characters, what a charset name is made of.
private func isTokenByte(_ byte: UInt8) -> Bool {
    guard byte > 32, byte < 127 else { return false }
    return !"()<>@,;:\\\"/[]?=".utf8.contains(byte)
}
