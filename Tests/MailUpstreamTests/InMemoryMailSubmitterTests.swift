import MailUpstream
import Testing

@Suite("InMemoryMailSubmitter")
struct InMemoryMailSubmitterTests {
    let message = Array("From: demo@airgate.test\r\nTo: other@airgate.test\r\nSubject: hi\r\n\r\nHi\r\n".utf8)

    @Test("accepts, refuses per recipient, and delivers to local mailboxes")
    func submit() async throws {
        let submitter = InMemoryMailSubmitter()
        let other = InMemoryMailSession()
        await submitter.register("other@airgate.test", other)
        await submitter.refuse("nobody@airgate.test")
        let result = try await submitter.submit(Submission(sender: "demo@airgate.test",
                                                           recipients: ["other@airgate.test", "nobody@airgate.test"],
                                                           message: message))
        #expect(result.accepted == ["other@airgate.test"])
        #expect(result.rejected == [.init(recipient: "nobody@airgate.test", code: 550, text: "5.1.1 User unknown")])
        #expect(try await other.status(IMAPMailboxName(wire: "INBOX")).messages == 1)
        #expect(await submitter.sent.count == 1)
    }

    @Test("too large, or nobody accepted, is an error and nothing is sent")
    func errors() async throws {
        let submitter = InMemoryMailSubmitter(maxSize: 10)
        await #expect { try await submitter.submit(Submission(sender: "a@x.test", recipients: ["b@x.test"], message: message)) }
            throws: { ($0 as? UpstreamError)?.code == .messageTooLarge }
        let strict = InMemoryMailSubmitter()
        await strict.refuse("b@x.test")
        await #expect { try await strict.submit(Submission(sender: "a@x.test", recipients: ["b@x.test"], message: message)) }
            throws: { ($0 as? UpstreamError)?.code == .refused }
        #expect(await strict.sent.isEmpty)
    }

    @Test("8-bit content and non-ASCII addresses are recognised")
    func eightBit() {
        #expect(!Submission(sender: "a@x.test", recipients: ["b@x.test"], message: message).needs8Bit)
        #expect(Submission(sender: "a@x.test", recipients: ["b@x.test"], message: Array("Grüße".utf8)).needs8Bit)
        #expect(Submission(sender: "a@x.test", recipients: ["jürgen@x.test"], message: []).needsSMTPUTF8)
    }
}
