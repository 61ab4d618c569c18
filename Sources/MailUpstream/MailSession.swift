/// One account's view of its mail server, in the gateway's words. The IMAP adapter implements
/// it over a connection pool; `InMemoryMailSession` implements it for unit tests. Nothing here
/// names an IMAP library type.
///
/// Every call that names a mailbox takes its wire name; UIDs are only meaningful together with
/// the mailbox's UIDVALIDITY, which `status` reports.
public protocol MailSession: Sendable {
    /// The server's capabilities (`IMAP4rev1`, `CONDSTORE`, `QRESYNC`, `IDLE`, …), upper-cased.
    func capabilities() async throws -> Set<String>

    /// Every mailbox, with its special use and hierarchy ([RFC 3501] LIST, [RFC 6154]).
    func listMailboxes() async throws -> [MailboxListing]

    /// Where the user's own, other users' and shared mailboxes live ([RFC 2342] NAMESPACE); a
    /// server without NAMESPACE has one personal namespace with an empty prefix.
    func namespaces() async throws -> MailNamespaces

    /// A mailbox's state and counts without selecting it ([RFC 3501] STATUS, [RFC 7162] 3.1.3).
    func status(_ mailbox: IMAPMailboxName) async throws -> MailboxStatus

    /// Everything that changed since `known`, or why the mailbox must be read afresh
    /// (`ChangeTracking` states the rules). A server or mailbox without CONDSTORE answers
    /// `.fullResync(.noModSeq, …)`: the caller then compares `listing` with the listing it kept
    /// (`ChangeTracking.changes(from:to:)`), the slower mode.
    func changes(in mailbox: IMAPMailboxName, since known: MailboxState) async throws -> ChangeTracking.Outcome

    /// Every message's UID and flags, and the state they were read at: the start of tracking,
    /// and the answer to a full resync.
    func listing(of mailbox: IMAPMailboxName) async throws -> (MailboxState, [MessageFlags])

    /// What a Sync needs to describe messages (envelope, flags, size, date, MIME structure), for
    /// many at once.
    /// UIDs that no longer exist are left out.
    func summaries(in mailbox: IMAPMailboxName, uids: UIDSet) async throws -> [MessageSummary]

    /// Bytes of a message: the whole of it (`section` nil) or one MIME part (`1.2`, `TEXT`,
    /// `HEADER`), optionally only `range`. Never marks the message read.
    func fetch(in mailbox: IMAPMailboxName, uid: UInt32, section: String?, range: Range<Int>?) async throws -> [UInt8]

    /// The same bytes as `fetch`, streamed: for attachments and whole messages too large to
    /// hold at once.
    func fetchChunks(in mailbox: IMAPMailboxName, uid: UInt32, section: String?, range: Range<Int>?) -> ByteChunks

    /// Parts of many messages at once (a Sync batch: each message's chosen body part, cut at
    /// the client's truncation size). Requests naming messages that no longer exist are left
    /// out of the answer.
    func fetchParts(in mailbox: IMAPMailboxName, _ requests: [PartRequest]) async throws -> [PartRequest: [UInt8]]

    /// UIDs of the messages matching `query` ([RFC 3501] 6.4.4), ascending.
    func search(in mailbox: IMAPMailboxName, _ query: MailSearch) async throws -> [UInt32]

    /// Adds and removes flags or keywords on messages. Returns each message's flags (and
    /// mod-sequence, 0 without CONDSTORE) as the server reported them in answer to the change
    /// itself: another client's change a moment later is not in them. A message the server did
    /// not report on (gone, or a server that does not answer STORE with FETCH) is left out.
    @discardableResult
    func setFlags(in mailbox: IMAPMailboxName, uids: UIDSet, add: [String], remove: [String]) async throws -> [MessageFlags]

    /// Moves messages; returns each moved message's new UID in `target` (UIDPLUS).
    func move(from mailbox: IMAPMailboxName, uids: UIDSet, to target: IMAPMailboxName) async throws -> [UInt32: UInt32]

