internal import CEtPan
import MailUpstream

#if canImport(Glibc)
import Glibc
#endif

/// The FETCH items a caller can ask for.
struct FetchItems: OptionSet, Sendable {
    let rawValue: Int
    static let flags = FetchItems(rawValue: 1)
    static let modSeq = FetchItems(rawValue: 2)
    static let internalDate = FetchItems(rawValue: 4)
    static let size = FetchItems(rawValue: 8)
    static let envelope = FetchItems(rawValue: 16)
    static let bodyStructure = FetchItems(rawValue: 32)
    /// `BODY.PEEK[HEADER.FIELDS (…)]` of `MessageSummary.extraHeaderNames`.
    static let extraHeaders = FetchItems(rawValue: 64)
}

extension IMAPConnection {
    // MARK: Reading

    /// Everything that changed in `mailbox` since `known` ([RFC 7162] 3.2.5.2 with QRESYNC):
    /// STATUS first, so an unchanged mailbox costs one command and no selection.
    func changes(in mailbox: String, since known: MailboxState) throws -> ChangeTracking.Outcome {
        if selected?.name == mailbox {
            // Dovecot answers STATUS on the selected mailbox from this session's view, which
            // only moves on when the session syncs: NOOP does that.
            try check(mailimap_noop(rawSession), "NOOP")
        }
        let current = try status(mailbox).state
        // Without QRESYNC, expunges cannot be asked for: the caller compares listings.
        guard qresyncEnabled, current.highestModSeq != 0 else { return .fullResync(.noModSeq, current) }
        guard current.uidValidity == known.uidValidity, current.highestModSeq > known.highestModSeq else {
            return ChangeTracking.changes(
                since: known, report: ChangedSinceReport(state: current, changed: [], vanished: UIDSet()))
        }
        try select(mailbox, forWriting: false)
        let everything = UIDSet([1...UInt32.max]).etpanSet()
        defer { mailimap_set_free(everything) }
        let items = fetchType([.flags, .modSeq])
        defer { mailimap_fetch_type_free(items) }
        var result: UnsafeMutablePointer<clist>?
        var vanished: UnsafeMutablePointer<mailimap_qresync_vanished>?
        try check(mailimap_uid_fetch_qresync(rawSession, everything, items, known.highestModSeq, &result, &vanished),
                  "UID FETCH CHANGEDSINCE \(mailbox)")
        defer {
            if let result { mailimap_fetch_list_free(result) }
            if let vanished { mailimap_qresync_vanished_free(vanished) }
        }
        var changed: [MessageFlags] = []
        var state = current
        forEach(in: result, as: mailimap_msg_att.self) { att in
            let message = FetchedMessage(att)
            guard message.uid != 0 else { return }
            changed.append(MessageFlags(uid: message.uid, flags: message.flags, modSeq: message.modSeq))
            // A change landing between STATUS and FETCH is reported now; remember it as seen.
            state.highestModSeq = max(state.highestModSeq, message.modSeq)
            if message.uid >= state.uidNext { state.uidNext = message.uid + 1 }
        }
        let removed = UIDSet(etpan: vanished?.pointee.qr_known_uids, star: max(current.uidNext, 1) - 1)
        return ChangeTracking.changes(since: known, report: ChangedSinceReport(state: state, changed: changed, vanished: removed))
    }

    /// Every message's UID and flags (`UID FETCH 1:* (FLAGS)`), and the state read with them.
    func listing(of mailbox: String) throws -> (MailboxState, [MessageFlags]) {
        let selection = try select(mailbox, forWriting: false, force: true)!
        guard selection.exists > 0 else { return (selection.state, []) }
        var state = selection.state
        let messages = try fetch(UIDSet([1...UInt32.max]), [.flags, .modSeq])
        var listing: [MessageFlags] = []
        listing.reserveCapacity(messages.count)
        for message in messages where message.uid != 0 {
            listing.append(MessageFlags(uid: message.uid, flags: message.flags, modSeq: message.modSeq))
            state.highestModSeq = max(state.highestModSeq, message.modSeq)
            if message.uid >= state.uidNext { state.uidNext = message.uid + 1 }
        }
        return (state, listing)
    }

