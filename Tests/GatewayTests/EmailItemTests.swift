import Testing

@testable import Gateway

/// What an Add's ApplicationData derives from a message's headers.
@Suite struct EmailItemTests {
    @Test func threadTopicDropsReplyAndForwardPrefixesInAnyCase() {
        #expect(EmailItem.threadTopic("Re: Fwd: AW: Lunch") == "Lunch")
        #expect(EmailItem.threadTopic("RE:FW:  Grüße aus Köln") == "Grüße aus Köln")
        #expect(EmailItem.threadTopic("sv: vs: wg: fW: x") == "x")
        #expect(EmailItem.threadTopic("Reply needed") == "Reply needed")
        #expect(EmailItem.threadTopic("Re") == "Re")
        #expect(EmailItem.threadTopic("Re:") == "")
        #expect(EmailItem.threadTopic("Ré: accents are not prefixes") == "Ré: accents are not prefixes")
        #expect(EmailItem.threadTopic(nil) == "")
    }
}
