import AirgateTestSupport
import Foundation
import MailUpstream
import Testing

@testable import MailUpstreamEtPan

/// MIME decoding as the gateway sees it through `MIMECodec`.
@Suite struct MIMECodecTests {
    let codec = EtPanMIMECodec()

    @Test func transferEncodingsAndCharsets() {
        let qp = codec.decodeTransferEncoding(Array("Gr=FC=DFe, soft=\r\nbreak".utf8), encoding: "Quoted-Printable")
        #expect(codec.decodeText(qp, charset: "ISO-8859-1") == "Grüße, softbreak")
        let base64 = Array(Data("Привет, мир".utf8).base64EncodedString().utf8)
        #expect(codec.decodeText(codec.decodeTransferEncoding(base64, encoding: "base64"), charset: "utf-8") == "Привет, мир")
        // Windows-1252 curly quotes and euro sign.
        #expect(codec.decodeText([0x93, 0x80, 0x94], charset: "windows-1252") == "\u{201C}€\u{201D}")
        #expect(codec.decodeText(Array("日本".utf8), charset: nil) == "日本")
        #expect(codec.decodeText(Array("plain".utf8), charset: "x-unknown-charset") == "plain")
        #expect(codec.decodeTransferEncoding(Array("as is".utf8), encoding: "7bit") == Array("as is".utf8))
    }

    @Test func truncatedBase64DecodesWhatIsWhole() {
        let full = Array(Data(String(repeating: "abcdefghij", count: 100).utf8).base64EncodedString().utf8)
        let decoded = codec.decodeTransferEncoding(Array(full.prefix(403)), encoding: "base64")
        #expect(decoded.count >= 300 && decoded.count <= 303)
        #expect(String(decoding: decoded.prefix(20), as: UTF8.self) == "abcdefghijabcdefghij")
    }

    /// Found by the fuzzer (Fuzz/seeds/mime/qp-cut-escape): libetpan read past the buffer on
    /// an escape cut short by the end; under ASan that was a heap-buffer-overflow.
    @Test func truncatedQuotedPrintableDropsTheCutEscape() {
        #expect(codec.decodeTransferEncoding(Array("caf=C3=A9 a=4".utf8), encoding: "quoted-printable") == Array("café a".utf8))
        #expect(codec.decodeTransferEncoding(Array("a=-".utf8), encoding: "quoted-printable") == Array("a".utf8))
        #expect(codec.decodeTransferEncoding(Array("=4".utf8), encoding: "quoted-printable") == [])
        // A whole escape and a soft line break at the end are decoded as before.
        #expect(codec.decodeTransferEncoding(Array("x=41".utf8), encoding: "quoted-printable") == Array("xA".utf8))
        #expect(codec.decodeTransferEncoding(Array("x=\r".utf8), encoding: "quoted-printable").starts(with: Array("x".utf8)))
    }