    /// `UID FETCH uids (UID …)` in the selected mailbox, the answer read by the gateway's own
    /// `FetchResponseParser`: summaries and listings are fetched for every message a device
    /// syncs, and libetpan's general parser was most of their cost.
    func fetch(_ uids: UIDSet, _ items: FetchItems) throws -> [FetchedMessage] {
        guard !uids.isEmpty else { return [] }
        var messages: [FetchedMessage] = []
        var positions: [UInt32: Int] = [:]
        try uidFetch(uids, fetchItemsText(items)) { message in
            // Another session's flag change can come as an unsolicited FETCH of a message
            // asked for (with QRESYNC it carries the UID): one message, two responses.
            if let position = positions[message.uid] {
                messages[position].merge(message)
            } else {
                positions[message.uid] = messages.count
                messages.append(message)
            }
        }
        return messages
    }

    /// `UID FETCH uids (items)` read by `FetchResponseParser`: each response about a UID of
    /// `uids` goes to `each` (other sessions' changes to other messages are left out).
    private func uidFetch(_ uids: UIDSet, _ items: String, maxResponseBytes: Int = maxRawResponseBytes,
                          _ each: (FetchedMessage) -> Void) throws {
        try runRaw("UID FETCH \(uids) (\(items))", maxResponseBytes: maxResponseBytes) { response in
            let message: FetchedMessage?
            do {
                message = try FetchResponseParser.message(in: response)
            } catch {
                throw UpstreamError(.protocolError, "UID FETCH: cannot read \(Self.excerpt(Array(response))): \(error)")
            }
            if let message, message.uid != 0, uids.contains(message.uid) { each(message) }
        }
    }

    /// The items of `fetch` as IMAP writes them.
    func fetchItemsText(_ items: FetchItems) -> String {
        var text = "UID"
        if items.contains(.flags) { text += " FLAGS" }
        if items.contains(.modSeq), condstoreEnabled { text += " MODSEQ" }
        if items.contains(.internalDate) { text += " INTERNALDATE" }
        if items.contains(.size) { text += " RFC822.SIZE" }
        if items.contains(.envelope) { text += " ENVELOPE" }
        if items.contains(.bodyStructure) { text += " BODYSTRUCTURE" }
        if items.contains(.extraHeaders) {
            text += " BODY.PEEK[HEADER.FIELDS (" + MessageSummary.extraHeaderNames.joined(separator: " ") + ")]"
        }
        return text
    }

    /// `fetch` through libetpan's parser: what the tests compare `FetchResponseParser` with.
    func fetchThroughEtPan(_ uids: UIDSet, _ items: FetchItems) throws -> [FetchedMessage] {
        guard !uids.isEmpty else { return [] }
        let set = uids.etpanSet()
        defer { mailimap_set_free(set) }
        let type = fetchType(items)
        defer { mailimap_fetch_type_free(type) }
        var result: UnsafeMutablePointer<clist>?
        try check(mailimap_uid_fetch(rawSession, set, type, &result), "UID FETCH")
        defer { if let result { mailimap_fetch_list_free(result) } }
        var messages: [FetchedMessage] = []
        forEach(in: result, as: mailimap_msg_att.self) { att in
            let message = FetchedMessage(att)
            // Unsolicited FETCHes (another session's flag change) carry no UID we asked for.
            if message.uid != 0, uids.contains(message.uid) { messages.append(message) }
        }
        return messages
    }