    /// Removes messages for good (`\Deleted` and UID EXPUNGE of just these UIDs).
    func expunge(in mailbox: IMAPMailboxName, uids: UIDSet) async throws

    /// Stores a message; returns its UID (UIDPLUS) if the server tells it.
    func append(to mailbox: IMAPMailboxName, message: [UInt8], flags: [String], internalDate: Int64?) async throws
        -> UInt32?

    /// Sets one of the user's server annotations, or removes it with nil ([RFC 5464] 4.3,
    /// SETMETADATA on ""). The gateway names the account this way in Dovecot's push
    /// notifications. A server without METADATA refuses (`UpstreamError.refused`).
    func setServerMetadata(_ entry: String, value: String?) async throws

    func createMailbox(_ mailbox: IMAPMailboxName) async throws
    func renameMailbox(_ mailbox: IMAPMailboxName, to newName: IMAPMailboxName) async throws
    func deleteMailbox(_ mailbox: IMAPMailboxName) async throws
}

/// A mailbox as LIST reports it.
public struct MailboxListing: Hashable, Sendable {
    public var name: IMAPMailboxName
    /// The hierarchy delimiter; nil for a flat namespace.
    public var delimiter: Character?
    public var specialUse: SpecialUse?
    /// False for `\Noselect` / `\NonExistent` placeholders that only hold children.
    public var isSelectable: Bool

    public init(name: IMAPMailboxName, delimiter: Character?, specialUse: SpecialUse?, isSelectable: Bool = true) {
        self.name = name
        self.delimiter = delimiter
        self.specialUse = specialUse
        self.isSelectable = isSelectable
    }
}

/// Special-use mailboxes ([RFC 6154]; INBOX by name).
public enum SpecialUse: String, Hashable, Sendable, CaseIterable {
    case inbox, drafts, sent, trash, junk, archive, all, flagged

    /// From a LIST attribute such as `\Sent` (case-insensitive); nil for others.
    public init?(attribute: String) {
        let name = attribute.hasPrefix("\\") ? attribute.dropFirst() : Substring(attribute)
        guard let use = SpecialUse(rawValue: name.lowercased()), use != .inbox else { return nil }
        self = use
    }
}

/// STATUS of a mailbox.
public struct MailboxStatus: Hashable, Sendable {
    public var state: MailboxState
    public var messages: Int
    public var unseen: Int

    public init(state: MailboxState, messages: Int, unseen: Int) {
        self.state = state
        self.messages = messages
        self.unseen = unseen
    }
}

/// What a Sync item is built from.
public struct MessageSummary: Hashable, Sendable {
    public var uid: UInt32
    public var flags: [String]
    public var modSeq: UInt64
    /// INTERNALDATE, milliseconds since 1970.
    public var internalDate: Int64
    /// RFC822.SIZE.
    public var size: Int
    public var envelope: Envelope
    /// The MIME structure (BODYSTRUCTURE), when the source knows it.
    public var structure: MIMEPart?
    /// Message-IDs from References, oldest first (threads, EAS ConversationId).
    public var references: [String]
    /// The values of `MessageSummary.extraHeaderNames` present, names lower-cased, encoded
    /// words decoded.
    public var headers: [String: String]

    /// Headers fetched with every summary besides the envelope: what EAS shows as Importance,
    /// ThreadTopic, ContentClass and what marks receipts and meeting mail.
    public static let extraHeaderNames = ["References", "Importance", "X-Priority", "Priority", "Thread-Topic",
                                          "Thread-Index", "Content-Class", "Disposition-Notification-To"]

    public init(uid: UInt32, flags: [String], modSeq: UInt64, internalDate: Int64, size: Int, envelope: Envelope,
                structure: MIMEPart? = nil, references: [String] = [], headers: [String: String] = [:]) {
        self.uid = uid
        self.flags = flags.sorted()
        self.modSeq = modSeq
        self.internalDate = internalDate
        self.size = size
        self.envelope = envelope
        self.structure = structure
        self.references = references
        self.headers = headers
    }
}

