import EASClient
import EASProtocol
import Foundation

/// Something a probe saw: a `violation` breaks a real client (the probe exits non-zero), a
/// `warning` is legal but known to trouble some client, a `note` is for the reader.
public struct ProbeFinding: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable, Comparable {
        case note, warning, violation

        public static func < (lhs: Self, rhs: Self) -> Bool {
            let order: [Severity] = [.note, .warning, .violation]
            return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
        }
    }

    public var severity: Severity
    public var text: String

    public init(_ severity: Severity, _ text: String) {
        self.severity = severity
        self.text = text
    }

    public var description: String { "\(severity.rawValue): \(text)" }
}

/// The rules a server's answers are held to, each from [MS-ASHTTP], [MS-ASCMD], [MS-ASAIRS]
/// or [MS-ASPROV], or from what a real client does with a mistake. Pure: answers in,
/// findings out.
public enum ProbeChecks {
    typealias AS = EASTag.AirSync
    typealias ASB = EASTag.AirSyncBase

    static let wbxmlContentType = "application/vnd.ms-sync.wbxml"

    // MARK: HTTP ([MS-ASHTTP])

    /// Status codes, framing and content type of any EAS answer. `expectsWBXML`: a 200 with
    /// a body must be WBXML (every command but ItemOperations multipart and GetAttachment).
    public static func http(_ response: HTTPExchangeResponse, expectsWBXML: Bool = true) -> [ProbeFinding] {
        var findings: [ProbeFinding] = []
        if response.status == 200, response.body.isEmpty, expectsWBXML {
            // The 14.0+ "nothing changed" Sync: iOS ignores it as text/html or gzip.
            if let type = response.header("Content-Type")?.lowercased(), !type.hasPrefix(wbxmlContentType) {
                findings.append(ProbeFinding(.violation, "an empty answer as \(type): iOS ignores an empty Sync that is "
                    + "not \(wbxmlContentType)"))
            }
            if response.header("Content-Encoding")?.lowercased().contains("gzip") == true {
                findings.append(ProbeFinding(.violation, "an empty answer gzip-encoded: iOS ignores it"))
            }
        }
        switch response.status {
        case 500...599 where response.status != 503:
            findings.append(ProbeFinding(.violation, "HTTP \(response.status): an EAS server answers 503 with Retry-After "
                + "when it cannot serve; repeated 500s make iOS discard its copy and reload everything"))
        case 503 where response.header("Retry-After") == nil:
            findings.append(ProbeFinding(.violation, "HTTP 503 without Retry-After ([MS-ASHTTP] 2.2.2.1.1)"))
        case 401 where !(response.header("WWW-Authenticate")?.lowercased().hasPrefix("basic") ?? false):
            findings.append(ProbeFinding(.violation, "HTTP 401 without WWW-Authenticate: Basic: clients cannot ask for the password"))
        default:
            break
        }
        if response.chunked {
            findings.append(ProbeFinding(.warning, "chunked response: clients show no progress; "
                + "[MS-ASHTTP] answers carry Content-Length"))
        } else if response.header("Content-Length") == nil {
            findings.append(ProbeFinding(.violation, "no Content-Length and not chunked: the client cannot tell a "
                + "complete answer from a cut one"))
        }
        if response.status == 200, !response.body.isEmpty, expectsWBXML {
            let type = response.header("Content-Type")?.lowercased() ?? "(none)"
            if !type.hasPrefix(wbxmlContentType) {
                findings.append(ProbeFinding(.violation, "Content-Type \(type) for a WBXML answer (\(wbxmlContentType) expected)"))
            }
            findings += wbxml(response.body)
        }
        return findings
    }

    /// [MS-ASWBXML]: version 1.3, public id 1, UTF-8, no string table.
    public static func wbxml(_ body: [UInt8]) -> [ProbeFinding] {
        guard body.count >= 4 else { return [ProbeFinding(.violation, "WBXML body shorter than its header")] }
        let header = Array(body.prefix(4))
        guard header == [0x03, 0x01, 0x6A, 0x00] else {
            let hex = header.map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
            return [ProbeFinding(.violation, "WBXML header is \(hex), not 03 01 6A 00 (1.3, public id 1, UTF-8, no string table)")]
        }
        return []
    }

