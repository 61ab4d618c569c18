import AirgateTestSupport
import Foundation
import MailUpstream
import Testing

@testable import MailUpstreamEtPan

private func parse(_ text: String) throws -> FetchedMessage? {
    try Array(text.utf8).withUnsafeBytes { try FetchResponseParser.message(in: $0) }
}

/// The gateway's own FETCH response reader on responses written out here: every item a
/// summary asks for, the odd forms a server may send, and malformed input.
@Suite struct FetchResponseParserTests {
    static let summary = "* 12 FETCH (UID 4711 FLAGS (\\seen $Label1 \\Recent \\ANSWERED) MODSEQ (90210) "
        + "INTERNALDATE \" 3-Feb-2026 07:08:09 -0530\" RFC822.SIZE 2048 "
        + "ENVELOPE (\"Tue, 3 Feb 2026 07:08:09 -0530\" {12}\r\nGrüße \"hi\" "
        + "((\"Ann \\\"A\\\" Example\" NIL \"ann\" \"example.net\")) NIL NIL "
        + "((NIL NIL \"team\" NIL)(\"=?UTF-8?Q?J=C3=B6rg?=\" NIL \"joerg\" \"example.org\")(NIL NIL NIL NIL)) "
        + "NIL NIL \"<parent@example.net>\" \"<m1@example.net>\") "
        + "BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 120 4 NIL NIL NIL NIL)"
        + "(\"APPLICATION\" \"PDF\" (\"NAME*0\" \"Rech\" \"name*1\" \"nung.pdf\") \"<att@x>\" \"=?UTF-8?Q?Beleg?=\" \"BASE64\" 12 "
        + "NIL (\"ATTACHMENT\" (\"filename\" \"r.pdf\")) (\"de\" \"en\") \"http://x/r.pdf\" (1 (\"x\" NIL)) 7)"
        + "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 300 (NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) "
        + "(\"text\" \"html\" NIL NIL NIL \"8bit\" 20 1 NIL NIL NIL NIL) 9 NIL NIL NIL NIL) "
        + "\"mixed\" (\"boundary\" \"b1\") NIL NIL NIL) "
        + "X-GM-LABELS (\\Inbox \"x y\") BODY[HEADER.FIELDS (REFERENCES IMPORTANCE)] {20}\r\nImportance: high\r\n\r\n)\r\n"

    @Test func readsEveryItemOfASummary() throws {
        let message = try #require(try parse(Self.summary))
        #expect(message.uid == 4711)
        #expect(message.flags == ["$Label1", "\\Answered", "\\Seen"])
        #expect(message.modSeq == 90210)
        // 2026-02-03 07:08:09 at -05:30 is 12:38:09 UTC.
        #expect(message.internalDate == 1_770_122_289_000)
        #expect(message.size == 2048)
        let envelope = try #require(message.envelope)
        #expect(envelope.subject == "Grüße \"hi\"")
        #expect(envelope.from == [MailAddress(name: "Ann \"A\" Example", address: "ann@example.net")])
        #expect(envelope.to == [MailAddress(name: "Jörg", address: "joerg@example.org")])
        #expect(envelope.inReplyTo == "<parent@example.net>" && envelope.messageId == "<m1@example.net>")
        #expect(envelope.sender.isEmpty && envelope.cc.isEmpty)

        let root = try #require(message.structure)
        #expect(root.mediaType == "multipart/mixed" && root.section == "" && root.parameters == ["boundary": "b1"])
        #expect(root.allParts.map(\.section) == ["", "1", "2", "3", "3.1"])
        let text = try #require(root.part("1"))
        #expect(text.mediaType == "text/plain" && text.charset == "utf-8" && text.encoding == "quoted-printable")
        #expect(text.size == 120)
        let pdf = try #require(root.part("2"))
        #expect(pdf.mediaType == "application/pdf" && pdf.encoding == "base64" && pdf.contentId == "<att@x>")
        #expect(pdf.parameters["name"] == "Rechnung.pdf" && pdf.contentDescription == "Beleg")
        #expect(pdf.disposition == "attachment" && pdf.dispositionParameters == ["filename": "r.pdf"])
        #expect(pdf.location == "http://x/r.pdf")
        let attached = try #require(root.part("3"))
        #expect(attached.envelope?.subject == "inner" && attached.parts.map(\.mediaType) == ["text/html"])
        #expect(message.section == Array("Importance: high\r\n\r\n".utf8))
    }

