internal import CEtPan
import MailUpstream

#if canImport(Glibc)
import Glibc
#endif

extension IMAPConnection {
    /// `UID SEARCH [CHARSET UTF-8] …` in the selected mailbox ([RFC 3501] 6.4.4). Plain
    /// SEARCH, never ESEARCH: libetpan cannot parse ESEARCH answers.
    func search(_ query: MailSearch) throws -> [UInt32] {
        let terms = [query.text, query.from, query.to, query.subject].compactMap { $0 }
        for term in terms {
            guard term.utf8.count <= MailSearch.maxTermBytes, !term.utf8.contains(where: { $0 == 0 || $0 == 13 || $0 == 10 })
            else { throw UpstreamError(.refused, "search term too long or containing line breaks") }
        }
        let key = mailimap_search_key_new_multiple_empty()!
        defer { mailimap_search_key_free(key) }
        mailimap_search_key_multiple_add(key, mailimap_search_key_new_all())
        if let text = query.text { mailimap_search_key_multiple_add(key, mailimap_search_key_new_text(cString(text))) }
        if let from = query.from { mailimap_search_key_multiple_add(key, mailimap_search_key_new_from(cString(from))) }
        if let to = query.to { mailimap_search_key_multiple_add(key, mailimap_search_key_new_to(cString(to))) }
        if let subject = query.subject {
            mailimap_search_key_multiple_add(key, mailimap_search_key_new_subject(cString(subject)))
        }
        if let since = query.since { mailimap_search_key_multiple_add(key, mailimap_search_key_new_since(Self.date(since))) }
        if let before = query.before {
            mailimap_search_key_multiple_add(key, mailimap_search_key_new_before(Self.date(before)))
        }
        if let uids = query.uids {
            guard !uids.isEmpty else { return [] }
            mailimap_search_key_multiple_add(key, mailimap_search_key_new_uid(uids.etpanSet()))
        }
        if query.unseenOnly {
            // libetpan has no short constructor for UNSEEN.
            let unseen = mailimap_search_key_new(Int32(MAILIMAP_SEARCH_KEY_UNSEEN), nil, nil, nil, nil, nil, nil, nil, nil, nil,
                                                 nil, nil, nil, nil, nil, 0, nil, nil, nil, nil, nil, nil, 0, nil, nil, nil)
            mailimap_search_key_multiple_add(key, unseen)
        }
        let charset = terms.contains { $0.utf8.contains { $0 >= 0x80 } } ? "UTF-8" : nil
        var result: UnsafeMutablePointer<clist>?
        let status = capabilities.contains("LITERAL+")
            ? mailimap_uid_search_literalplus(rawSession, charset, key, &result)
            : mailimap_uid_search(rawSession, charset, key, &result)
        try check(status, "UID SEARCH")
        defer { if let result { mailimap_search_result_free(result) } }
        var uids: [UInt32] = []
        forEach(in: result, as: UInt32.self) { uids.append($0.pointee) }
        return uids.sorted()
    }

    private static func date(_ milliseconds: Int64) -> UnsafeMutablePointer<mailimap_date> {
        let days = milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds - 86_399_999) / 86_400_000
        let (year, month, day) = CivilDate.date(days: days)
        return mailimap_date_new(Int32(day), Int32(month), Int32(year))
    }

    /// One FETCH per distinct (section, range) among `requests`.
    func fetchParts(_ requests: [PartRequest]) throws -> [PartRequest: [UInt8]] {
        var parts: [PartRequest: [UInt8]] = [:]
        let groups = Dictionary(grouping: requests) { SectionKey(section: $0.section, range: $0.range) }
        for (key, group) in groups {
            let uids = UIDSet(uids: group.map(\.uid))
            for (uid, bytes) in try fetchSectionOfMany(uids, section: key.section, range: key.range) {
                parts[PartRequest(uid: uid, section: key.section, range: key.range)] = bytes
            }
        }
        return parts
    }

    private struct SectionKey: Hashable {
        var section: String?
        var range: Range<Int>?
    }
}
