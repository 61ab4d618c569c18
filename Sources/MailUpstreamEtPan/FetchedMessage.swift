internal import CEtPan
import MailUpstream

#if canImport(Glibc)
import Glibc
#endif

/// One FETCH response: read by `FetchResponseParser`, or copied out of libetpan's structures.
struct FetchedMessage: Equatable, Sendable {
    var uid: UInt32 = 0
    var flags: [String] = []
    /// Whether the response had FLAGS (`flags` empty can mean none set or none sent).
    var hasFlags = false
    var modSeq: UInt64 = 0
    /// Milliseconds since 1970.
    var internalDate: Int64 = 0
    var size: Int = 0
    var envelope: Envelope?
    var structure: MIMEPart?
    /// The bytes of the one BODY[…] section asked for.
    var section: [UInt8]?

    init() {}

    init(_ message: UnsafeMutablePointer<mailimap_msg_att>) {
        forEach(in: message.pointee.att_list, as: mailimap_msg_att_item.self) { item in
            switch Int(item.pointee.att_type) {
            case MAILIMAP_MSG_ATT_ITEM_DYNAMIC:
                guard let dynamic = item.pointee.att_data.att_dyn else { return }
                hasFlags = true
                forEach(in: dynamic.pointee.att_list, as: mailimap_flag_fetch.self) { fetched in
                    // \Recent is per session and means nothing to a gateway.
                    guard Int(fetched.pointee.fl_type) == MAILIMAP_FLAG_FETCH_OTHER, let flag = fetched.pointee.fl_flag,
                          let name = flagName(flag)
                    else { return }
                    flags.append(name)
                }
            case MAILIMAP_MSG_ATT_ITEM_STATIC:
                guard let value = item.pointee.att_data.att_static else { return }
                read(value)
            case MAILIMAP_MSG_ATT_ITEM_EXTENSION:
                guard let ext = item.pointee.att_data.att_extension_data,
                      Int(ext.pointee.ext_type) == MAILIMAP_CONDSTORE_TYPE_FETCH_DATA, let data = ext.pointee.ext_data
                else { return }
                modSeq = data.assumingMemoryBound(to: mailimap_condstore_fetch_mod_resp.self).pointee.cs_modseq_value
            default:
                break
            }
        }
        flags.sort()
    }

    /// Adds what another response for the same message in the same command says: the newer
    /// flags (the higher MODSEQ, or the later response without CONDSTORE), and whatever only
    /// the other carries.
    mutating func merge(_ other: FetchedMessage) {
        if other.hasFlags, !hasFlags || other.modSeq >= modSeq {
            flags = other.flags
            hasFlags = true
        }
        modSeq = max(modSeq, other.modSeq)
        if internalDate == 0 { internalDate = other.internalDate }
        if size == 0 { size = other.size }
        envelope = envelope ?? other.envelope
        structure = structure ?? other.structure
        section = section ?? other.section
    }

    private mutating func read(_ value: UnsafeMutablePointer<mailimap_msg_att_static>) {
        switch Int(value.pointee.att_type) {
        case MAILIMAP_MSG_ATT_UID:
            uid = value.pointee.att_data.att_uid
        case MAILIMAP_MSG_ATT_RFC822_SIZE:
            size = Int(value.pointee.att_data.att_rfc822_size)
        case MAILIMAP_MSG_ATT_INTERNALDATE:
            if let date = value.pointee.att_data.att_internal_date {
                internalDate = IMAPDate.milliseconds(date.pointee)
            }
        case MAILIMAP_MSG_ATT_ENVELOPE:
            if let envelope = value.pointee.att_data.att_env {
                self.envelope = Self.envelope(envelope.pointee)
            }
        case MAILIMAP_MSG_ATT_BODYSTRUCTURE:
            if let body = value.pointee.att_data.att_bodystructure {
                structure = BodyStructure.convert(body)
            }
        case MAILIMAP_MSG_ATT_BODY_SECTION:
            if let body = value.pointee.att_data.att_body_section {
                let length = body.pointee.sec_length
                if let bytes = body.pointee.sec_body_part {
                    section = Array(UnsafeRawBufferPointer(start: bytes, count: length))
                } else {
                    section = []
                }
            }
        default:
            break
        }
    }