/// The ENVELOPE of a message ([RFC 3501] 7.4.2), headers decoded.
public struct Envelope: Hashable, Sendable {
    public var date: String?
    public var subject: String?
    public var from: [MailAddress]
    public var sender: [MailAddress]
    public var replyTo: [MailAddress]
    public var to: [MailAddress]
    public var cc: [MailAddress]
    public var bcc: [MailAddress]
    public var inReplyTo: String?
    public var messageId: String?

    public init(date: String? = nil, subject: String? = nil, from: [MailAddress] = [], sender: [MailAddress] = [],
                replyTo: [MailAddress] = [], to: [MailAddress] = [], cc: [MailAddress] = [], bcc: [MailAddress] = [],
                inReplyTo: String? = nil, messageId: String? = nil) {
        self.date = date
        self.subject = subject
        self.from = from
        self.sender = sender
        self.replyTo = replyTo
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.inReplyTo = inReplyTo
        self.messageId = messageId
    }
}

/// A mailbox address with its display name.
public struct MailAddress: Hashable, Sendable {
    public var name: String?
    /// `local@domain`.
    public var address: String

    public init(name: String? = nil, address: String) {
        self.name = name
        self.address = address
    }
}

/// Why an upstream operation failed.
public struct UpstreamError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// The server cannot be reached or is not answering: HTTP 503 with Retry-After.
        public static let unavailable = Code(name: "upstream unavailable")
        /// TLS could not be set up or the server's certificate is not trusted: an operator must
        /// act. HTTP 503 like `.unavailable`, logged as a configuration problem.
        public static let tlsFailed = Code(name: "TLS failed")
        /// Wrong credentials: HTTP 401.
        public static let authenticationFailed = Code(name: "authentication failed")
        public static let mailboxNotFound = Code(name: "mailbox not found")
        public static let mailboxExists = Code(name: "mailbox already exists")
        public static let messageNotFound = Code(name: "message not found")
        /// The server refused the command (NO), e.g. over quota.
        public static let refused = Code(name: "refused by the server")
        /// The server said something this client cannot follow; the connection is dropped.
        public static let protocolError = Code(name: "protocol error")
    }

    public var code: Code
    public var message: String
    /// For `.unavailable`: when trying again makes sense (the HTTP layer's Retry-After).
    public var retryAfter: Duration?

    public init(_ code: Code, _ message: String = "", retryAfter: Duration? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { message.isEmpty ? code.description : "\(code): \(message)" }
}

/// Being told that a mailbox changed, without asking again and again: IMAP IDLE
/// ([RFC 2177]) for the tracker. One wait at a time per watcher.
public protocol MailboxWatcher: Sendable {
    /// Returns `.activity` as soon as the server says anything about `mailbox` (new message,
    /// expunge, flag change; the caller asks `changes(in:since:)` what it was), `.timedOut`
    /// after `timeout`. Task cancellation ends the wait cleanly and throws `CancellationError`.
    ///
    /// `whenListening` runs once the server reports changes (IDLE is on), before the wait:
    /// the place to look for changes made before that moment, which the wait cannot report.
    func waitForActivity(in mailbox: IMAPMailboxName, timeout: Duration,
                         whenListening: @Sendable () async -> Void) async throws -> MailboxActivity

    /// Ends any wait and lets go of the server connection.
    func stop() async
}

extension MailboxWatcher {
    /// A wait with nothing to do once listening.
    public func waitForActivity(in mailbox: IMAPMailboxName, timeout: Duration) async throws -> MailboxActivity {
        try await waitForActivity(in: mailbox, timeout: timeout, whenListening: {})
    }
}

public enum MailboxActivity: Hashable, Sendable {
    case activity
    case timedOut
}

