/// Quoted-printable ([RFC 2045] 6.7) decoded as libetpan's `mailmime_part_parse` decodes it
/// (the tests compare the two) but without its copies: every Add of a Sync decodes its body
/// part. Base64 is `MailUpstream.MIMEBase64Decoder`. Input cut short (a fetch of the first
/// bytes only) decodes as far as it is whole; there the two differ on purpose: a lone `=`
/// (or base64 character) left at the end gives nothing here, where libetpan kept the `=` and
/// made a byte of the character.
enum TransferDecoding {
    private static let hexValues: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in "0123456789ABCDEF".utf8.enumerated() { table[Int(character)] = UInt8(index) }
        for (index, character) in "abcdef".utf8.enumerated() { table[Int(character)] = UInt8(10 + index) }
        return table
    }()

    /// Quoted-printable: `=XX` in either case is the byte, `=` before a line break (perhaps
    /// after spaces, [RFC 2045] 6.7 rule 3) joins the lines, an `=` that starts nothing valid
    /// stays as it is, an escape cut short by the end is dropped (so is a CR cut from its LF,
    /// or an `=` followed only by spaces), and a line break written CR, LF or CRLF is CRLF (an
    /// escaped `=0A` stays a bare LF).
    static func quotedPrintable(_ encoded: [UInt8]) -> [UInt8] {
        encoded.withUnsafeBufferPointer { input in
            hexValues.withUnsafeBufferPointer { hex in
                [UInt8](unsafeUninitializedCapacity: input.count * 2) { output, written in
                    let end = input.count
                    var at = 0
                    var index = 0
                    while index < end {
                        let byte = input[index]
                        guard byte == UInt8(ascii: "=") else {
                            switch byte {
                            case 13 where index + 1 == end:
                                // A CR the cut parted from its LF.
                                index += 1
                            case 13 where input[index + 1] != 10:
                                output[at] = 13
                                output[at + 1] = 10
                                at += 2
                                index += 1
                            case 10 where index == 0 || input[index - 1] != 13:
                                output[at] = 13
                                output[at + 1] = 10
                                at += 2
                                index += 1
                            default:
                                output[at] = byte
                                at += 1
                                index += 1
                            }
                            continue
                        }
                        // Cut short: nothing, or only the spaces a soft break may follow, is left.
                        if input[(index + 1)...].allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { break }
                        // A soft line break, perhaps after spaces a mailer or a relay left.
                        var after = index + 1
                        while after < end, input[after] == 32 || input[after] == 9 { after += 1 }
                        if input[after] == 10 {
                            index = after + 1
                            continue
                        }
                        if input[after] == 13 {
                            index = after + 1 < end && input[after + 1] == 10 ? after + 2 : after + 1
                            continue
                        }
                        let first = input[index + 1]
                        if index + 2 == end { break }
                        let high = hex[Int(first)]
                        let low = hex[Int(input[index + 2])]
                        if high != 0xFF, low != 0xFF {
                            output[at] = high << 4 | low
                            at += 1
                            index += 3
                            continue
                        }
                        output[at] = byte
                        at += 1
                        index += 1
                    }
                    written = at
                }
            }
        }
    }
}