    /// `UID FETCH uid BODY.PEEK[section]<start.length>` ([RFC 3501] 6.4.5): never sets \Seen.
    /// With `streamed`, a body handler installed by the caller receives the bytes instead.
    func fetchSection(uid: UInt32, section: String?, range: Range<Int>?, streamed: Bool = false) throws -> [UInt8] {
        let uids = UIDSet([uid...uid])
        // The body handler that streams is libetpan's.
        let found = streamed ? try fetchSectionOfManyThroughEtPan(uids, section: section, range: range)
            : try fetchSectionOfMany(uids, section: section, range: range)
        guard let bytes = found[uid] else { throw UpstreamError(.messageNotFound, "UID \(uid) (section \(section ?? "whole"))") }
        return streamed ? [] : bytes
    }

    /// The same section of several messages in one command, read by `FetchResponseParser`;
    /// absent messages are left out.
    func fetchSectionOfMany(_ uids: UIDSet, section: String?, range: Range<Int>?) throws -> [UInt32: [UInt8]] {
        guard !uids.isEmpty else { return [:] }
        let parsed = try SectionSpec(section)
        try Self.checkFetchable(range)
        var item = "BODY.PEEK[\(parsed.text)]"
        if let range { item += "<\(range.lowerBound).\(range.count)>" }
        // A whole section is as long as the message makes it (libetpan set no bound either).
        let longest = range.map { max(Self.maxRawResponseBytes, $0.count + 65536) } ?? Int.max
        var found: [UInt32: [UInt8]] = [:]
        try uidFetch(uids, "UID " + item, maxResponseBytes: longest) { message in
            if let bytes = message.section { found[message.uid] = bytes }
        }
        return found
    }

    private static func checkFetchable(_ range: Range<Int>?) throws {
        guard let range else { return }
        guard range.lowerBound >= 0, range.count > 0, range.upperBound <= Int(UInt32.max) else {
            throw UpstreamError(.refused, "byte range \(range) cannot be asked for")
        }
    }

