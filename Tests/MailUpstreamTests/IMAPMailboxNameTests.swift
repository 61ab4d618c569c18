import MailUpstream
import Testing

@Suite("Modified UTF-7 mailbox names ([RFC 3501] 5.1.3)")
struct IMAPMailboxNameTests {
    static let vectors: [(display: String, wire: String)] = [
        ("INBOX", "INBOX"),
        ("Sent Items", "Sent Items"),
        ("Tom & Jerry", "Tom &- Jerry"),
        ("Reçus", "Re&AOc-us"),  // as Dovecot 2.3 names it too
        ("お知らせ", "&MEp35TCJMFs-"),  // as Dovecot 2.3 names the folder Deploy/stack.sh seed creates
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),  // [RFC 3501] 5.1.3's example
        ("Projekte/Übersicht", "Projekte/&ANw-bersicht"),
        ("שלום", "&BekF3AXVBd0-"),
        ("📬 Post", "&2D3c7A- Post"),  // a surrogate pair (U+1F4EC = D83D DCEC)
    ]

    @Test("encodes and decodes", arguments: vectors)
    func roundTrip(display: String, wire: String) {
        #expect(ModifiedUTF7.encode(display) == wire)
        #expect(ModifiedUTF7.decode(wire) == display)
        #expect(IMAPMailboxName(wire: wire).displayName == display)
        #expect(IMAPMailboxName(display: display).wireName == wire)
    }

    static let malformed = [
        "&AOc",  // unterminated
        "&AO!-",  // not base64
        "&AGE-",  // "a" in a shift sequence: must be written as ASCII
        "&2D0-",  // a lone surrogate
        "tab\there",
    ]

    @Test("malformed wire names are refused, and shown as sent", arguments: malformed)
    func malformedNames(wire: String) {
        #expect(ModifiedUTF7.decode(wire) == nil)
        #expect(IMAPMailboxName(wire: wire).displayName == wire)
    }

    @Test("INBOX in any case; leaf names by delimiter")
    func names() {
        #expect(IMAPMailboxName(wire: "InBox").isInbox)
        #expect(IMAPMailboxName(wire: "Projects/2026").leafName(delimiter: "/") == "2026")
        #expect(IMAPMailboxName(wire: "Projects.2026").leafName(delimiter: nil) == "Projects.2026")
    }
}
