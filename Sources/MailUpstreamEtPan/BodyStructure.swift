internal import CEtPan
import MailUpstream

#if canImport(Glibc)
import Glibc
#endif

/// BODYSTRUCTURE ([RFC 3501] 7.4.2) from libetpan's parse into `MIMEPart`, with section
/// numbers assigned the way IMAP numbers parts ([RFC 3501] 6.4.5).
enum BodyStructure {
    static func convert(_ body: UnsafeMutablePointer<mailimap_body>) -> MIMEPart? {
        node(body, section: "", topLevel: true)
    }

    private static func node(_ body: UnsafeMutablePointer<mailimap_body>, section: String, topLevel: Bool) -> MIMEPart? {
        switch Int(body.pointee.bd_type) {
        case MAILIMAP_BODY_MPART:
            guard let multipart = body.pointee.bd_data.bd_body_mpart else { return nil }
            var children: [MIMEPart] = []
            var index = 0
            forEach(in: multipart.pointee.bd_list, as: mailimap_body.self) { child in
                index += 1
                let childSection = section.isEmpty ? "\(index)" : "\(section).\(index)"
                if let converted = node(child, section: childSection, topLevel: false) { children.append(converted) }
            }
            let ext = multipart.pointee.bd_ext_mpart
            let (disposition, dispositionParameters) = dispositionOf(ext?.pointee.bd_disposition)
            return MIMEPart(section: section, type: "multipart", subtype: string(multipart.pointee.bd_media_subtype) ?? "mixed",
                            parameters: parameters(ext?.pointee.bd_parameter), disposition: disposition,
                            dispositionParameters: dispositionParameters, location: string(ext?.pointee.bd_loc),
                            parts: children)
        case MAILIMAP_BODY_1PART:
            guard let single = body.pointee.bd_data.bd_body_1part else { return nil }
            // A single-part message's body is section 1; a part inside a multipart keeps its number.
            let ownSection = topLevel ? "1" : section
            return leaf(single, section: ownSection)
        default:
            return nil
        }
    }

    private static func leaf(_ single: UnsafeMutablePointer<mailimap_body_type_1part>, section: String) -> MIMEPart? {
        var type = "application"
        var subtype = "octet-stream"
        var fields: UnsafeMutablePointer<mailimap_body_fields>?
        var children: [MIMEPart] = []
        var envelope: Envelope?
        switch Int(single.pointee.bd_type) {
        case MAILIMAP_BODY_TYPE_1PART_TEXT:
            guard let text = single.pointee.bd_data.bd_type_text else { return nil }
            type = "text"
            subtype = string(text.pointee.bd_media_text) ?? "plain"
            fields = text.pointee.bd_fields
        case MAILIMAP_BODY_TYPE_1PART_MSG:
            guard let message = single.pointee.bd_data.bd_type_msg else { return nil }
            type = "message"
            subtype = "rfc822"
            fields = message.pointee.bd_fields
            if let inner = message.pointee.bd_body {
                // The attached message's parts are numbered below this part: 2.1, 2.2 …; a
                // single-part attached message's body is 2.1.
                if Int(inner.pointee.bd_type) == MAILIMAP_BODY_MPART {
                    if let converted = node(inner, section: section, topLevel: false) { children = converted.parts }
                } else if let converted = node(inner, section: section + ".1", topLevel: false) {
                    children = [converted]
                }
            }
            if let env = message.pointee.bd_envelope { envelope = FetchedMessage.envelope(env.pointee) }
        case MAILIMAP_BODY_TYPE_1PART_BASIC:
            guard let basic = single.pointee.bd_data.bd_type_basic else { return nil }
            fields = basic.pointee.bd_fields
            if let media = basic.pointee.bd_media_basic {
                subtype = string(media.pointee.med_subtype) ?? subtype
                switch Int(media.pointee.med_type) {
                case MAILIMAP_MEDIA_BASIC_APPLICATION: type = "application"
                case MAILIMAP_MEDIA_BASIC_AUDIO: type = "audio"
                case MAILIMAP_MEDIA_BASIC_IMAGE: type = "image"
                case MAILIMAP_MEDIA_BASIC_MESSAGE: type = "message"
                case MAILIMAP_MEDIA_BASIC_VIDEO: type = "video"
                default: type = string(media.pointee.med_basic_type) ?? type
                }
            }
        default:
            return nil
        }
        let ext = single.pointee.bd_ext_1part
        let (disposition, dispositionParameters) = dispositionOf(ext?.pointee.bd_disposition)
        return MIMEPart(
            section: section, type: type, subtype: subtype, parameters: parameters(fields?.pointee.bd_parameter),
            contentId: string(fields?.pointee.bd_id), contentDescription: EncodedWords.decode(string(fields?.pointee.bd_description)),
            encoding: encoding(fields?.pointee.bd_encoding), size: Int(fields?.pointee.bd_size ?? 0),
            disposition: disposition, dispositionParameters: dispositionParameters, location: string(ext?.pointee.bd_loc),
            parts: children, envelope: envelope)
    }

    private static func encoding(_ field: UnsafeMutablePointer<mailimap_body_fld_enc>?) -> String {
        guard let field else { return "7bit" }
        switch Int(field.pointee.enc_type) {
        case MAILIMAP_BODY_FLD_ENC_7BIT: return "7bit"
        case MAILIMAP_BODY_FLD_ENC_8BIT: return "8bit"
        case MAILIMAP_BODY_FLD_ENC_BINARY: return "binary"
        case MAILIMAP_BODY_FLD_ENC_BASE64: return "base64"
        case MAILIMAP_BODY_FLD_ENC_QUOTED_PRINTABLE: return "quoted-printable"
        default: return string(field.pointee.enc_value)?.lowercased() ?? "7bit"
        }
    }

