internal import CEtPan
import MailUpstream

#if canImport(Glibc)
import Glibc
#endif

extension IMAPConnection {
    /// The most bytes one response read past libetpan (a line and its literals) holds unless
    /// the caller allows more.
    static let maxRawResponseBytes = 64 << 20

    /// Sends `command` (no tag, no CRLF) on libetpan's stream and hands each untagged response
    /// to `each` as its bytes, literals inline and CRLF included, until the tagged answer. A NO
    /// or BAD is thrown as `refusal`; an error thrown by `each` is thrown once the answer is
    /// read, so the connection stays usable.
    ///
    /// Only for commands whose answers libetpan need not see: the session's selection and
    /// capabilities are libetpan's to track, and are left as they were.
    func runRaw(_ command: String, maxResponseBytes: Int = maxRawResponseBytes,
                _ each: (UnsafeRawBufferPointer) throws -> Void) throws {
        // "UID FETCH", "STATUS": what the command is called in error messages.
        let name = command.split(separator: " ", maxSplits: 2).prefix(command.hasPrefix("UID ") ? 2 : 1).joined(separator: " ")
        rawCommandCount += 1
        let tag = "G\(rawCommandCount)"
        try send(Array((tag + " " + command + "\r\n").utf8), name)
        var response: [UInt8] = []
        var failure: (any Error)?
        while true {
            response.removeAll(keepingCapacity: true)
            try readResponse(into: &response, tag: tag, name, limit: maxResponseBytes)
            if response.first == UInt8(ascii: "*") {
                guard failure == nil else { continue }
                do {
                    try response.withUnsafeBytes { try each($0) }
                } catch {
                    failure = error
                }
                continue
            }
            guard let answer = TaggedAnswer(response, tag: tag) else {
                markBroken()
                throw UpstreamError(.protocolError, "\(name): unexpected answer \(Self.excerpt(response))")
            }
            guard answer.status == "OK" else {
                throw Self.refusal(code: answer.code, text: answer.text, command: String(command.prefix(80)))
            }
            if let failure { throw failure }
            return
        }
    }

    private func send(_ bytes: [UInt8], _ name: String) throws {
        let stream = rawSession.pointee.imap_stream
        let written = bytes.withUnsafeBytes { mailstream_write(stream, $0.baseAddress, $0.count) }
        guard written == bytes.count, mailstream_flush(stream) == 0 else {
            throw broke("\(name): connection to \(endpoint.host):\(endpoint.port) lost or timed out")
        }
    }

    /// One response: a line, and while it ends in a literal's `{n}`, the n bytes and the next line.
    private func readResponse(into response: inout [UInt8], tag: String, _ name: String, limit: Int) throws {
        let stream = rawSession.pointee.imap_stream
        let buffer = rawSession.pointee.imap_stream_buffer!
        func lost() -> UpstreamError { broke("\(name): connection to \(endpoint.host):\(endpoint.port) lost or timed out") }
        while true {
            guard let line = mailstream_read_line(stream, buffer) else { throw lost() }
            let length = buffer.pointee.len
            guard length > 0, line[length - 1] == CChar(UInt8(ascii: "\n")) else { throw lost() }
            guard length <= limit - response.count else {
                markBroken()
                throw UpstreamError(.protocolError, "\(name): a response over \(limit) bytes")
            }
            response.append(contentsOf: UnsafeRawBufferPointer(start: line, count: length))
            // A status response's text is no place for a literal, whatever it ends with.
            guard !Self.isStatusResponse(response, tag: tag), let count = Self.literalLength(endingAt: response) else {
                return
            }
            guard count <= limit - response.count else {
                markBroken()
                throw UpstreamError(.protocolError, "\(name): a response over \(limit) bytes")
            }
            // Read as it comes rather than allocated as announced: memory follows what the
            // server sends, not what it claims.
            response.reserveCapacity(response.count + min(count, 1 << 20))
            var remaining = count
            while remaining > 0 {
                let got = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: min(remaining, 1 << 16)) { chunk in
                    let got = mailstream_read(stream, chunk.baseAddress, chunk.count)
                    if got > 0 { response.append(contentsOf: chunk[..<got]) }
                    return got
                }
                guard got > 0 else { throw lost() }
                remaining -= got
            }
        }
    }

    /// Whether `line` is a tagged answer or an untagged OK, NO, BAD or BYE ([RFC 3501] 7.1).
    static func isStatusResponse(_ line: [UInt8], tag: String) -> Bool {
        if line.starts(with: tag.utf8), line.count > tag.utf8.count, line[tag.utf8.count] == UInt8(ascii: " ") { return true }
        guard line.starts(with: "* ".utf8) else { return false }
        let word = line.dropFirst(2).prefix { $0 != UInt8(ascii: " ") && $0 != 13 }
        return ["OK", "NO", "BAD", "BYE"].contains(String(decoding: word, as: UTF8.self).uppercased())
    }

    /// n when the bytes end with a literal's announcement `{n}` CRLF ([RFC 3501] 4.3).
    static func literalLength(endingAt bytes: [UInt8]) -> Int? {
        var at = bytes.count - 3
        guard at > 0, bytes[at] == UInt8(ascii: "}"), bytes[at + 1] == 13, bytes[at + 2] == 10 else { return nil }
        at -= 1
        if bytes[at] == UInt8(ascii: "+") { at -= 1 }
        var value = 0
        var scale = 1
        while at >= 0, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") {
            // More than 10 digits is more than any literal we would read.
            guard scale <= 1_000_000_000 else { return Int.max }
            value += Int(bytes[at] - UInt8(ascii: "0")) * scale
            scale *= 10
            at -= 1
        }
        guard scale > 1, at >= 0, bytes[at] == UInt8(ascii: "{") else { return nil }
        return value
    }

    static func excerpt(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(80), as: UTF8.self).debugDescription
    }
}

/// `tag SP (OK / NO / BAD) [SP "[" code … "]"] SP text` ([RFC 3501] 7.1).
struct TaggedAnswer {
    /// OK, NO or BAD.
    var status: String
    /// The resp-text-code's name, upper-case.
    var code: String?
    var text: String

    init?(_ line: [UInt8], tag: String) {
        let tagBytes = Array(tag.utf8)
        guard line.count > tagBytes.count, line.starts(with: tagBytes), line[tagBytes.count] == UInt8(ascii: " ") else {
            return nil
        }
        var rest = line[(tagBytes.count + 1)...]
        while let last = rest.last, last == 13 || last == 10 { rest = rest.dropLast() }
        let word = rest.prefix { $0 != UInt8(ascii: " ") }
        status = String(decoding: word, as: UTF8.self).uppercased()
        guard ["OK", "NO", "BAD"].contains(status) else { return nil }
        rest = rest.dropFirst(word.count).drop { $0 == UInt8(ascii: " ") }
        if rest.first == UInt8(ascii: "[") {
            let name = rest.dropFirst().prefix { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "]") }
            code = String(decoding: name, as: UTF8.self).uppercased()
        }
        text = String(decoding: rest, as: UTF8.self)
    }
}