    /// An answer whose body does not decode with [MS-ASWBXML]'s code pages.
    public static func undecodable(_ error: any Error) -> ProbeFinding {
        ProbeFinding(.violation, "the body does not decode with [MS-ASWBXML]'s token tables (\(error)): a wrong token "
            + "makes a client drop the item or the whole answer")
    }

    // MARK: OPTIONS

    /// [MS-ASHTTP] 2.2.4: the headers OPTIONS answers with.
    public static func options(_ response: HTTPExchangeResponse) -> (versions: [EASProtocolVersion], findings: [ProbeFinding]) {
        var findings: [ProbeFinding] = []
        guard response.status == 200 else {
            return ([], [ProbeFinding(.violation, "OPTIONS answered HTTP \(response.status), not 200")])
        }
        if response.header("MS-Server-ActiveSync") == nil {
            findings.append(ProbeFinding(.warning, "OPTIONS has no MS-Server-ActiveSync header"))
        }
        var versions: [EASProtocolVersion] = []
        if let list = response.header("MS-ASProtocolVersions") {
            for word in list.split(separator: ",").map(trimmed) {
                if let version = EASProtocolVersion(headerValue: word) {
                    versions.append(version)
                } else if !["1.0", "2.0", "2.1", "2.5"].contains(word) {
                    findings.append(ProbeFinding(.violation, "MS-ASProtocolVersions lists \"\(word)\", which is no EAS version"))
                }
            }
            let thunderbird: Set<String> = ["16.1", "14.1", "14.0", "2.5"]
            if !list.split(separator: ",").contains(where: { thunderbird.contains(trimmed($0)) }) {
                findings.append(ProbeFinding(.warning, "none of 16.1, 14.1, 14.0, 2.5 offered: Thunderbird (EAS-4-TbSync) gives up"))
            }
        } else {
            findings.append(ProbeFinding(.violation, "OPTIONS has no MS-ASProtocolVersions header: clients cannot pick a version"))
        }
        if let commands = response.header("MS-ASProtocolCommands") {
            let listed = Set(commands.split(separator: ",").map(trimmed))
            let needed = ["Sync", "FolderSync", "Ping", "Provision", "ItemOperations", "SendMail"].filter { !listed.contains($0) }
            if !needed.isEmpty {
                findings.append(ProbeFinding(.warning, "MS-ASProtocolCommands lacks \(needed.joined(separator: ", "))"))
            }
        } else {
            findings.append(ProbeFinding(.violation, "OPTIONS has no MS-ASProtocolCommands header"))
        }
        return (versions, findings)
    }

    static func trimmed(_ text: Substring) -> String { text.trimmingCharacters(in: .whitespaces) }

    // MARK: Provision ([MS-ASPROV])

    /// The first Provision answer: its temporary policy key.
    public static func provisionOffer(_ element: EASElement?) -> [ProbeFinding] {
        typealias P = EASTag.Provision
        guard let element, element.tag == P.provision else {
            return [ProbeFinding(.violation, "Provision answered without a Provision element")]
        }
        guard let key = element.child(P.policies)?.child(P.policy)?.child(P.policyKey)?.text else {
            let status = element.child(P.status)?.text ?? "none"
            return [ProbeFinding(.warning, "Provision gave no policy key (Status \(status))")]
        }
        if key == "0" {
            return [ProbeFinding(.violation, "temporary PolicyKey 0: 0 means \"no policy\" and clients loop on it ([MS-ASPROV] 3.2.5.1.2)")]
        }
        return []
    }

    // MARK: FolderSync

