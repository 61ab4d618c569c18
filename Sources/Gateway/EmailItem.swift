import EASProtocol
import MailUpstream
import NIOCore

/// How one message's body is sent: which part, as which [MS-ASAIRS] type, cut where.
struct BodyChoice: Hashable, Sendable {
    /// 1 plain text, 2 HTML, 4 MIME.
    var type: Int
    /// The part to fetch; nil for the whole message (type 4).
    var part: MIMEPart?
    /// The part is plain text to be shown as HTML, or HTML to be shown as plain text.
    var convert: Bool
    var truncation: Int?
    var allOrNone: Bool
    var preview: Int?

    /// Most body bytes sent without a truncation size: larger bodies are cut and marked.
    static let largestUntruncatedBody = 16 * 1024 * 1024

    /// The client's preferences against what the message has ([MS-ASAIRS] 3.2.5.1): HTML when
    /// asked for, else plain text, else MIME.
    static func choose(for summary: MessageSummary, preferences: [BodyPreference]) -> BodyChoice {
        func firstBody(_ mediaType: String) -> MIMEPart? {
            summary.structure?.firstPart { !$0.isMultipart && $0.disposition != "attachment" && $0.mediaType == mediaType }
        }
        let plain = firstBody("text/plain")
        let html = firstBody("text/html")
        let wanted = Dictionary(preferences.map { ($0.type, $0) }, uniquingKeysWith: { first, _ in first })
        func choice(_ type: Int, _ part: MIMEPart?, convert: Bool) -> BodyChoice {
            let preference = wanted[type] ?? preferences.first
            return BodyChoice(type: type, part: part, convert: convert, truncation: preference?.truncationSize,
                              allOrNone: preference?.allOrNone ?? false, preview: preference?.preview)
        }
        if wanted[2] != nil, let html { return choice(2, html, convert: false) }
        if wanted[1] != nil || (wanted[2] == nil && wanted[4] == nil) {
            if let plain { return choice(1, plain, convert: false) }
            if let html { return choice(1, html, convert: true) }
        }
        if wanted[2] != nil, let plain { return choice(2, plain, convert: true) }
        if wanted[4] != nil { return choice(4, nil, convert: false) }
        // Nothing textual (an image-only message): an empty plain body.
        return choice(1, plain ?? html, convert: false)
    }

    /// What to fetch: enough encoded bytes to fill the truncation size after decoding.
    func partRequest(uid: UInt32) -> PartRequest {
        guard let part else {
            let limit = min(truncation ?? Self.largestUntruncatedBody, Self.largestUntruncatedBody)
            return PartRequest(uid: uid, section: nil, range: 0..<max(1, limit))
        }
        let decodedLimit = min(truncation ?? Self.largestUntruncatedBody, Self.largestUntruncatedBody)
        // Quoted-printable can take three bytes per character, base64 four per three.
        let encodedLimit = decodedLimit * 3 + 4096
        return PartRequest(uid: uid, section: part.section, range: 0..<max(1, encodedLimit))
    }
}

/// Email items ([MS-ASEMAIL]) as Sync and ItemOperations send them.
struct EmailItem {
    var summary: MessageSummary
    var folderId: String
    var choice: BodyChoice
    /// The fetched bytes of the chosen part, or nil if they could not be fetched.
    var bytes: [UInt8]?
    /// The meeting invitation the message carries, if any.
    var invitation: Invitation?