    @Test func anAttachedMessagesPartsAreNumberedBelowIt() throws {
        let inner = "((\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1)(\"image\" \"png\" NIL NIL NIL \"base64\" 4) \"mixed\")"
        let single = try #require(try parse(
            "* 1 FETCH (UID 1 BODYSTRUCTURE (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 9 "
                + "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) \(inner) 3))\r\n")?.structure)
        #expect(single.section == "1" && single.allParts.map(\.section) == ["1", "1.1", "1.2"])
        let nested = try #require(try parse(
            "* 1 FETCH (UID 1 BODYSTRUCTURE ((\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1)"
                + "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7bit\" 9 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) "
                + "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1) 3) \"mixed\"))\r\n")?.structure)
        #expect(nested.allParts.map(\.section) == ["", "1", "2", "2.1"])
    }

    /// A message may nest parts as deep as its sender likes: what is deeper than the parser
    /// reads is stepped over, and the message is still read.
    @Test func partsNestedDeeperThanReadAreSteppedOver() throws {
        let leaf = "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1 NIL NIL (\"en\") NIL)"
        var structure = leaf
        for _ in 0..<200 { structure = "(" + structure + " \"mixed\" NIL NIL (\"de\" {2}\r\n((\"x)\") NIL)" }
        let message = try #require(try parse("* 1 FETCH (UID 7 BODYSTRUCTURE \(structure) FLAGS (\\Seen))\r\n"))
        #expect(message.uid == 7 && message.flags == ["\\Seen"])
        let root = try #require(message.structure)
        #expect(root.mediaType == "multipart/mixed")
        let deepest = root.allParts.map(\.section).max { $0.count < $1.count }!
        // Levels 0 (the message) to maxDepth − 1 are read; the part at maxDepth stands for the rest.
        #expect(deepest.split(separator: ".").count == FetchResponseParser.maxDepth)
        #expect(root.allParts.count == FetchResponseParser.maxDepth + 1)
        #expect(root.allParts.last?.mediaType == "application/octet-stream")
    }

    /// Another session's flag change can reach us as an unsolicited FETCH of a message we are
    /// fetching, before or after the response asked for: the two make one message, with the
    /// newer flags.
    @Test func anUnsolicitedFetchOfTheSameMessageMergesIntoIt() throws {
        let asked = try #require(try parse(
            "* 3 FETCH (UID 9 FLAGS (\\Seen) MODSEQ (40) RFC822.SIZE 10 ENVELOPE (NIL \"s\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n"))
        let newer = try #require(try parse("* 3 FETCH (UID 9 MODSEQ (41) FLAGS (\\Seen \\Flagged))\r\n"))
        let older = try #require(try parse("* 3 FETCH (UID 9 MODSEQ (39) FLAGS ())\r\n"))
        for (first, second) in [(asked, newer), (newer, asked)] {
            var merged = first
            merged.merge(second)
            #expect(merged.envelope?.subject == "s" && merged.size == 10)
            #expect(merged.flags == ["\\Flagged", "\\Seen"] && merged.modSeq == 41)
        }
        var merged = asked
        merged.merge(older)
        #expect(merged.flags == ["\\Seen"] && merged.modSeq == 40)
        let noFlags = try #require(try parse("* 3 FETCH (UID 9 BODY[1] {1}\r\nx)\r\n"))
        merged.merge(noFlags)
        #expect(merged.flags == ["\\Seen"] && merged.section == Array("x".utf8))
    }

    @Test func otherUntaggedResponsesAreNotMessages() throws {
        for response in ["* 5 EXISTS\r\n", "* 3 EXPUNGE\r\n", "* OK [HIGHESTMODSEQ 7] x\r\n", "* VANISHED 1:2\r\n",
                         "* FLAGS (\\Seen)\r\n", "* 2 FETCHED (UID 1)\r\n", "+ go\r\n"] {
            #expect(try parse(response) == nil, "\(response)")
        }
    }

    @Test func everyTruncationOfAResponseIsAnErrorNotACrash() {
        let bytes = Array(Self.summary.utf8)
        let end = bytes.lastIndex(of: UInt8(ascii: ")"))!
        var failures = 0
        for length in 12..<end {
            let prefix = Array(bytes[..<length])
            if (try? prefix.withUnsafeBytes { try FetchResponseParser.message(in: $0) }) == nil { failures += 1 }
        }
        #expect(failures == end - 12)
    }

    @Test func hostileShapesAreRefused() {
        let deep = "* 1 FETCH (UID 1 BODYSTRUCTURE " + String(repeating: "(", count: 100_000) + ")\r\n"
        let longLiteral = "* 1 FETCH (UID 1 BODY[] {999999}\r\nabc)\r\n"
        let hugeNumber = "* 1 FETCH (UID 99999999999999999999999)\r\n"
        let bigUID = "* 1 FETCH (UID 4294967296)\r\n"
        let badDate = "* 1 FETCH (UID 1 INTERNALDATE \"31-Foo-2026 00:00:00 +0000\")\r\n"
        let deepExtension = "* 1 FETCH (UID 1 X-EXT " + String(repeating: "(", count: 100_000) + ")\r\n"
        for response in [deep, longLiteral, hugeNumber, bigUID, badDate, deepExtension] {
            #expect(throws: FetchResponseError.self, "\(response.prefix(60))") { try parse(response) }
        }
    }

    @Test func literalAnnouncementsAreFoundAtTheEndOfALine() {
        #expect(IMAPConnection.literalLength(endingAt: Array("* 1 FETCH (BODY[] {42}\r\n".utf8)) == 42)
        #expect(IMAPConnection.literalLength(endingAt: Array("x {0}\r\n".utf8)) == 0)
        #expect(IMAPConnection.literalLength(endingAt: Array("x {7+}\r\n".utf8)) == 7)
        #expect(IMAPConnection.literalLength(endingAt: Array("* OK done\r\n".utf8)) == nil)
        #expect(IMAPConnection.literalLength(endingAt: Array("x {}\r\n".utf8)) == nil)
        #expect(IMAPConnection.literalLength(endingAt: Array("x 12}\r\n".utf8)) == nil)
        #expect(IMAPConnection.literalLength(endingAt: Array("x {123456789012}\r\n".utf8)) == Int.max)
    }

    @Test func statusResponsesAreToldFromOthers() {
        #expect(IMAPConnection.isStatusResponse(Array("G4 OK done {5}\r\n".utf8), tag: "G4"))
        #expect(IMAPConnection.isStatusResponse(Array("* ok [ALERT] read {12}\r\n".utf8), tag: "G4"))
        #expect(IMAPConnection.isStatusResponse(Array("* BYE shutting down\r\n".utf8), tag: "G4"))
        #expect(!IMAPConnection.isStatusResponse(Array("* 1 FETCH (BODY[] {5}\r\n".utf8), tag: "G4"))
        #expect(!IMAPConnection.isStatusResponse(Array("G41 OK\r\n".utf8), tag: "G4"))
    }

    @Test func taggedAnswersAreRead() throws {
        let refused = try #require(TaggedAnswer(Array("G7 NO [NONEXISTENT] Mailbox doesn't exist\r\n".utf8), tag: "G7"))
        #expect(refused.status == "NO" && refused.code == "NONEXISTENT")
        #expect(refused.text == "[NONEXISTENT] Mailbox doesn't exist")
        #expect(TaggedAnswer(Array("G7 ok done\r\n".utf8), tag: "G7")?.status == "OK")
        #expect(TaggedAnswer(Array("G71 OK done\r\n".utf8), tag: "G7") == nil)
        #expect(TaggedAnswer(Array("G7 MAYBE\r\n".utf8), tag: "G7") == nil)
    }
}

