import MailUpstream
import MailUpstreamEtPan

/// libFuzzer's entry point: one input, given to the MIME and header code that reads what
/// clients send (SendMail's message) and what arrives by mail (invitations, encoded headers
/// and bodies). The first byte picks the charset and transfer encoding tried.
///
/// Properties checked: nothing crashes, hangs or leaks; a message accepted for sending has no
/// Bcc header left, at least one recipient, and no recipient with a line break or NUL (it would
/// reach the SMTP envelope).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMIME(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let codec = EtPanMIMECodec()
    if let submission = try? SubmissionBuilder.submission(from: bytes, sender: "fuzz@example.org", codec: codec) {
        precondition(!submission.recipients.isEmpty, "a submission without recipients")
        for recipient in submission.recipients {
            precondition(!recipient.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 }, "a recipient with a line break or NUL")
        }
        let end = SubmissionBuilder.endOfHeaders(submission.message) ?? 0
        for field in SubmissionBuilder.fields(in: submission.message[..<end]) {
            precondition(field.name.lowercased() != "bcc", "a Bcc header was kept")
        }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if let calendar = ICalendar.parse(text) {
        _ = calendar.component("VEVENT")
    }
    if let invitation = Invitation(text) {
        _ = invitation.reply(from: "fuzz@example.org", name: "Fuzz", answer: .accepted, stamp: "20261201T000000Z")
    }
    let charsets = ["utf-8", "iso-8859-1", "windows-1252", "shift_jis", "iso-2022-jp", "koi8-r", "gb2312", "x-unknown"]
    let selector = Int(bytes.first ?? 0)
    _ = codec.decodeText(bytes, charset: charsets[selector % charsets.count])
    _ = codec.decodeTransferEncoding(bytes, encoding: selector & 8 == 0 ? "base64" : "quoted-printable")
    _ = codec.decodeHeader(text)
    _ = try? codec.addresses(in: text)
    return 0
}