    /// Bodies as mailers write them, cut at every length (a Sync fetches the first bytes of a
    /// part): the Swift decoders and libetpan's agree byte for byte, but where the cut leaves a
    /// lone base64 character or an "=" with nothing or spaces after it, of which libetpan made
    /// a byte, kept the "=" or made a NUL of "= ", and nothing is made now.
    @Test func transferDecodingAgreesWithLibetpanOnWhatMailersWrite() {
        var generator = SystemRandomNumberGenerator()
        var samples: [(String, [UInt8])] = []
        for round in 0..<40 {
            let length = Int.random(in: 0..<300, using: &generator)
            let payload = (0..<length).map { _ in
                round % 2 == 0 ? UInt8.random(in: 0...255, using: &generator)
                    : Array(" aeiouxyz.\r\n\tÄ€".utf8).randomElement(using: &generator)!
            }
            let options: Data.Base64EncodingOptions = [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed]
            samples.append(("base64", Array(Data(payload).base64EncodedString(options: options).utf8)))
            samples.append(("quoted-printable", Self.quotedPrintable(payload, lowercase: round % 3 == 0)))
        }
        samples.append(("quoted-printable", Array("bare\nline feeds\n=\nand CR\rinside".utf8)))
        var compared = 0
        for (encoding, bytes) in samples {
            for length in 0...bytes.count {
                let input = Array(bytes.prefix(length))
                let ours = codec.decodeTransferEncoding(input, encoding: encoding)
                let theirs = codec.decodeTransferEncodingThroughEtPan(input, encoding: encoding)
                let cutShort = encoding == "base64"
                    ? input.prefix { $0 != UInt8(ascii: "=") }.count { Self.isBase64Letter($0) } % 4 == 1
                    : input.reversed().drop { $0 == 32 || $0 == 9 || $0 == 13 }.first == UInt8(ascii: "=")
                #expect(ours == theirs || (cutShort && ours == theirs.dropLast()),
                        "\(encoding) \(String(decoding: input, as: UTF8.self).debugDescription)")
                compared += 1
                if ours != theirs, !cutShort { break }
            }
        }
        #expect(compared > 10_000)
    }

    /// ISO-8859-1 and Windows-1252, decoded without iconv, come out as iconv makes them: every
    /// byte alone and random text.
    @Test func westernCharsetsAgreeWithIconv() {
        var samples = (0...255).map { [UInt8($0)] }
        for _ in 0..<200 { samples.append((0..<Int.random(in: 0..<80)).map { _ in UInt8.random(in: 0...255) }) }
        for charset in ["ISO-8859-1", "latin1", "windows-1252", "CP1252"] {
            for bytes in samples {
                #expect(Charsets.utf8String(bytes, charset: charset) == Charsets.throughIconv(bytes, charset: charset),
                        "\(charset) \(bytes)")
            }
        }
        #expect(codec.decodeText([0x80, 0x41, 0xE9], charset: "windows-1252") == "€Aé")
        #expect(codec.decodeText([0x80, 0x41, 0xE9], charset: "iso-8859-1") == "\u{80}Aé")
    }

    /// Malformed input, where libetpan made bytes out of nothing (an invalid escape's
    /// characters as if they were hex digits, base64 after its end): [RFC 2045] 6.7 and 6.8.
    @Test func malformedTransferEncodingsDecodeByTheRFC() {
        let quoted: [(String, String)] = [
            ("a=\r\nb", "ab"), ("a=\nb", "ab"), ("a=  \r\nb", "ab"), ("a=\t\nb", "ab"), ("=G1", "=G1"), ("==41", "=A"),
            ("=4=", "=4"), ("=3D=3d", "=="), ("x=0a=0D", "x\n\r"), ("line\nbare", "line\r\nbare"), ("end=", "end"),
            ("e=4", "e"), ("a=  ", "a"), ("a=  \r", "a"), ("tail\r", "tail"), ("in\rside", "in\r\nside"),
        ]
        for (input, expected) in quoted {
            #expect(codec.decodeTransferEncoding(Array(input.utf8), encoding: "quoted-printable") == Array(expected.utf8),
                    "\(input.debugDescription)")
        }
        let base64: [(String, String)] = [
            ("YWJj\r\nZGVm", "abcdef"), ("YW Jj", "abc"), ("YWJ", "ab"), ("YW", "a"), ("Y", ""), ("YWI=ZGVm", "ab"),
            ("YWJjZA==", "abcd"), ("YWJjZA=", "abcd"), ("!!YWJj**", "abc"), ("====", ""),
        ]
        for (input, expected) in base64 {
            #expect(codec.decodeTransferEncoding(Array(input.utf8), encoding: "BASE64") == Array(expected.utf8),
                    "\(input.debugDescription)")
        }
    }

    private static func isBase64Letter(_ byte: UInt8) -> Bool {
        (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) || byte == 43 || byte == 47
    }

    /// Quoted-printable as a mailer writes it: lines of at most 76 with soft breaks.
    private static func quotedPrintable(_ bytes: [UInt8], lowercase: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var line = 0
        for (index, byte) in bytes.enumerated() {
            var piece: [UInt8]
            let lineEnd = byte == 13 && index + 1 < bytes.count && bytes[index + 1] == 10
            if lineEnd || (byte == 10 && index > 0 && bytes[index - 1] == 13) {
                out.append(byte)
                line = 0
                continue
            } else if (byte >= 33 && byte <= 126 && byte != 61) || byte == 32 {
                piece = [byte]
            } else {
                let hex = String(format: lowercase ? "=%02x" : "=%02X", byte)
                piece = Array(hex.utf8)
            }
            if line + piece.count > 75 {
                out += Array("=\r\n".utf8)
                line = 0
            }
            out += piece
            line += piece.count
        }
        return out
    }

    /// Header text as mailers write it: plain words and encoded words in UTF-8 and Western
    /// charsets, B and Q, characters split across words, folded lines. The Swift decoder and
    /// libetpan's agree.
    @Test func encodedWordsAgreeWithLibetpan() {
        var generator = SystemRandomNumberGenerator()
        let plain = ["Hello", "Grüße", "(comment)", "\"quoted\"", "<a@example.net>", "a=b", "?", "50%", "x_y"]
        let separators = [" ", "  ", "\t", "\r\n ", ""]
        var compared = 0
        for _ in 0..<3000 {
            var header = ""
            for position in 0..<Int.random(in: 1...5, using: &generator) {
                if position > 0 { header += separators.randomElement(using: &generator)! }
                if Bool.random(using: &generator) {
                    header += plain.randomElement(using: &generator)!
                    continue
                }
                let text = ["Grüße aus Köln", "naïve café", "€ 5", "plain", "a_b=c?d", "日本語"].randomElement(using: &generator)!
                let charset = ["utf-8", "UTF-8", "iso-8859-1", "windows-1252"].randomElement(using: &generator)!
                let bytes: [UInt8] = charset.hasPrefix("utf") || charset.hasPrefix("UTF")
                    ? Array(text.utf8) : text.unicodeScalars.map { $0.value < 256 ? UInt8($0.value) : UInt8(ascii: "?") }
                // Sometimes two words, split between characters.
                let boundaries = charset.lowercased() == "utf-8"
                    ? (0...bytes.count).filter { $0 == bytes.count || bytes[$0] & 0xC0 != 0x80 } : Array(0...bytes.count)
                let cut = Bool.random(using: &generator) ? boundaries.randomElement(using: &generator)! : bytes.count
                for piece in [bytes[..<cut], bytes[cut...]] where !piece.isEmpty || cut == bytes.count {
                    let base64 = Bool.random(using: &generator)
                    let encoded = base64 ? Data(piece).base64EncodedString() : Self.qEncoded(Array(piece))
                    header += "=?\(charset)?\(base64 ? "B" : "q")?\(encoded)?= "
                }
                header.removeLast()
            }
            if Int.random(in: 0..<5, using: &generator) == 0 { header = " " + header + "  " }
            let ours = EncodedWords.decode(header)
            let theirs = EncodedWords.decodeThroughEtPan(header)
            #expect(ours == theirs, "\(header.debugDescription)")
            compared += 1
            if ours != theirs { break }
        }
        #expect(compared == 3000)
    }

    /// Where libetpan lost text: a character split across two encoded words (each was
    /// converted alone) and everything after an "=?" that starts no encoded word.
    @Test func encodedWordsKeepWhatLibetpanLost() {
        #expect(codec.decodeHeader("=?UTF-8?B?5pel5pys6Ko=?= =?UTF-8?B?ng==?= x") == "日本語 x")
        #expect(codec.decodeHeader("=?utf-8?q?50=25?= =? off") == "50% =? off")
        #expect(codec.decodeHeader("?=?= =?utf-8?q?x?=") == "?=?= x")
        #expect(codec.decodeHeader("=?utf-8?q?a?= =?UTF-8?Q?b?=\r\n\t=?iso-8859-1?q?=E9?=") == "abé")
        #expect(codec.decodeHeader("=?utf-8*de?q?Hallo?=") == "Hallo")
        #expect(codec.decodeHeader("=?utf-8?x?nope?= =?utf-8?q?broken") == "=?utf-8?x?nope?= =?utf-8?q?broken")
    }

    /// A header made of unfinished encoded words is left as it is, and in time that grows with
    /// its length, not its square (700 KB of them: each "=?" searched to the end again would
    /// not finish; a long word still decodes).
    @Test func unfinishedEncodedWordsAreLeftAsTheyAre() {
        let hostile = String(repeating: "=?a?q?x", count: 100_000)
        #expect(EncodedWords.decode(hostile) == hostile)
        #expect(EncodedWords.decode(hostile + " ?=") == hostile + " ?=")
        let long = String(repeating: "a", count: 5000)
        #expect(codec.decodeHeader("=?utf-8?q?\(long)?= =?utf-8?q?b") == long + " =?utf-8?q?b")
    }

    private static func qEncoded(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            if byte == 32 { return "_" }
            let safe = (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
            return safe ? String(UnicodeScalar(byte)) : String(format: "=%02X", byte)
        }.joined()
    }

    @Test func headersAndAddressLists() throws {
        #expect(codec.decodeHeader("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus =?ISO-8859-1?B?S/Zsbg==?=") == "Grüße aus Köln")
        #expect(codec.decodeHeader("no encoded words") == "no encoded words")
        let list = try codec.addresses(in: "\"Doe, Jane\" <jane@example.net>, =?UTF-8?B?w4lsaXNl?= <elise@example.org>, "
            + "Team: a@example.com, b@example.com;, plain@example.net")
        #expect(list == [
            MailAddress(name: "Doe, Jane", address: "jane@example.net"),
            MailAddress(name: "Élise", address: "elise@example.org"),
            MailAddress(address: "a@example.com"), MailAddress(address: "b@example.com"),
            MailAddress(address: "plain@example.net"),
        ])
        #expect(try codec.addresses(in: "  ").isEmpty)
        #expect(throws: UpstreamError.self) { try codec.addresses(in: "<<<") }
    }

    @Test func partFetchedFromDovecotDecodes() async throws {
        guard MailStack.available() else { return }
        let adapter = IMAPAdapter(threads: 1)
        let session = IMAPMailSession(pool: adapter.pool(endpoint: MailStack.imap(), credentials: MailStack.demoLogin))
        let mailbox = MailStack.uniqueMailbox("Codec")
        try await session.createTestMailbox(mailbox)
        defer { Task { try? await session.deleteMailbox(mailbox) } }
        let uid = try #require(try await session.append(to: mailbox, message: IMAPBodyStructureTests.structured, flags: [], internalDate: nil))
        let part = try #require(try await session.summaries(in: mailbox, uids: UIDSet(uids: [uid])).first?.structure?.part("1.1"))
        let bytes = try await session.fetch(in: mailbox, uid: uid, section: part.section, range: nil)
        #expect(codec.text(of: bytes, part: part).trimmingCharacters(in: .whitespacesAndNewlines) == "Grüße")
    }
}