    private static func dispositionOf(_ field: UnsafeMutablePointer<mailimap_body_fld_dsp>?) -> (String?, [String: String]) {
        guard let field else { return (nil, [:]) }
        return (string(field.pointee.dsp_type)?.lowercased(), parameters(field.pointee.dsp_attributes))
    }

    private static func parameters(_ list: UnsafeMutablePointer<mailimap_body_fld_param>?) -> [String: String] {
        var raw: [(String, String)] = []
        forEach(in: list?.pointee.pa_list, as: mailimap_single_body_fld_param.self) { parameter in
            guard let name = string(parameter.pointee.pa_name), let value = string(parameter.pointee.pa_value) else { return }
            raw.append((name.lowercased(), value))
        }
        return MIMEParameters.decode(raw)
    }
}

/// MIME parameter values: [RFC 2231] continuations and charset-tagged values, and the
/// [RFC 2047] encoded words many mailers put in file names anyway.
enum MIMEParameters {
    /// At most this many continuation pieces per parameter are joined.
    static let maxPieces = 100

    static func decode(_ raw: [(String, String)]) -> [String: String] {
        var plain: [String: String] = [:]
        var pieces: [String: [(index: Int, value: String, extended: Bool)]] = [:]
        for (name, value) in raw {
            // name*0*, name*1, name*
            let parts = name.split(separator: "*", omittingEmptySubsequences: false)
            if parts.count == 1 {
                plain[name] = plain[name] ?? EncodedWords.decode(value) ?? value
                continue
            }
            let base = String(parts[0])
            if parts.count == 2, parts[1].isEmpty {
                pieces[base, default: []].append((0, value, true))
            } else if let index = Int(parts[1]), index < maxPieces {
                pieces[base, default: []].append((index, value, parts.count == 3 && parts[2].isEmpty))
            }
        }
        for (base, list) in pieces {
            let ordered = list.sorted { $0.index < $1.index }
            var charset: String?
            var bytes: [UInt8] = []
            for (position, piece) in ordered.enumerated() {
                var value = Substring(piece.value)
                if piece.extended, position == 0 {
                    // charset'language'value
                    let fields = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                    if fields.count == 3 {
                        charset = fields[0].isEmpty ? nil : String(fields[0])
                        value = fields[2]
                    }
                }
                bytes += piece.extended ? percentDecoded(value) : Array(value.utf8)
            }
            plain[base] = Charsets.utf8String(bytes, charset: charset)
        }
        return plain
    }

    private static func percentDecoded(_ text: Substring) -> [UInt8] {
        var out: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
               let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                out.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                out.append(byte)
            }
        }
        return out
    }
}

/// Text in any charset to a Swift string: UTF-8, ISO-8859-1 and Windows-1252 (most Western
/// mail) directly, the rest through libetpan's `charconv` (iconv).
enum Charsets {
    static func utf8String(_ bytes: [UInt8], charset: String?) -> String {
        guard let charset else { return String(decoding: bytes, as: UTF8.self) }
        switch charset.lowercased() {
        case "utf-8", "utf8", "us-ascii", "ascii":
            return String(decoding: bytes, as: UTF8.self)
        case "iso-8859-1", "latin1":
            return singleByte(bytes, high: nil)!
        case "windows-1252", "cp1252":
            // Five bytes are not in the table; iconv decides what becomes of them.
            if let text = singleByte(bytes, high: windows1252) { return text }
        default:
            break
        }
        return throughIconv(bytes, charset: charset)
    }

    /// Windows-1252's characters for 0x80–0x9F (0 where it has none); the rest is ISO-8859-1.
    private static let windows1252: [UInt32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ]

    /// A single-byte charset that is ISO-8859-1 but for `high` (0x80–0x9F); nil for a byte
    /// `high` has no character for.
    private static func singleByte(_ bytes: [UInt8], high: [UInt32]?) -> String? {
        guard bytes.contains(where: { $0 >= 0x80 }) else { return String(decoding: bytes, as: UTF8.self) }
        var utf8: [UInt8] = []
        utf8.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            guard byte >= 0x80 else {
                utf8.append(byte)
                continue
            }
            var value = UInt32(byte)
            if let high, byte < 0xA0 {
                value = high[Int(byte - 0x80)]
                guard value != 0 else { return nil }
            }
            if value < 0x800 {
                utf8.append(UInt8(0xC0 | value >> 6))
            } else {
                utf8.append(UInt8(0xE0 | value >> 12))
                utf8.append(UInt8(0x80 | (value >> 6 & 0x3F)))
            }
            utf8.append(UInt8(0x80 | (value & 0x3F)))
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    static func throughIconv(_ bytes: [UInt8], charset: String) -> String {
        var result: UnsafeMutablePointer<CChar>?
        var length = 0
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                charconv_buffer("utf-8", charset, $0.baseAddress, $0.count, &result, &length)
            }
        }
        guard status == MAIL_CHARCONV_NO_ERROR, let result else {
            // An unknown charset: keep what decodes as UTF-8 rather than nothing.
            return String(decoding: bytes, as: UTF8.self)
        }
        defer { charconv_buffer_free(result) }
        return String(decoding: UnsafeRawBufferPointer(start: result, count: length), as: UTF8.self)
    }
}
