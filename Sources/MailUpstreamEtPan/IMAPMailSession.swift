import MailUpstream

/// `MailSession` over IMAP through libetpan: one account, its connection pool.
public struct IMAPMailSession: MailSession {
    public let pool: IMAPConnectionPool

    public init(pool: IMAPConnectionPool) {
        self.pool = pool
    }

    public func capabilities() async throws -> Set<String> {
        try await pool.withConnection { $0.capabilities }
    }

    public func namespaces() async throws -> MailNamespaces {
        try await pool.withConnection { try $0.namespaces() }
    }

    public func listMailboxes() async throws -> [MailboxListing] {
        try await pool.withConnection { try $0.listMailboxes() }
    }

    public func status(_ mailbox: IMAPMailboxName) async throws -> MailboxStatus {
        try await pool.withConnection { try $0.status(mailbox.wireName) }
    }

    public func changes(in mailbox: IMAPMailboxName, since known: MailboxState) async throws -> ChangeTracking.Outcome {
        try await pool.withConnection { try $0.changes(in: mailbox.wireName, since: known) }
    }

    public func listing(of mailbox: IMAPMailboxName) async throws -> (MailboxState, [MessageFlags]) {
        let result = try await pool.withConnection { connection in
            let (state, listing) = try connection.listing(of: mailbox.wireName)
            return Listing(state: state, messages: listing)
        }
        return (result.state, result.messages)
    }

    public func summaries(in mailbox: IMAPMailboxName, uids: UIDSet) async throws -> [MessageSummary] {
        try await pool.withConnection { connection in
            try connection.select(mailbox.wireName, forWriting: false)
            let items: FetchItems = [.flags, .modSeq, .internalDate, .size, .envelope, .bodyStructure, .extraHeaders]
            return try connection.fetch(uids, items).map { message in
                let header = HeaderBlock(message.section ?? [])
                return MessageSummary(uid: message.uid, flags: message.flags, modSeq: message.modSeq,
                                      internalDate: message.internalDate, size: message.size,
                                      envelope: message.envelope ?? Envelope(), structure: message.structure,
                                      references: header.references, headers: header.fields)
            }
        }
    }

    public func fetch(in mailbox: IMAPMailboxName, uid: UInt32, section: String?, range: Range<Int>?) async throws -> [UInt8] {
        try await pool.withConnection { connection in
            try connection.select(mailbox.wireName, forWriting: false)
            return try connection.fetchSection(uid: uid, section: section, range: range)
        }
    }

    public func fetchParts(in mailbox: IMAPMailboxName, _ requests: [PartRequest]) async throws -> [PartRequest: [UInt8]] {
        guard !requests.isEmpty else { return [:] }
        return try await pool.withConnection { connection in
            try connection.select(mailbox.wireName, forWriting: false)
            return try connection.fetchParts(requests)
        }
    }

    public func search(in mailbox: IMAPMailboxName, _ query: MailSearch) async throws -> [UInt32] {
        try await pool.withConnection { connection in
            try connection.select(mailbox.wireName, forWriting: false)
            return try connection.search(query)
        }
    }

    /// Streams through a connection lent for the whole transfer; at most 8 chunks wait for the
    /// consumer. A consumer that stops iterating ends the transfer (and that connection).
    public func fetchChunks(in mailbox: IMAPMailboxName, uid: UInt32, section: String?, range: Range<Int>?) -> ByteChunks {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        let gate = ChunkGate(capacity: 8)
        let pool = pool
        let task = Task {
            do {
                _ = try await pool.withConnection(idempotent: false) { connection in
                    try connection.select(mailbox.wireName, forWriting: false)
                    return try connection.streamSection(uid: uid, section: section, range: range) { chunk in
                        try gate.acquire(timeout: connection.endpoint.timeout)
                        continuation.yield(chunk)
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { termination in
            if case .cancelled = termination {
                gate.cancel()
                task.cancel()
            }
        }
        return ByteChunks(stream, consumed: { gate.release() })
    }

    @discardableResult
    public func setFlags(in mailbox: IMAPMailboxName, uids: UIDSet, add: [String], remove: [String]) async throws
        -> [MessageFlags]
    {
        try await pool.withConnection { connection in
            try connection.select(mailbox.wireName, forWriting: true)
            return try connection.setFlags(uids, add: add, remove: remove)
        }
    }

    public func move(from mailbox: IMAPMailboxName, uids: UIDSet, to target: IMAPMailboxName) async throws -> [UInt32: UInt32] {
        try await pool.withConnection(idempotent: false) { connection in
            try connection.select(mailbox.wireName, forWriting: true)
            return try connection.move(uids, to: target.wireName)
        }
    }

    public func expunge(in mailbox: IMAPMailboxName, uids: UIDSet) async throws {
        try await pool.withConnection { connection in
            try connection.select(mailbox.wireName, forWriting: true)
            try connection.expunge(uids)
        }
    }

    public func append(to mailbox: IMAPMailboxName, message: [UInt8], flags: [String], internalDate: Int64?) async throws
        -> UInt32?
    {
        try await pool.withConnection(idempotent: false) {
            try $0.append(to: mailbox.wireName, message: message, flags: flags, internalDate: internalDate)
        }
    }

    public func setServerMetadata(_ entry: String, value: String?) async throws {
        try await pool.withConnection { try $0.setServerMetadata(entry, value: value) }
    }

    public func createMailbox(_ mailbox: IMAPMailboxName) async throws {
        try await pool.withConnection(idempotent: false) { try $0.createMailbox(mailbox.wireName) }
    }

    public func renameMailbox(_ mailbox: IMAPMailboxName, to newName: IMAPMailboxName) async throws {
        try await pool.withConnection(idempotent: false) { try $0.renameMailbox(mailbox.wireName, to: newName.wireName) }
    }

    public func deleteMailbox(_ mailbox: IMAPMailboxName) async throws {
        try await pool.withConnection(idempotent: false) { try $0.deleteMailbox(mailbox.wireName) }
    }
}

private struct Listing: Sendable {
    var state: MailboxState
    var messages: [MessageFlags]
}