    /// `fetchSectionOfMany` through libetpan, whose body handler `streamSection` installs.
    func fetchSectionOfManyThroughEtPan(_ uids: UIDSet, section: String?, range: Range<Int>?) throws -> [UInt32: [UInt8]] {
        guard !uids.isEmpty else { return [:] }
        let parsed = try SectionSpec(section)
        try Self.checkFetchable(range)
        let set = uids.etpanSet()
        defer { mailimap_set_free(set) }
        let type = mailimap_fetch_type_new_fetch_att_list_empty()!
        defer { mailimap_fetch_type_free(type) }
        mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_uid())
        let etpanSection = parsed.etpanSection()
        if let range {
            mailimap_fetch_type_new_fetch_att_list_add(
                type, mailimap_fetch_att_new_body_peek_section_partial(etpanSection, UInt32(range.lowerBound), UInt32(range.count)))
        } else {
            mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_body_peek_section(etpanSection))
        }
        var result: UnsafeMutablePointer<clist>?
        try check(mailimap_uid_fetch(rawSession, set, type, &result), "UID FETCH BODY.PEEK")
        defer { if let result { mailimap_fetch_list_free(result) } }
        var found: [UInt32: [UInt8]] = [:]
        forEach(in: result, as: mailimap_msg_att.self) { att in
            let message = FetchedMessage(att)
            if message.uid != 0, uids.contains(message.uid), let bytes = message.section { found[message.uid] = bytes }
        }
        return found
    }

    func fetchType(_ items: FetchItems) -> UnsafeMutablePointer<mailimap_fetch_type> {
        let type = mailimap_fetch_type_new_fetch_att_list_empty()!
        mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_uid())
        if items.contains(.flags) { mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_flags()) }
        if items.contains(.modSeq), condstoreEnabled {
            mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_modseq())
        }
        if items.contains(.internalDate) {
            mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_internaldate())
        }
        if items.contains(.size) { mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_rfc822_size()) }
        if items.contains(.envelope) { mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_envelope()) }
        if items.contains(.bodyStructure) {
            mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_bodystructure())
        }
        if items.contains(.extraHeaders) {
            let names = clist_new()!
            for name in MessageSummary.extraHeaderNames { clist_insert_after(names, names.pointee.last, cString(name)) }
            let section = mailimap_section_new_header_fields(mailimap_header_list_new(names))
            mailimap_fetch_type_new_fetch_att_list_add(type, mailimap_fetch_att_new_body_peek_section(section))
        }
        return type
    }

    // MARK: Writing

    /// `UID STORE uids +FLAGS (…)` and `-FLAGS (…)`, not silent: the server answers each with
    /// the messages' FETCH (FLAGS, and MODSEQ once CONDSTORE is enabled, [RFC 7162] 3.1.4), the
    /// state its change left, which is returned (the last report per message).
    @discardableResult
    func setFlags(_ uids: UIDSet, add: [String], remove: [String]) throws -> [MessageFlags] {
        guard !uids.isEmpty else { return [] }
        var reported: [UInt32: MessageFlags] = [:]
        for (flags, adding) in [(add, true), (remove, false)] where !flags.isEmpty {
            let list = try etpanFlagList(flags)
            let store = adding ? mailimap_store_att_flags_new_add_flags(list) : mailimap_store_att_flags_new_remove_flags(list)
            defer { mailimap_store_att_flags_free(store) }
            let set = uids.etpanSet()
            defer { mailimap_set_free(set) }
            try check(mailimap_uid_store(rawSession, set, store), "UID STORE")
            // libetpan collects a command's untagged FETCHes here until the next command.
            forEach(in: rawSession.pointee.imap_response_info?.pointee.rsp_fetch_list, as: mailimap_msg_att.self) { att in
                let message = FetchedMessage(att)
                guard message.uid != 0, uids.contains(message.uid) else { return }
                reported[message.uid] = MessageFlags(uid: message.uid, flags: message.flags, modSeq: message.modSeq)
            }
        }
        return reported.keys.sorted().map { reported[$0]! }
    }

    /// UID MOVE ([RFC 6851]) with the new UIDs from COPYUID ([RFC 4315]); without MOVE, UID COPY
    /// then `\Deleted` and UID EXPUNGE of just those UIDs.
    func move(_ uids: UIDSet, to target: String) throws -> [UInt32: UInt32] {
        guard !uids.isEmpty else { return [:] }
        let set = uids.etpanSet()
        defer { mailimap_set_free(set) }
        var validity: UInt32 = 0
        var source: UnsafeMutablePointer<mailimap_set>?
        var destination: UnsafeMutablePointer<mailimap_set>?
        defer {
            if let source { mailimap_set_free(source) }
            if let destination { mailimap_set_free(destination) }
        }
        let hasUIDPlus = capabilities.contains("UIDPLUS")
        if capabilities.contains("MOVE") {
            if hasUIDPlus {
                try check(mailimap_uidplus_uid_move(rawSession, set, target, &validity, &source, &destination), "UID MOVE")
            } else {
                try check(mailimap_uid_move(rawSession, set, target), "UID MOVE")
            }
        } else {
            guard hasUIDPlus else {
                throw UpstreamError(.refused, "the server has neither MOVE nor UIDPLUS; moving would expunge other messages")
            }
            try check(mailimap_uidplus_uid_copy(rawSession, set, target, &validity, &source, &destination), "UID COPY")
            try expunge(uids)
        }
        let from = UIDSet(etpan: source).uids
        let to = UIDSet(etpan: destination).uids
        guard from.count == to.count else { return [:] }
        return Dictionary(zip(from, to), uniquingKeysWith: { first, _ in first })
    }

    /// `\Deleted` and UID EXPUNGE of just these UIDs ([RFC 4315] 2.1).
    func expunge(_ uids: UIDSet) throws {
        guard !uids.isEmpty else { return }
        guard capabilities.contains("UIDPLUS") else {
            throw UpstreamError(.refused, "the server lacks UIDPLUS; EXPUNGE would remove other deleted messages too")
        }
        try setFlags(uids, add: ["\\Deleted"], remove: [])
        let set = uids.etpanSet()
        defer { mailimap_set_free(set) }
        try check(mailimap_uid_expunge(rawSession, set), "UID EXPUNGE")
    }

    /// APPEND ([RFC 3501] 6.3.11); the new UID from APPENDUID when the server has UIDPLUS.
    func append(to mailbox: String, message: [UInt8], flags: [String], internalDate: Int64?) throws -> UInt32? {
        let list = try etpanFlagList(flags)
        defer { mailimap_flag_list_free(list) }
        let date = internalDate.map(IMAPDate.etpan(milliseconds:))
        defer { if let date { mailimap_date_time_free(date) } }
        var validity: UInt32 = 0
        var uid: UInt32 = 0
        let result = message.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                mailimap_uidplus_append(rawSession, mailbox, list, date, chars.baseAddress, chars.count, &validity, &uid)
            }
        }
        do {
            try check(result, "APPEND \(mailbox)")
        } catch let error as UpstreamError where error.code == .refused && responseCode == "TRYCREATE" {
            throw UpstreamError(.mailboxNotFound, error.message)
        }
        return uid == 0 ? nil : uid
    }
}

