/// Turns a message a client sends (SendMail's MIME) into a `Submission`: the envelope from its
/// To, Cc and Bcc headers, and the bytes with every Bcc header removed ([RFC 5322] 3.6.3:
/// blind recipients must not be visible to the others).
public enum SubmissionBuilder {
    /// Largest header block looked at; a message whose headers do not end within it is refused.
    public static let maxHeaderBytes = 256 * 1024

    public enum Failure: Error, Hashable, Sendable {
        /// No blank line ends the headers within `maxHeaderBytes`.
        case noHeaderEnd
        /// An address header could not be read.
        case badAddress(header: String, detail: String)
        /// To, Cc and Bcc name nobody.
        case noRecipients
    }

    /// `sender` is the authenticated account: MAIL FROM is always the account itself, whatever
    /// the From header says (the submission server decides whether that From is allowed).
    public static func submission(from message: [UInt8], sender: String, codec: some MIMECodec) throws(Failure) -> Submission {
        guard let headerEnd = endOfHeaders(message) else { throw .noHeaderEnd }
        var recipients: [String] = []
        var seen = Set<String>()
        var kept: [UInt8] = []
        kept.reserveCapacity(message.count)
        for field in fields(in: message[..<headerEnd]) {
            let name = field.name.lowercased()
            if ["to", "cc", "bcc"].contains(name) {
                let value = String(decoding: unfold(field.value), as: UTF8.self)
                let addresses: [MailAddress]
                do {
                    addresses = try codec.addresses(in: value)
                } catch {
                    throw .badAddress(header: field.name, detail: "\(error)")
                }
                for address in addresses where seen.insert(address.address.lowercased()).inserted {
                    recipients.append(address.address)
                }
            }
            if name != "bcc" { kept += field.raw }
        }
        guard !recipients.isEmpty else { throw .noRecipients }
        kept += message[headerEnd...]
        return Submission(sender: sender, recipients: recipients, message: kept)
    }

    /// The index of the blank line that ends the headers (its CRLF or LF included in the body).
    public static func endOfHeaders(_ message: [UInt8]) -> Int? {
        let limit = min(message.count, maxHeaderBytes)
        var index = 0
        var lineStart = 0
        while index < limit {
            if message[index] == 10 {
                let line = message[lineStart..<index]
                if line.isEmpty || line == [13] { return lineStart }
                lineStart = index + 1
            }
            index += 1
        }
        return nil
    }

    /// One header field of a message.
    public struct Field: Sendable {
        public var name: String
        /// The field's bytes after the colon, folded lines included.
        public var value: ArraySlice<UInt8>
        /// The whole field, line endings included.
        public var raw: ArraySlice<UInt8>

        /// The value unfolded and trimmed, as text.
        public var text: String {
            var value = String(decoding: SubmissionBuilder.unfold(self.value), as: UTF8.self)
            while value.first == " " || value.first == "\t" { value.removeFirst() }
            while value.last == " " || value.last == "\t" { value.removeLast() }
            return value
        }
    }

    /// Header fields with their continuation lines; text that is not a field stays attached
    /// to the field before it.
    public static func fields(in headers: ArraySlice<UInt8>) -> [Field] {
        var fields: [Field] = []
        var start = headers.startIndex
        var index = headers.startIndex
        func flush(_ end: Int) {
            guard start < end else { return }
            let raw = headers[start..<end]
            if let colon = raw.firstIndex(of: UInt8(ascii: ":")) {
                let name = String(decoding: raw[raw.startIndex..<colon], as: UTF8.self).trimmingCharacters(in: " \t")
                fields.append(Field(name: name, value: raw[(colon + 1)...], raw: raw))
            } else if !fields.isEmpty {
                fields[fields.count - 1].raw = headers[fields[fields.count - 1].raw.startIndex..<end]
            }
        }
        while index < headers.endIndex {
            if headers[index] == 10 {
                let next = index + 1
                // A line starting with space or tab continues the field.
                if next < headers.endIndex, headers[next] == 32 || headers[next] == 9 {
                    index = next
                    continue
                }
                flush(next)
                start = next
            }
            index += 1
        }
        flush(headers.endIndex)
        return fields
    }

    public static func unfold(_ value: ArraySlice<UInt8>) -> [UInt8] {
        value.filter { $0 != 13 && $0 != 10 }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let unwanted = Set(set.unicodeScalars)
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !unwanted.contains($0) }),
              let last = scalars.lastIndex(where: { !unwanted.contains($0) })
        else { return "" }
        return String(scalars[first...last])
    }
}