/// A message or part delivered in chunks as the server sends them, so that a large attachment
/// is never held whole. The producer waits while the consumer is `capacity` chunks behind.
public struct ByteChunks: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    private let stream: AsyncThrowingStream<[UInt8], any Error>
    private let consumed: @Sendable () -> Void

    /// `consumed` is called after each chunk the consumer takes (the producer's back-pressure).
    public init(_ stream: AsyncThrowingStream<[UInt8], any Error>, consumed: @escaping @Sendable () -> Void = {}) {
        self.stream = stream
        self.consumed = consumed
    }

    /// All of `bytes`, in chunks of `chunkSize`.
    public init(bytes: [UInt8], chunkSize: Int = 64 * 1024) {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        var offset = 0
        while offset < bytes.count {
            let end = Swift.min(bytes.count, offset + chunkSize)
            continuation.yield(Array(bytes[offset..<end]))
            offset = end
        }
        continuation.finish()
        self.init(stream)
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), consumed: consumed)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
        let consumed: @Sendable () -> Void

        public mutating func next() async throws -> [UInt8]? {
            let chunk = try await base.next()
            if chunk != nil { consumed() }
            return chunk
        }
    }
}

/// One part of one message, optionally a byte range of it.
public struct PartRequest: Hashable, Sendable {
    public var uid: UInt32
    /// As for `MailSession.fetch`: nil for the whole message, `1.2`, `TEXT`, `HEADER`.
    public var section: String?
    public var range: Range<Int>?

    public init(uid: UInt32, section: String?, range: Range<Int>? = nil) {
        self.uid = uid
        self.section = section
        self.range = range
    }
}

/// What to look for; every criterion given must match (AND). Text is matched as the server
/// does (Dovecot: case-insensitive substring, or its full-text index when configured).
public struct MailSearch: Hashable, Sendable {
    /// Anywhere in the headers or body.
    public var text: String?
    public var from: String?
    public var to: String?
    public var subject: String?
    /// INTERNALDATE on or after this day (milliseconds since 1970; IMAP compares whole days).
    public var since: Int64?
    /// INTERNALDATE before this day.
    public var before: Int64?
    /// Only messages without `\Seen`.
    public var unseenOnly: Bool
    /// Only messages with these UIDs (`UID` search key).
    public var uids: UIDSet?

    public init(text: String? = nil, from: String? = nil, to: String? = nil, subject: String? = nil, since: Int64? = nil,
                before: Int64? = nil, unseenOnly: Bool = false, uids: UIDSet? = nil) {
        self.text = text.map(Self.oneLine)
        self.from = from.map(Self.oneLine)
        self.to = to.map(Self.oneLine)
        self.subject = subject.map(Self.oneLine)
        self.since = since
        self.before = before
        self.unseenOnly = unseenOnly
        self.uids = uids
    }

    /// Longest string criterion accepted; longer ones are refused rather than sent.
    public static let maxTermBytes = 1024

    /// A term is one line: what a user pasted with line breaks (or NUL) is searched for with
    /// spaces in their place.
    static func oneLine(_ term: String) -> String {
        String(String.UnicodeScalarView(term.unicodeScalars.map { $0 == "\r" || $0 == "\n" || $0 == "\0" ? " " : $0 }))
    }
}

/// The server's namespaces ([RFC 2342]): the gateway shows the personal ones as the folder
/// tree and leaves the others out.
public struct MailNamespaces: Hashable, Sendable {
    public struct Namespace: Hashable, Sendable {
        /// Wire-form prefix (`""`, `INBOX.`, `Other Users/`).
        public var prefix: String
        public var delimiter: Character?

        public init(prefix: String, delimiter: Character?) {
            self.prefix = prefix
            self.delimiter = delimiter
        }
    }

    public var personal: [Namespace]
    public var otherUsers: [Namespace]
    public var shared: [Namespace]

    public init(personal: [Namespace], otherUsers: [Namespace] = [], shared: [Namespace] = []) {
        self.personal = personal
        self.otherUsers = otherUsers
        self.shared = shared
    }

    /// Whether a mailbox belongs to another user's or a shared namespace.
    public func isForeign(_ name: IMAPMailboxName) -> Bool {
        let wire = name.wireName
        return (otherUsers + shared).contains { !$0.prefix.isEmpty && wire.hasPrefix($0.prefix) }
    }
}