    /// [MS-ASEMAIL] 2.2.2 properties in the order Exchange sends them.
    func applicationData(version: EASProtocolVersion, codec: any MIMECodec) -> [EASElement] {
        typealias E = EASTag.Email
        typealias B = EASTag.AirSyncBase
        let envelope = summary.envelope
        var fields: [EASElement] = []
        if !envelope.to.isEmpty { fields.append(EASElement(E.to, text: Self.addressList(envelope.to))) }
        if !envelope.cc.isEmpty { fields.append(EASElement(E.cc, text: Self.addressList(envelope.cc))) }
        if let from = envelope.from.first { fields.append(EASElement(E.from, text: Self.addressList([from]))) }
        fields.append(EASElement(E.subject, text: envelope.subject ?? ""))
        fields.append(EASElement(E.dateReceived, text: EASDate.string(milliseconds: summary.internalDate)))
        fields.append(EASElement(E.displayTo, text: envelope.to.map { $0.name ?? $0.address }.joined(separator: "; ")))
        fields.append(EASElement(E.threadTopic, text: summary.headers["thread-topic"] ?? Self.threadTopic(envelope.subject)))
        fields.append(EASElement(E.importance, text: String(Self.importance(summary.headers))))
        fields.append(EASElement(E.read, text: summary.flags.contains("\\Seen") ? "1" : "0"))
        fields.append(body(codec: codec, version: version))
        let attachments = Self.attachments(of: summary, folderId: folderId)
        if !attachments.isEmpty { fields.append(EASElement(B.attachments, children: attachments)) }
        let meetingClass = invitation.flatMap { Self.meetingMessageClass[$0.method] }
        fields.append(EASElement(E.messageClass, text: meetingClass ?? "IPM.Note"))
        if meetingClass != nil, let invitation { fields.append(Self.meetingRequest(invitation, version: version)) }
        fields.append(EASElement(E.internetCPID, text: "65001"))
        fields.append(Self.flag(summary.flags))
        fields.append(EASElement(E.contentClass, text: meetingClass == nil ? "urn:content-classes:message"
                                     : "urn:content-classes:calendarmessage"))
        fields.append(EASElement(B.nativeBodyType, text: Self.nativeBodyType(summary)))
        if version >= .v14_0 {
            fields.append(EASElement(EASTag.Email2.conversationId, .opaque(ByteBuffer(bytes: ConversationId.of(summary)))))
            fields.append(EASElement(EASTag.Email2.conversationIndex,
                                     .opaque(ByteBuffer(bytes: ConversationId.index(summary.internalDate)))))
            if let verb = Self.lastVerb(summary.flags) {
                fields.append(EASElement(EASTag.Email2.lastVerbExecuted, text: String(verb)))
            }
            if let categories = Self.categories(summary.flags, evenIfNone: false) { fields.append(categories) }
        }
        return fields
    }

    /// [MS-ASAIRS] 2.2.2.9 Body: Type, EstimatedDataSize, Truncated, Data, Preview, in that order.
    func body(codec: any MIMECodec, version: EASProtocolVersion) -> EASElement {
        typealias B = EASTag.AirSyncBase
        let content = BodyContent.make(choice: choice, summary: summary, bytes: bytes, codec: codec)
        var children = [
            EASElement(B.type, text: String(choice.type)),
            EASElement(B.estimatedDataSize, text: String(content.estimatedSize)),
        ]
        let withholdAll = choice.allOrNone && content.truncated
        if content.truncated { children.append(EASElement(B.truncated, text: "1")) }
        if !withholdAll {
            switch content.data {
            case .text(let text): children.append(EASElement(B.data, text: text))
            case .bytes(let bytes): children.append(EASElement(B.data, .opaque(ByteBuffer(bytes: bytes))))
            }
        }
        if version >= .v14_0, let length = choice.preview, length > 0 {
            children.append(EASElement(B.preview, text: String(content.previewText.prefix(min(length, 255)))))
        }
        return EASElement(B.body, children: children)
    }