    /// A FolderSync from key 0: folder ids unique, the Inbox present, what Android needs.
    public static func folderSync(_ element: EASElement?) -> [ProbeFinding] {
        typealias FH = EASTag.FolderHierarchy
        guard let element, element.tag == FH.folderSync else {
            return [ProbeFinding(.violation, "FolderSync answered without a FolderSync element")]
        }
        guard element.child(FH.status)?.text == "1" else {
            return [ProbeFinding(.violation, "FolderSync 0 answered Status \(element.child(FH.status)?.text ?? "none")")]
        }
        var findings: [ProbeFinding] = []
        if let key = element.child(FH.syncKey)?.text, key.utf8.count > 64 {
            findings.append(ProbeFinding(.violation, "FolderSync key longer than 64 characters"))
        }
        let adds = element.child(FH.changes)?.children(FH.add) ?? []
        let ids = adds.compactMap { $0.child(FH.serverId)?.text }
        if Set(ids).count != ids.count {
            findings.append(ProbeFinding(.violation, "FolderSync lists a folder ServerId twice"))
        }
        let types = Set(adds.compactMap { $0.child(FH.type)?.text })
        if !types.contains("2") {
            findings.append(ProbeFinding(.violation, "no Inbox (folder type 2): clients have nowhere to put new mail"))
        }
        for (type, name) in [("3", "Drafts"), ("6", "Outbox")] where !types.contains(type) {
            findings.append(ProbeFinding(.warning, "no \(name) folder (type \(type)): Android clients need it"))
        }
        return findings
    }

    // MARK: Sync ([MS-ASCMD] 2.2.1.21)

    /// What the probe asked in one Sync of one collection.
    public struct SyncAsked: Sendable {
        public var syncKey: String
        public var windowSize: Int
        public var truncationSize: Int?
        public var previewSize: Int?

        public init(syncKey: String, windowSize: Int = 100, truncationSize: Int? = nil, previewSize: Int? = nil) {
            self.syncKey = syncKey
            self.windowSize = windowSize
            self.truncationSize = truncationSize
            self.previewSize = previewSize
        }
    }

    /// A Sync answer's shape and contents.
    public static func sync(_ element: EASElement?, version: EASProtocolVersion, asked: SyncAsked) -> [ProbeFinding] {
        guard let element else {
            // An empty 200 is the 14.0+ "nothing changed" answer; not for key 0.
            return asked.syncKey == "0" ? [ProbeFinding(.violation, "empty answer to Sync with SyncKey 0")] : []
        }
        guard element.tag == AS.sync else { return [ProbeFinding(.violation, "Sync answered with \(element.tag)")] }
        var findings: [ProbeFinding] = []
        for child in element.children where ![AS.status, AS.collections, AS.limit].contains(child.tag) {
            findings.append(ProbeFinding(.violation, "\(child.tag) directly under Sync: only Status, Limit and Collections "
                + "belong there (an iPhone never gets past SyncKey 0)"))
        }
        for collection in element.child(AS.collections)?.children(AS.collection) ?? [] {
            findings += syncCollection(collection, version: version, asked: asked)
        }
        return findings
    }

    static func syncCollection(_ collection: EASElement, version: EASProtocolVersion, asked: SyncAsked) -> [ProbeFinding] {
        var findings: [ProbeFinding] = []
        if collection.child(AS.class) != nil, version >= .v14_0 {
            findings.append(ProbeFinding(.violation, "Class inside Collection at \(version): only up to 12.1 ([MS-ASCMD] R6319); "
                + "iOS and Outlook stop syncing"))
        }
        if let key = collection.child(AS.syncKey)?.text, key.utf8.count > 64 {
            findings.append(ProbeFinding(.violation, "SyncKey longer than 64 characters ([MS-ASCMD] 2.2.3.166.4)"))
        }
        if collection.child(AS.syncKey) == nil, collection.child(AS.status)?.text == "1" {
            findings.append(ProbeFinding(.violation, "a successful Collection without SyncKey"))
        }
        let commands = collection.child(AS.commands)
        if asked.syncKey == "0", commands != nil {
            findings.append(ProbeFinding(.violation, "Commands in the answer to SyncKey 0 ([MS-ASCMD] 2.2.3.166.4: a new key, "
                + "no items)"))
        }
        let items = (commands?.children ?? []).filter { [AS.add, AS.change, AS.delete, AS.softDelete].contains($0.tag) }
        if items.count > asked.windowSize {
            findings.append(ProbeFinding(.violation, "\(items.count) items for WindowSize \(asked.windowSize)"))
        }
        if asked.syncKey != "0", items.count < asked.windowSize, collection.child(AS.moreAvailable) != nil, !items.isEmpty {
            findings.append(ProbeFinding(.note, "MoreAvailable with \(items.count) of \(asked.windowSize) items (a byte budget?)"))
        }
        for add in commands?.children(AS.add) ?? [] {
            if let body = add.child(AS.applicationData)?.child(ASB.body) {
                findings += self.body(body, asked: asked)
            }
        }
        return findings
    }