/// SendMail's MIME into a submission: recipients from To/Cc/Bcc, Bcc gone from the bytes.
@Suite struct SubmissionBuilderTests {
    let codec = EtPanMIMECodec()

    @Test func recipientsFromHeadersAndBccStripped() throws {
        let message = Array("""
            From: Demo <demo@airgate.test>\r
            To: "Doe, Jane" <jane@example.net>,\r
             bob@example.org\r
            Cc: =?UTF-8?B?w4lsaXNl?= <elise@example.org>, jane@example.net\r
            Bcc: secret@example.com,\r
            \thidden@example.com\r
            Subject: hello\r
            \r
            Bcc: this line is body text\r

            """.utf8)
        let submission = try SubmissionBuilder.submission(from: message, sender: "demo@airgate.test", codec: codec)
        #expect(submission.sender == "demo@airgate.test")
        #expect(submission.recipients == ["jane@example.net", "bob@example.org", "elise@example.org",
                                          "secret@example.com", "hidden@example.com"])
        let text = String(decoding: submission.message, as: UTF8.self)
        #expect(!text.contains("secret@example.com") && !text.contains("hidden@example.com"))
        #expect(text.contains("To: \"Doe, Jane\" <jane@example.net>,\r\n bob@example.org\r\n"))
        #expect(text.hasSuffix("\r\nBcc: this line is body text\r\n"))
        #expect(text.contains("Subject: hello\r\n\r\n"))
    }

    @Test func badInputIsRefused() {
        #expect(throws: SubmissionBuilder.Failure.noRecipients) {
            try SubmissionBuilder.submission(from: Array("Subject: x\r\n\r\nbody".utf8), sender: "a@b.c", codec: codec)
        }
        #expect(throws: SubmissionBuilder.Failure.noHeaderEnd) {
            try SubmissionBuilder.submission(from: Array("To: a@b.c\r\nno end".utf8), sender: "a@b.c", codec: codec)
        }
        #expect {
            try SubmissionBuilder.submission(from: Array("To: <<<\r\n\r\nbody".utf8), sender: "a@b.c", codec: codec)
        } throws: { error in
            if case .badAddress(header: "To", _) = error as? SubmissionBuilder.Failure { true } else { false }
        }
    }
}