    static func addressList(_ addresses: [MailAddress]) -> String {
        addresses.map { address in
            guard let name = address.name, !name.isEmpty else { return address.address }
            // Most names need no escaping; looking first saves two copies per address.
            let needsEscaping = name.utf8.contains { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") }
            let escaped = needsEscaping ? name.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") : name
            return "\"\(escaped)\" <\(address.address)>"
        }.joined(separator: ", ")
    }

    static func threadTopic(_ subject: String?) -> String {
        var topic = Substring(subject ?? "")
        while let prefix = replyPrefixes.first(where: { startsIgnoringASCIICase(topic, with: $0) }) {
            topic = topic.dropFirst(prefix.count).drop { $0 == " " }
        }
        return String(topic)
    }

    private static let replyPrefixes = ["re:", "fw:", "fwd:", "aw:", "wg:", "sv:", "vs:"]

    /// Whether `text` begins with `prefix` (lower-case ASCII) in any case; without lower-casing
    /// the whole subject once per prefix.
    private static func startsIgnoringASCIICase(_ text: Substring, with prefix: String) -> Bool {
        var bytes = text.utf8.makeIterator()
        for expected in prefix.utf8 {
            guard let byte = bytes.next() else { return false }
            let lowered = byte >= 65 && byte <= 90 ? byte + 32 : byte
            if lowered != expected { return false }
        }
        return true
    }

    /// [MS-ASEMAIL] 2.2.2.39 Importance: 0 low, 1 normal, 2 high.
    static func importance(_ headers: [String: String]) -> Int {
        if let value = headers["importance"]?.lowercased() {
            if value.hasPrefix("high") { return 2 }
            if value.hasPrefix("low") { return 0 }
        }
        if let value = headers["x-priority"]?.first {
            if value == "1" || value == "2" { return 2 }
            if value == "4" || value == "5" { return 0 }
        }
        if let value = headers["priority"]?.lowercased() {
            if value.hasPrefix("urgent") { return 2 }
            if value.hasPrefix("non-urgent") { return 0 }
        }
        return 1
    }

    /// [MS-ASEMAIL] 2.2.2.33 Flag from `\Flagged`.
    static func flag(_ flags: [String]) -> EASElement {
        guard flags.contains("\\Flagged") else { return EASElement(EASTag.Email.flag) }
        return EASElement(EASTag.Email.flag, children: [
            EASElement(EASTag.Email.status, text: "2"),
            EASElement(EASTag.Email.flagType, text: "Flag for follow up"),
        ])
    }

    /// [MS-ASEMAIL] 2.2.2.13 Categories from the IMAP keywords (not `$…` system keywords);
    /// nil when there are none and `evenIfNone` is false (a Change must clear them instead).
    static func categories(_ flags: [String], evenIfNone: Bool) -> EASElement? {
        let names = flags.filter { !$0.hasPrefix("\\") && !$0.hasPrefix("$") }
        guard !names.isEmpty || evenIfNone else { return nil }
        return EASElement(EASTag.Email.categories, children: names.map { EASElement(EASTag.Email.category, text: $0) })
    }

    /// [MS-ASEMAIL] 2.2.2.46 LastVerbExecuted: 1 reply to sender, 3 forward.
    static func lastVerb(_ flags: [String]) -> Int? {
        if flags.contains("$Forwarded") { return 3 }
        if flags.contains("\\Answered") { return 1 }
        return nil
    }

    static func nativeBodyType(_ summary: MessageSummary) -> String {
        summary.structure?.firstPart { $0.mediaType == "text/html" } != nil ? "2" : "1"
    }

    /// [MS-ASAIRS] 2.2.2.7 Attachment, for every part that is not the body.
    static func attachments(of summary: MessageSummary, folderId: String) -> [EASElement] {
        typealias B = EASTag.AirSyncBase
        guard let root = summary.structure, root.isMultipart else { return [] }
        let body = BodyChoice.choose(for: summary, preferences: [BodyPreference(type: 2)]).part?.section
        let plainBody = BodyChoice.choose(for: summary, preferences: [BodyPreference(type: 1)]).part?.section
        var result: [EASElement] = []
        let all = root.allParts
        // Parts inside an attached message travel with it.
        let attachedMessages = all.filter { $0.mediaType == "message/rfc822" }.map { $0.section + "." }
        for part in all where !part.isMultipart && part.section != body && part.section != plainBody {
            if attachedMessages.contains(where: { part.section.hasPrefix($0) }) { continue }
            let isText = part.type == "text" && part.disposition != "attachment" && part.fileName == nil
            if isText { continue }
            let inline = part.disposition == "inline" || (part.disposition == nil && part.contentId != nil)
            var children = [
                EASElement(B.displayName, text: part.fileName ?? Self.defaultName(part)),
                EASElement(B.fileReference, text: FileReference(folderId: folderId, uid: summary.uid, section: part.section).text),
                EASElement(B.method, text: "1"),
                EASElement(B.estimatedDataSize, text: String(part.encoding == "base64" ? part.size / 4 * 3 : part.size)),
            ]
            if let id = part.contentId {
                children.append(EASElement(B.contentId, text: id.trimmingCharacters(in: ["<", ">"])))
            }
            if inline { children.append(EASElement(B.isInline, text: "1")) }
            result.append(EASElement(B.attachment, children: children))
        }
        return result
    }

    static func defaultName(_ part: MIMEPart) -> String {
        if part.mediaType == "message/rfc822" { return (part.envelope?.subject ?? "message") + ".eml" }
        return "attachment-\(part.section).\(part.subtype)"
    }
}

extension String {
    func trimmingCharacters(in characters: Set<Character>) -> String {
        var text = Substring(self)
        while let first = text.first, characters.contains(first) { text.removeFirst() }
        while let last = text.last, characters.contains(last) { text.removeLast() }
        return String(text)
    }
}

/// An attachment's reference: folder, UID and part, checked against the requesting account
/// when used (the folder id is looked up among that account's folders only).
struct FileReference: Hashable, Sendable {
    var folderId: String
    var uid: UInt32
    var section: String