    /// [MS-ASAIRS] 2.2.2.9: Body's children in schema order, Preview no longer than asked.
    public static func body(_ body: EASElement, asked: SyncAsked) -> [ProbeFinding] {
        var findings: [ProbeFinding] = []
        let order = [ASB.type, ASB.estimatedDataSize, ASB.truncated, ASB.data, EASTag.ItemOperations.part, ASB.preview]
        let positions = body.children.compactMap { child in order.firstIndex(of: child.tag) }
        if positions != positions.sorted() {
            findings.append(ProbeFinding(.violation, "Body children out of order (\(body.children.map(\.tag.name).joined(separator: ", "))); "
                + "the schema has Type, EstimatedDataSize, Truncated, Data, Part, Preview"))
        }
        for child in body.children where !order.contains(child.tag) {
            findings.append(ProbeFinding(.violation, "\(child.tag) inside Body: a token from the wrong position of code page 17?"))
        }
        if let preview = body.child(ASB.preview)?.text {
            if let asked = asked.previewSize, preview.count > asked {
                findings.append(ProbeFinding(.violation, "Preview of \(preview.count) characters, \(asked) asked"))
            } else if asked.previewSize == nil {
                findings.append(ProbeFinding(.violation, "Preview sent though none was asked"))
            }
        }
        if let limit = asked.truncationSize, body.child(ASB.type)?.text != "4", let data = body.child(ASB.data)?.text,
           data.utf8.count > limit {
            findings.append(ProbeFinding(.violation, "Body Data of \(data.utf8.count) bytes for TruncationSize \(limit)"))
        }
        return findings
    }

    /// A repeated Sync request (the client never got the first answer): the same items and
    /// the same new key ([MS-ASCMD] R5106, R5122).
    public static func replay(_ first: EASElement?, _ second: EASElement?) -> [ProbeFinding] {
        func summary(_ element: EASElement?) -> (key: String?, ids: [String]) {
            let collection = element?.child(AS.collections)?.child(AS.collection)
            let ids = (collection?.child(AS.commands)?.children ?? []).compactMap { $0.child(AS.serverId)?.text }
            return (collection?.child(AS.syncKey)?.text, ids)
        }
        let (a, b) = (summary(first), summary(second))
        if b.key == nil, second?.child(AS.collections)?.child(AS.collection)?.child(AS.status)?.text == "3" {
            return [ProbeFinding(.violation, "a repeated SyncKey answered Status 3: a client that lost one answer starts "
                + "over from scratch ([MS-ASCMD] R5106)")]
        }
        // The new key may differ (the client takes whichever it gets last); the items may not.
        if a.ids != b.ids {
            return [ProbeFinding(.warning, "a repeated Sync request got different items (\(a.ids.count) → \(b.ids.count)): "
                + "items may be lost or doubled when an answer is lost")]
        }
        return []
    }

    // MARK: Ping

    /// [MS-ASCMD] 2.2.3.162.12: Ping statuses.
    public static func ping(_ element: EASElement?) -> [ProbeFinding] {
        typealias PG = EASTag.Ping
        guard let element, element.tag == PG.ping, let status = element.child(PG.status)?.text else {
            return [ProbeFinding(.violation, "Ping answered without Ping/Status")]
        }
        switch status {
        case "1", "2": return []
        case "5":
            let bound = element.child(PG.heartbeatInterval)?.text
            return [bound == nil ? ProbeFinding(.violation, "Ping Status 5 without the HeartbeatInterval allowed")
                : ProbeFinding(.note, "heartbeat out of the server's bounds; it allows \(bound!) s")]
        case "6" where element.child(PG.maxFolders) == nil:
            return [ProbeFinding(.violation, "Ping Status 6 without MaxFolders")]
        case "3", "4", "6", "7", "8", "9": return [ProbeFinding(.note, "Ping Status \(status)")]
        default: return [ProbeFinding(.violation, "Ping Status \(status) is not one [MS-ASCMD] defines")]
        }
    }
}
