internal import CEtPan
import MailUpstream

/// A block of header fields ([RFC 5322] 2.2) parsed by libetpan's `mailimf`: References as a
/// list of Message-IDs, other fields by lower-cased name with encoded words decoded.
struct HeaderBlock {
    var references: [String] = []
    var fields: [String: String] = [:]

    init(_ bytes: [UInt8]) {
        // What a server answers for a message that has none of the fields asked for.
        guard bytes.count > 2 else { return }
        var index = 0
        var parsed: UnsafeMutablePointer<mailimf_fields>?
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { mailimf_fields_parse($0.baseAddress, $0.count, &index, &parsed) }
        }
        guard status == MAILIMF_NO_ERROR, let parsed else { return }
        defer { mailimf_fields_free(parsed) }
        forEach(in: parsed.pointee.fld_list, as: mailimf_field.self) { field in
            switch Int(field.pointee.fld_type) {
            case MAILIMF_FIELD_REFERENCES:
                forEach(in: field.pointee.fld_data.fld_references?.pointee.mid_list, as: CChar.self) { id in
                    if let id = string(id) { references.append("<\(id)>") }
                }
            case MAILIMF_FIELD_OPTIONAL_FIELD:
                guard let optional = field.pointee.fld_data.fld_optional_field,
                      let name = string(optional.pointee.fld_name)?.lowercased(),
                      let value = string(optional.pointee.fld_value)
                else { return }
                if fields[name] == nil { fields[name] = EncodedWords.decode(value.trimmingSpaces()) ?? value }
            default:
                break
            }
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
              let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" && $0 != "\r" && $0 != "\n" })
        else { return "" }
        return String(scalars[first...last])
    }
}
