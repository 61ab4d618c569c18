internal import CEtPan
import MailUpstream

/// What SELECT or EXAMINE reported.
struct SelectedMailbox: Hashable, Sendable {
    var state: MailboxState
    var exists: Int
}

extension IMAPConnection {
    /// Every mailbox ([RFC 3501] 6.3.8). Dovecot and most servers put the [RFC 6154]
    /// special-use attributes on plain LIST answers.
    func listMailboxes() throws -> [MailboxListing] {
        var result: UnsafeMutablePointer<clist>?
        if !capabilities.contains("SPECIAL-USE"), capabilities.contains("XLIST") {
            // Servers from before [RFC 6154] (old Gmail) mark special folders only in XLIST.
            try check(mailimap_xlist(rawSession, "", "*", &result), "XLIST")
        } else {
            try check(mailimap_list(rawSession, "", "*", &result), "LIST")
        }
        defer { if let result { mailimap_list_result_free(result) } }
        var listings: [MailboxListing] = []
        forEach(in: result, as: mailimap_mailbox_list.self) { entry in
            guard let name = string(entry.pointee.mb_name) else { return }
            var attributes: [String] = []
            var selectable = true
            if let flags = entry.pointee.mb_flag {
                if Int(flags.pointee.mbf_type) == MAILIMAP_MBX_LIST_FLAGS_SFLAG,
                   Int(flags.pointee.mbf_sflag) == MAILIMAP_MBX_LIST_SFLAG_NOSELECT
                {
                    selectable = false
                }
                forEach(in: flags.pointee.mbf_oflags, as: mailimap_mbx_list_oflag.self) { flag in
                    if Int(flag.pointee.of_type) == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT, let ext = string(flag.pointee.of_flag_ext) {
                        attributes.append(ext.hasPrefix("\\") ? ext : "\\" + ext)
                    }
                }
            }
            if attributes.contains(where: { $0.lowercased() == "\\nonexistent" }) {
                selectable = false
            }
            // XLIST names INBOX by its localised name and marks it \\Inbox.
            let xlistInbox = attributes.contains { $0.lowercased() == "\\inbox" }
            let mailboxName = xlistInbox ? IMAPMailboxName(wire: "INBOX") : IMAPMailboxName(wire: name)
            let specialUse: SpecialUse? = mailboxName.isInbox ? .inbox : attributes.lazy.compactMap(SpecialUse.init(attribute:)).first
            let delimiter = entry.pointee.mb_delimiter == 0 ? nil : Character(Unicode.Scalar(UInt8(bitPattern: entry.pointee.mb_delimiter)))
            listings.append(MailboxListing(name: mailboxName, delimiter: delimiter, specialUse: specialUse, isSelectable: selectable))
        }
        return listings
    }

    /// NAMESPACE ([RFC 2342]), or one personal namespace with an empty prefix.
    func namespaces() throws -> MailNamespaces {
        guard capabilities.contains("NAMESPACE") else {
            return MailNamespaces(personal: [.init(prefix: "", delimiter: nil)])
        }
        var result: UnsafeMutablePointer<mailimap_namespace_data>?
        try check(mailimap_namespace(rawSession, &result), "NAMESPACE")
        defer { if let result { mailimap_namespace_data_free(result) } }
        func items(_ item: UnsafeMutablePointer<mailimap_namespace_item>?) -> [MailNamespaces.Namespace] {
            var namespaces: [MailNamespaces.Namespace] = []
            forEach(in: item?.pointee.ns_data_list, as: mailimap_namespace_info.self) { info in
                let delimiter = info.pointee.ns_delimiter
                namespaces.append(.init(prefix: string(info.pointee.ns_prefix) ?? "",
                                        delimiter: delimiter == 0 ? nil : Character(Unicode.Scalar(UInt8(bitPattern: delimiter)))))
            }
            return namespaces
        }
        return MailNamespaces(personal: items(result?.pointee.ns_personal), otherUsers: items(result?.pointee.ns_other),
                              shared: items(result?.pointee.ns_shared))
    }

    /// STATUS without selecting ([RFC 3501] 6.3.10), with HIGHESTMODSEQ when CONDSTORE is on
    /// ([RFC 7162] 3.1.3). A server without CONDSTORE reports mod-sequence 0.
    func status(_ mailbox: String) throws -> MailboxStatus {
        let attributes = mailimap_status_att_list_new_empty()!
        defer { mailimap_status_att_list_free(attributes) }
        for attribute in [MAILIMAP_STATUS_ATT_MESSAGES, MAILIMAP_STATUS_ATT_UIDNEXT, MAILIMAP_STATUS_ATT_UIDVALIDITY,
                          MAILIMAP_STATUS_ATT_UNSEEN]
        {
            mailimap_status_att_list_add(attributes, Int32(attribute))
        }
        if condstoreEnabled {
            mailimap_status_att_list_add(attributes, Int32(MAILIMAP_STATUS_ATT_HIGHESTMODSEQ))
        }
        var result: UnsafeMutablePointer<mailimap_mailbox_data_status>?
        do {
            try check(mailimap_status(rawSession, mailbox, attributes, &result), "STATUS \(mailbox)")
        } catch let error as UpstreamError where error.code == .refused {
            // Dovecot answers a missing mailbox with a plain NO here.
            throw UpstreamError(.mailboxNotFound, error.message)
        }
        defer { if let result { mailimap_mailbox_data_status_free(result) } }
        var state = MailboxState(uidValidity: 0, highestModSeq: 0, uidNext: 0)
        var messages = 0
        var unseen = 0
        forEach(in: result?.pointee.st_info_list, as: mailimap_status_info.self) { info in
            let value = info.pointee.st_value
            switch Int(info.pointee.st_att) {
            case MAILIMAP_STATUS_ATT_MESSAGES: messages = Int(value)
            case MAILIMAP_STATUS_ATT_UIDNEXT: state.uidNext = value
            case MAILIMAP_STATUS_ATT_UIDVALIDITY: state.uidValidity = value
            case MAILIMAP_STATUS_ATT_UNSEEN: unseen = Int(value)
            default:
                // HIGHESTMODSEQ comes back as a CONDSTORE extension item.
                if let ext = info.pointee.st_ext_data, Int(ext.pointee.ext_type) == MAILIMAP_CONDSTORE_TYPE_STATUS_INFO,
                   let data = ext.pointee.ext_data
                {
                    state.highestModSeq = data.assumingMemoryBound(to: mailimap_condstore_status_info.self).pointee
                        .cs_highestmodseq_value
                }
            }
        }
        return MailboxStatus(state: state, messages: messages, unseen: unseen)
    }

