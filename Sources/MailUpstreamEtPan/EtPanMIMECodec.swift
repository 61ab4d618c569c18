internal import CEtPan
import MailUpstream

#if canImport(Glibc)
import Glibc
#endif

/// `MIMECodec` over libetpan's `mailmime` and `mailimf` parsers and its iconv-based `charconv`.
/// Pure computation: safe on any thread.
public struct EtPanMIMECodec: MIMECodec {
    public init() {}

    /// Longest header value decoded or parsed; longer input is cut (headers this long are abuse).
    public static let maxHeaderBytes = 64 * 1024

    public func decodeTransferEncoding(_ bytes: [UInt8], encoding: String) -> [UInt8] {
        switch encoding.lowercased() {
        case "base64": MIMEBase64Decoder.decode(bytes)
        case "quoted-printable": TransferDecoding.quotedPrintable(bytes)
        default: bytes
        }
    }

    /// `decodeTransferEncoding` through libetpan: what the tests compare `TransferDecoding` with.
    func decodeTransferEncodingThroughEtPan(_ bytes: [UInt8], encoding: String) -> [UInt8] {
        let mechanism: Int
        switch encoding.lowercased() {
        case "base64": mechanism = MAILMIME_MECHANISM_BASE64
        case "quoted-printable": mechanism = MAILMIME_MECHANISM_QUOTED_PRINTABLE
        default: return bytes
        }
        var bytes = bytes
        // libetpan's quoted-printable decoder reads two bytes after "=" even when only one is
        // left, past the end of the buffer (found by the fuzzer, Fuzz/seeds/mime/qp-cut-escape):
        // an escape cut short by the end (a truncated fetch) is dropped first.
        if mechanism == MAILMIME_MECHANISM_QUOTED_PRINTABLE, bytes.count >= 2, bytes[bytes.count - 2] == UInt8(ascii: "="),
           bytes[bytes.count - 1] != 13, bytes[bytes.count - 1] != 10
        {
            bytes.removeLast(2)
        }
        guard !bytes.isEmpty else { return [] }
        var index = 0
        var result: UnsafeMutablePointer<CChar>?
        var length = 0
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                mailmime_part_parse($0.baseAddress, $0.count, &index, Int32(mechanism), &result, &length)
            }
        }
        guard status == MAILIMF_NO_ERROR, let result else { return bytes }
        defer { mailmime_decoded_part_free(result) }
        return Array(UnsafeRawBufferPointer(start: result, count: length))
    }

    public func decodeText(_ bytes: [UInt8], charset: String?) -> String {
        Charsets.utf8String(bytes, charset: charset)
    }

    public func decodeHeader(_ value: String) -> String {
        EncodedWords.decode(String(value.utf8.prefix(Self.maxHeaderBytes))) ?? value
    }

    public func addresses(in value: String) throws -> [MailAddress] {
        let text = String(decoding: value.utf8.prefix(Self.maxHeaderBytes), as: UTF8.self)
        guard !text.allSatisfy({ $0 == " " || $0 == "\t" }) else { return [] }
        var index = 0
        var list: UnsafeMutablePointer<mailimf_address_list>?
        let status = text.withCString { mailimf_address_list_parse($0, strlen($0), &index, &list) }
        guard status == MAILIMF_NO_ERROR, let list else {
            throw UpstreamError(.refused, "not an address list: \(text.prefix(80).debugDescription)")
        }
        defer { mailimf_address_list_free(list) }
        // libetpan stops at what it cannot read and calls the rest done: the whole value must
        // have been read, and every address must look like one.
        guard text.utf8.dropFirst(index).allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 || $0 == 10 }) else {
            throw UpstreamError(.refused, "not an address list: \(text.prefix(80).debugDescription)")
        }
        var result: [MailAddress] = []
        var invalid: String?
        func add(_ mailbox: UnsafeMutablePointer<mailimf_mailbox>) {
            guard let address = string(mailbox.pointee.mb_addr_spec) else { return }
            guard Self.isAddress(address) else {
                invalid = address
                return
            }
            let name = string(mailbox.pointee.mb_display_name).map(decodeHeader)
            result.append(MailAddress(name: name?.isEmpty == true ? nil : name, address: address))
        }
        forEach(in: list.pointee.ad_list, as: mailimf_address.self) { address in
            if Int(address.pointee.ad_type) == MAILIMF_ADDRESS_MAILBOX, let mailbox = address.pointee.ad_data.ad_mailbox {
                add(mailbox)
            } else if let group = address.pointee.ad_data.ad_group {
                forEach(in: group.pointee.grp_mb_list?.pointee.mb_list, as: mailimf_mailbox.self, add)
            }
        }
        if let invalid { throw UpstreamError(.refused, "not an address: \(invalid.prefix(80).debugDescription)") }
        return result
    }

    /// `local@domain`, both non-empty, nothing that could break an SMTP command.
    static func isAddress(_ address: String) -> Bool {
        guard let at = address.lastIndex(of: "@"), at != address.startIndex, address.index(after: at) != address.endIndex
        else { return false }
        return !address.utf8.contains { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }
    }
}