/// A BODY section as the gateway names it: nil (the whole message), `HEADER`, `TEXT`, `1.2`,
/// `1.2.MIME`, `1.2.HEADER`, `1.2.TEXT` ([RFC 3501] 6.4.5).
struct SectionSpec: Hashable, Sendable {
    enum Kind: Hashable, Sendable { case whole, header, text, mime }
    var part: [UInt32]
    var kind: Kind

    init(_ text: String?) throws {
        part = []
        kind = .whole
        guard let text, !text.isEmpty else { return }
        let pieces = text.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count <= 32 else { throw UpstreamError(.refused, "section too deep: \(text)") }
        for (index, piece) in pieces.enumerated() {
            if let number = UInt32(piece), number > 0 {
                guard kind == .whole else { throw UpstreamError(.refused, "bad section: \(text)") }
                part.append(number)
                continue
            }
            guard index == pieces.count - 1 else { throw UpstreamError(.refused, "bad section: \(text)") }
            switch piece.uppercased() {
            case "HEADER": kind = .header
            case "TEXT": kind = .text
            case "MIME" where !part.isEmpty: kind = .mime
            default: throw UpstreamError(.refused, "bad section: \(text)")
            }
        }
    }

    /// As IMAP writes it inside `BODY[…]`.
    var text: String {
        let number = part.map(String.init).joined(separator: ".")
        let suffix: String
        switch kind {
        case .whole: suffix = ""
        case .header: suffix = "HEADER"
        case .text: suffix = "TEXT"
        case .mime: suffix = "MIME"
        }
        if number.isEmpty { return suffix }
        return suffix.isEmpty ? number : number + "." + suffix
    }

    /// The libetpan form; the caller (or the fetch att that takes it) owns it.
    func etpanSection() -> UnsafeMutablePointer<mailimap_section> {
        guard !part.isEmpty else {
            switch kind {
            case .header: return mailimap_section_new_header()
            case .text: return mailimap_section_new_text()
            case .whole, .mime: return mailimap_section_new(nil)
            }
        }
        let numbers = clist_new()!
        for number in part {
            // libetpan frees these with free().
            let cell = malloc(MemoryLayout<UInt32>.size)!.assumingMemoryBound(to: UInt32.self)
            cell.initialize(to: number)
            clist_insert_after(numbers, numbers.pointee.last, cell)
        }
        let sectionPart = mailimap_section_part_new(numbers)
        switch kind {
        case .whole: return mailimap_section_new_part(sectionPart)
        case .header: return mailimap_section_new_part_header(sectionPart)
        case .text: return mailimap_section_new_part_text(sectionPart)
        case .mime: return mailimap_section_new_part_mime(sectionPart)
        }
    }
}