    /// Selects a mailbox, read-only (EXAMINE) unless `forWriting`. A mailbox already selected
    /// in a sufficient mode is not selected again, but brought up to date with NOOP: Dovecot
    /// answers SEARCH and FETCH from the session's view, which does not include messages
    /// delivered since the session last synchronised it.
    @discardableResult
    func select(_ mailbox: String, forWriting: Bool, force: Bool = false) throws -> SelectedMailbox? {
        if !force, let current = selected, current.name == mailbox, !forWriting || !current.readOnly {
            try check(mailimap_noop(rawSession), "NOOP")
            return nil
        }
        noteSelected(nil, readOnly: true)
        var modSeq: UInt64 = 0
        let result: Int32
        switch (forWriting, condstoreEnabled) {
        case (true, true): result = mailimap_select_condstore(rawSession, mailbox, &modSeq)
        case (false, true): result = mailimap_examine_condstore(rawSession, mailbox, &modSeq)
        case (true, false): result = mailimap_select(rawSession, mailbox)
        case (false, false): result = mailimap_examine(rawSession, mailbox)
        }
        do {
            try check(result, forWriting ? "SELECT \(mailbox)" : "EXAMINE \(mailbox)")
        } catch let error as UpstreamError where error.code == .refused {
            // Servers without [NONEXISTENT] answer a plain NO to a missing mailbox.
            throw UpstreamError(.mailboxNotFound, error.message)
        }
        noteSelected(mailbox, readOnly: !forWriting)
        guard let info = rawSession.pointee.imap_selection_info else {
            throw UpstreamError(.protocolError, "SELECT \(mailbox): no selection information")
        }
        return SelectedMailbox(
            state: MailboxState(uidValidity: info.pointee.sel_uidvalidity, highestModSeq: modSeq,
                                uidNext: info.pointee.sel_uidnext),
            exists: Int(info.pointee.sel_exists))
    }

    /// `SETMETADATA "" (entry value)` ([RFC 5464] 4.3); nil removes the entry. The value goes
    /// as a quoted string: printable ASCII only.
    func setServerMetadata(_ entry: String, value: String?) throws {
        guard capabilities.contains("METADATA") || capabilities.contains("METADATA-SERVER") else {
            throw UpstreamError(.refused, "the server has no METADATA")
        }
        guard entry.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) else {
            throw UpstreamError(.refused, "metadata entry \(entry) cannot be sent")
        }
        var quoted = "NIL"
        if let value {
            guard value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                throw UpstreamError(.refused, "metadata value for \(entry) is not printable ASCII")
            }
            quoted = "\"" + value.map { $0 == "\\" || $0 == "\"" ? "\\\($0)" : String($0) }.joined() + "\""
        }
        try check(mailimap_custom_command(rawSession, "SETMETADATA \"\" (\(entry) \(quoted))"), "SETMETADATA \(entry)")
    }

    func createMailbox(_ mailbox: String) throws {
        try check(mailimap_create(rawSession, mailbox), "CREATE \(mailbox)")
        // Best effort: clients list subscribed folders too.
        _ = mailimap_subscribe(rawSession, mailbox)
    }

    func renameMailbox(_ mailbox: String, to newName: String) throws {
        try leave(mailbox)
        try check(mailimap_rename(rawSession, mailbox, newName), "RENAME \(mailbox)")
        _ = mailimap_unsubscribe(rawSession, mailbox)
        _ = mailimap_subscribe(rawSession, newName)
    }

    func deleteMailbox(_ mailbox: String) throws {
        try leave(mailbox)
        try check(mailimap_delete(rawSession, mailbox), "DELETE \(mailbox)")
        _ = mailimap_unsubscribe(rawSession, mailbox)
    }

    /// Stops having `mailbox` selected, without CLOSE (which would expunge).
    private func leave(_ mailbox: String) throws {
        guard selected?.name == mailbox else { return }
        if capabilities.contains("UNSELECT") {
            try check(mailimap_custom_command(rawSession, "UNSELECT"), "UNSELECT")
            rawSession.pointee.imap_state = Int32(MAILIMAP_STATE_AUTHENTICATED)
            noteSelected(nil, readOnly: true)
        } else {
            try select("INBOX", forWriting: false, force: true)
        }
    }
}
