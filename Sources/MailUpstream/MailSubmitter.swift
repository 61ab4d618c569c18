/// Sending mail, in the gateway's words: SendMail, SmartReply and SmartForward end here. The
/// SMTP adapter implements it over submission; `InMemoryMailSubmitter` for unit tests.
public protocol MailSubmitter: Sendable {
    /// Submits one message. Throws `.refused` if the sender or every recipient is refused,
    /// `.messageTooLarge` if the server's SIZE limit is exceeded, `.unavailable` if the
    /// server cannot be reached; otherwise reports each recipient's fate.
    func submit(_ submission: Submission) async throws -> SubmissionResult
}

/// A message ready to go: the SMTP envelope and the bytes. The gateway derives the recipients
/// from To, Cc and Bcc and strips Bcc from the bytes before this point.
public struct Submission: Hashable, Sendable {
    /// MAIL FROM.
    public var sender: String
    /// RCPT TO, one per address.
    public var recipients: [String]
    /// The RFC 5322 message, CRLF line endings.
    public var message: [UInt8]

    public init(sender: String, recipients: [String], message: [UInt8]) {
        self.sender = sender
        self.recipients = recipients
        self.message = message
    }

    /// Whether the message has 8-bit bytes (BODY=8BITMIME) or the envelope non-ASCII addresses
    /// (SMTPUTF8).
    public var needs8Bit: Bool { message.contains { $0 >= 0x80 } }
    public var needsSMTPUTF8: Bool { ([sender] + recipients).contains { $0.utf8.contains { $0 >= 0x80 } } }
}

/// What the server did with each recipient.
public struct SubmissionResult: Hashable, Sendable {
    public struct Rejection: Hashable, Sendable {
        public var recipient: String
        /// The SMTP reply code, e.g. 550.
        public var code: Int
        public var text: String

        public init(recipient: String, code: Int, text: String) {
            self.recipient = recipient
            self.code = code
            self.text = text
        }
    }

    public var accepted: [String]
    public var rejected: [Rejection]

    public init(accepted: [String], rejected: [Rejection] = []) {
        self.accepted = accepted
        self.rejected = rejected
    }
}

extension UpstreamError.Code {
    /// Larger than the server's SIZE limit ([RFC 1870]).
    public static let messageTooLarge = UpstreamError.Code(name: "message too large")
}

/// A submission server in memory: records what was sent, refuses what it is told to, and
/// delivers to the INBOX of `InMemoryMailSession`s registered for local addresses.
public actor InMemoryMailSubmitter: MailSubmitter {
    /// The server's SIZE limit.
    public let maxSize: Int
    /// Everything accepted, in order.
    public private(set) var sent: [Submission] = []
    private var refusedRecipients: Set<String> = []
    private var mailboxes: [String: InMemoryMailSession] = [:]

    public init(maxSize: Int = 35 * 1024 * 1024) {
        self.maxSize = maxSize
    }

    /// Deliver mail for `address` into `session`'s INBOX.
    public func register(_ address: String, _ session: InMemoryMailSession) {
        mailboxes[address.lowercased()] = session
    }

    /// Refuse `address` with 550, as for an unknown user.
    public func refuse(_ address: String) {
        refusedRecipients.insert(address.lowercased())
    }

    public func submit(_ submission: Submission) async throws -> SubmissionResult {
        guard submission.message.count <= maxSize else {
            throw UpstreamError(.messageTooLarge, "\(submission.message.count) bytes, limit \(maxSize)")
        }
        var result = SubmissionResult(accepted: [])
        for recipient in submission.recipients {
            if refusedRecipients.contains(recipient.lowercased()) {
                result.rejected.append(.init(recipient: recipient, code: 550, text: "5.1.1 User unknown"))
            } else {
                result.accepted.append(recipient)
            }
        }
        guard !result.accepted.isEmpty else { throw UpstreamError(.refused, "every recipient was refused") }
        sent.append(submission)
        for recipient in result.accepted {
            if let session = mailboxes[recipient.lowercased()] {
                try await session.deliver(InMemoryMailSession.Message(raw: submission.message, envelope: Envelope()))
            }
        }
        return result
    }
}