    var text: String { "\(folderId):\(uid):\(section)" }

    /// Longest reference accepted from a client.
    static let maxLength = 128

    init(folderId: String, uid: UInt32, section: String) {
        self.folderId = folderId
        self.uid = uid
        self.section = section
    }

    init?(_ text: String) {
        guard text.utf8.count <= Self.maxLength else { return nil }
        let pieces = text.split(separator: ":", omittingEmptySubsequences: false)
        guard pieces.count == 3, !pieces[0].isEmpty, let uid = UInt32(pieces[1]), uid > 0,
              !pieces[2].isEmpty, pieces[2].allSatisfy({ $0.isNumber || $0 == "." })
        else { return nil }
        self.init(folderId: String(pieces[0]), uid: uid, section: String(pieces[2]))
    }
}

/// A Sync ServerId: folder and UID.
struct ItemId: Hashable, Sendable {
    var folderId: String
    var uid: UInt32

    var text: String { "\(folderId):\(uid)" }

    init(folderId: String, uid: UInt32) {
        self.folderId = folderId
        self.uid = uid
    }

    init?(_ text: String) {
        guard text.utf8.count <= 64 else { return nil }
        let pieces = text.split(separator: ":", omittingEmptySubsequences: false)
        guard pieces.count == 2, !pieces[0].isEmpty, let uid = UInt32(pieces[1]), uid > 0 else { return nil }
        self.init(folderId: String(pieces[0]), uid: uid)
    }
}

/// ISO 8601 dates as EAS writes them: `2026-11-23T09:41:00.000Z`.
enum EASDate {
    static func string(milliseconds: Int64) -> String {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let millis = milliseconds - seconds * 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let (year, month, day) = CivilDate.date(days: days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let milli = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(year)-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60)).\(milli)Z"
    }
}

/// [MS-ASEMAIL] 2.2.2.14 ConversationId and 2.2.2.15 ConversationIndex, derived from the
/// thread's first Message-ID so that every message of a thread carries the same id.
enum ConversationId {
    static func of(_ summary: MessageSummary) -> [UInt8] {
        let root = summary.references.first ?? summary.envelope.inReplyTo ?? summary.envelope.messageId
            ?? "subject:" + EmailItem.threadTopic(summary.envelope.subject)
        return hash(Array(root.utf8), seed: 0xcbf2_9ce4_8422_2325) + hash(Array(root.utf8), seed: 0x8422_2325_cbf2_9ce4)
    }

    /// Five bytes: a header with the message's time in 100 ns units, as Exchange's index starts.
    static func index(_ milliseconds: Int64) -> [UInt8] {
        let fileTime = UInt64(max(0, milliseconds + 11_644_473_600_000)) * 10_000
        return (0..<5).map { UInt8(truncatingIfNeeded: fileTime >> (56 - 8 * UInt64($0))) }
    }

    // FNV-1a, 64 bits: stable across runs and machines (unlike Swift's Hasher).
    private static func hash(_ bytes: [UInt8], seed: UInt64) -> [UInt8] {
        var value = seed
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01B3
        }
        return (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }
}