    static func envelope(_ env: mailimap_envelope) -> Envelope {
        Envelope(
            date: string(env.env_date),
            subject: EncodedWords.decode(string(env.env_subject)),
            from: addresses(env.env_from?.pointee.frm_list),
            sender: addresses(env.env_sender?.pointee.snd_list),
            replyTo: addresses(env.env_reply_to?.pointee.rt_list),
            to: addresses(env.env_to?.pointee.to_list),
            cc: addresses(env.env_cc?.pointee.cc_list),
            bcc: addresses(env.env_bcc?.pointee.bcc_list),
            inReplyTo: string(env.env_in_reply_to),
            messageId: string(env.env_message_id))
    }

    private static func addresses(_ list: UnsafeMutablePointer<clist>?) -> [MailAddress] {
        var result: [MailAddress] = []
        forEach(in: list, as: mailimap_address.self) { address in
            // Group start and end markers have no host ([RFC 3501] 7.4.2).
            guard let mailbox = string(address.pointee.ad_mailbox_name), let host = string(address.pointee.ad_host_name)
            else { return }
            let name = EncodedWords.decode(string(address.pointee.ad_personal_name))
            result.append(MailAddress(name: name?.isEmpty == true ? nil : name, address: mailbox + "@" + host))
        }
        return result
    }
}

/// [RFC 2047] encoded words in header text, decoded to UTF-8.
enum EncodedWords {
    static func decode(_ text: String?) -> String? {
        guard let text else { return nil }
        guard mayHaveEncodedWords(text) else { return text }
        return EncodedWordDecoder.decode(text)
    }

    /// `decode` through libetpan's `mailmime_encoded_phrase_parse`: what the tests compare
    /// `EncodedWordDecoder` with.
    static func decodeThroughEtPan(_ text: String?) -> String? {
        guard let text else { return nil }
        guard mayHaveEncodedWords(text) else { return text }
        var index = 0
        var result: UnsafeMutablePointer<CChar>?
        let status = text.withCString { pointer in
            mailmime_encoded_phrase_parse("utf-8", pointer, strlen(pointer), &index, "utf-8", &result)
        }
        guard status == MAILIMF_NO_ERROR, let result else { return text }
        defer { free(result) }
        return string(result)
    }
}

extension EncodedWords {
    /// Whether `=?` occurs: most headers have no encoded word, and this runs for every
    /// address of every message in a Sync.
    static func mayHaveEncodedWords(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if previous == UInt8(ascii: "="), byte == UInt8(ascii: "?") { return true }
            previous = byte
        }
        return false
    }
}

/// IMAP date-time values ([RFC 3501] `date-time`) to and from milliseconds since 1970.
enum IMAPDate {
    static func milliseconds(_ date: mailimap_date_time) -> Int64 {
        let days = CivilDate.days(year: Int64(date.dt_year), month: Int64(date.dt_month), day: Int64(date.dt_day))
        let seconds = days * 86_400 + Int64(date.dt_hour) * 3600 + Int64(date.dt_min) * 60 + Int64(date.dt_sec)
        // dt_zone is ±HHMM as a number.
        let zone = Int64(date.dt_zone)
        let offset = (zone / 100) * 3600 + (zone % 100) * 60
        return (seconds - offset) * 1000
    }

    /// A UTC date-time for APPEND; the caller owns it.
    static func etpan(milliseconds: Int64) -> UnsafeMutablePointer<mailimap_date_time> {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let (year, month, day) = CivilDate.date(days: days)
        return mailimap_date_time_new(Int32(day), Int32(month), Int32(year), Int32(rest / 3600), Int32(rest % 3600 / 60),
                                      Int32(rest % 60), 0)
    }
}