/// The reader against libetpan's parser on what Dovecot sends for a corpus of awkward messages:
/// the two must agree value for value.
@Suite struct FetchResponseReaderTests {
    static let adapter = IMAPAdapter(threads: 2)

    private func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await Self.adapter.run(body)
    }

    static let corpus: [String] = [
        // Groups, quoted names with escapes, encoded words in names and subject, References.
        """
        From: "Ann \\"the boss\\" Example" <ann@example.net>\r
        To: undisclosed-recipients:;, Team: bob@example.org, =?ISO-8859-1?Q?J=F6rg?= <joerg@example.org>;\r
        Cc: "Last, First" <last@example.com>\r
        Reply-To: =?UTF-8?Q?Antw=C3=B6rt?= <reply@example.net>\r
        Subject: =?UTF-8?B?R3LDvMOfZSDinJM=?= and more\r
        Date: Mon, 23 Nov 2026 10:00:00 +0100\r
        Message-ID: <a1@example.net>\r
        In-Reply-To: <p0@example.net>\r
        References: <p-1@example.net>\r
         <p0@example.net> (a comment)\r
        Importance: High\r
        X-Priority: 1 (Highest)\r
        Thread-Topic: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r
        Content-Type: text/plain; charset=utf-8\r
        \r
        body\r
        """,
        // Raw UTF-8 in headers (Dovecot answers with literals), no Date, no Message-ID.
        """
        From: Jörg Müller <joerg@example.org>\r
        Sender: list-bounces@example.org\r
        To: demo@airgate.test\r
        Subject: Grüße {aus} "Köln" (heute) \\ backslash\r
        Content-Type: text/html; charset=utf-8\r
        Content-Transfer-Encoding: 8bit\r
        \r
        <p>Grüße</p>\r
        """,
        // Nothing but a body.
        "\r\nonly a body\r\n",
        // Related with inline image, language, location, RFC 2231 continued file name.
        """
        From: a@example.net\r
        Subject: related\r
        MIME-Version: 1.0\r
        Content-Type: multipart/related; boundary="r"; type="text/html"\r
        Content-Language: de\r
        \r
        --r\r
        Content-Type: text/html; charset="iso-8859-1"\r
        Content-Transfer-Encoding: quoted-printable\r
        Content-Location: http://example.net/index.html\r
        \r
        <img src=3D"cid:img1">\r
        --r\r
        Content-Type: image/png; name*0*=UTF-8''%C3%9Cbersicht%20; name*1="Teil 2.png"\r
        Content-ID: <img1>\r
        Content-Disposition: inline; filename*=UTF-8''%E2%82%AC.png\r
        Content-Description: =?UTF-8?Q?Bild_=C3=BC?=\r
        Content-Transfer-Encoding: base64\r
        Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r
        \r
        iVBORw0KGgo=\r
        --r--\r
        """,
        // An attached message that is itself multipart, a delivery status, an unknown type.
        """
        From: MAILER-DAEMON@example.net\r
        Subject: Undelivered Mail\r
        MIME-Version: 1.0\r
        Content-Type: multipart/report; report-type=delivery-status; boundary="o"\r
        \r
        --o\r
        Content-Type: text/plain\r
        \r
        failed\r
        --o\r
        Content-Type: message/delivery-status\r
        \r
        Reporting-MTA: dns; example.net\r
        --o\r
        Content-Type: message/rfc822\r
        \r
        From: b@example.org\r
        Subject: inner multipart\r
        Content-Type: multipart/alternative; boundary="i"\r
        \r
        --i\r
        Content-Type: text/plain\r
        \r
        plain\r
        --i\r
        Content-Type: text/html\r
        \r
        <b>html</b>\r
        --i--\r
        --o\r
        Content-Type: x-custom/thing; a=b\r
        \r
        custom\r
        --o--\r
        """,
        // An attached single-part message inside an attached message.
        """
        From: c@example.net\r
        Subject: nested\r
        MIME-Version: 1.0\r
        Content-Type: message/rfc822\r
        \r
        From: d@example.net\r
        Subject: level two\r
        Content-Type: message/rfc822\r
        \r
        From: e@example.net\r
        Subject: level three\r
        \r
        deepest\r
        """,
    ]

    @Test func ownReaderAndLibetpanAgreeOnWhatDovecotSends() async throws {
        guard MailStack.available() else { return }
        let session = IMAPMailSession(pool: Self.adapter.pool(endpoint: MailStack.imap(), credentials: MailStack.demoLogin))
        let mailbox = MailStack.uniqueMailbox("Reader")
        try await session.createTestMailbox(mailbox)
        defer { Task { try? await session.deleteMailbox(mailbox) } }
        var uids: [UInt32] = []
        let flagSets = [["\\Seen"], ["\\Answered", "\\Flagged", "$Forwarded"], [], ["\\Draft", "\\Deleted", "Junk"]]
        for (number, text) in Self.corpus.enumerated() {
            let uid = try await session.append(to: mailbox, message: Array(text.utf8), flags: flagSets[number % flagSets.count],
                                               internalDate: 1_795_000_000_000 + Int64(number) * 1000)
            uids.append(try #require(uid))
        }
        let connection = try await blocking { try IMAPConnection.open(MailStack.imap(), MailStack.demoLogin) }
        defer { connection.close() }
        let all = UIDSet(uids: uids)
        let items: [FetchItems] = [[.flags, .modSeq, .internalDate, .size, .envelope, .bodyStructure, .extraHeaders],
                                   [.flags, .modSeq]]
        for fetched in items {
            let (own, etpan) = try await blocking {
                try connection.select(mailbox.wireName, forWriting: false)
                return (try connection.fetch(all, fetched), try connection.fetchThroughEtPan(all, fetched))
            }
            #expect(own.count == Self.corpus.count && etpan.count == own.count)
            for (mine, theirs) in zip(own, etpan) { #expect(mine == theirs, "UID \(mine.uid)") }
        }
        let sections: [(String?, Range<Int>?)] = [(nil, nil), ("1", 0..<10), ("2", nil), ("HEADER", nil), ("1.MIME", nil),
                                                  ("TEXT", 5..<200), ("3.1", nil), ("9", nil)]
        for (section, range) in sections {
            let (own, etpan) = try await blocking {
                (try connection.fetchSectionOfMany(all, section: section, range: range),
                 try connection.fetchSectionOfManyThroughEtPan(all, section: section, range: range))
            }
            #expect(own == etpan, "section \(section ?? "whole") \(range.map { "\($0)" } ?? "")")
            if section == nil { #expect(own.count == Self.corpus.count) }
        }
        let summaries = try await session.summaries(in: mailbox, uids: all)
        #expect(summaries[0].envelope.to.map(\.address) == ["bob@example.org", "joerg@example.org"])
        #expect(summaries[0].envelope.replyTo == [MailAddress(name: "Antwört", address: "reply@example.net")])
        #expect(summaries[0].envelope.sender == summaries[0].envelope.from)
        #expect(summaries[1].envelope.sender.map(\.address) == ["list-bounces@example.org"])
        #expect(summaries[0].references == ["<p-1@example.net>", "<p0@example.net>"])
        #expect(summaries[1].envelope.subject == "Grüße {aus} \"Köln\" (heute) \\ backslash")
        #expect(summaries[3].structure?.part("2")?.fileName == "€.png")
        #expect(summaries[5].structure?.allParts.map(\.section) == ["1", "1.1", "1.1.1"])
    }

    @Test func aRefusedFetchLeavesTheConnectionUsable() async throws {
        guard MailStack.available() else { return }
        let connection = try await blocking { try IMAPConnection.open(MailStack.imap(), MailStack.demoLogin) }
        defer { connection.close() }
        // Nothing is selected: Dovecot answers BAD.
        await expectCode(.refused) { _ = try await blocking { try connection.fetch(UIDSet([1...3]), [.flags]) } }
        #expect(!connection.broken)
        #expect(try await blocking { connection.isAlive() })
        _ = try await blocking {
            try connection.select("INBOX", forWriting: false)
            return try connection.fetch(UIDSet([1...UInt32.max]), [.flags])
        }
        #expect(!connection.broken)
    }
}
