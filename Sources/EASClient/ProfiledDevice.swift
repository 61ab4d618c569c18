import EASProtocol
import NIOCore

/// A device that behaves like `profile`: the requests it sends, its SyncKeys and the items it
/// holds per folder, and its reactions to statuses (provision on 449/142–144, key 0 on
/// Sync Status 3, FolderSync on 12, wait on 503). It refuses to hold an item twice, so a
/// server that sends an Add again, or skips one, shows up as an error or a missing item.
public struct ProfiledDevice: Sendable {
    public struct Folder: Sendable, Hashable {
        public var serverId: String
        public var name: String
        public var type: Int
    }

    /// A network fault the device meets during a Sync.
    public enum Fault: Sendable, Hashable {
        /// The answer is lost (connection cut): the same request goes again.
        case lostAnswer
        /// The device gives up waiting at once (the server still works on it), waits a
        /// moment and sends the same request again.
        case timeout
        /// The same request goes out twice; the device applies the second answer.
        case duplicateRequest
        /// The connection drops in the middle of the answer (after 1,000 bytes of it): the
        /// same request goes again.
        case cutResponse
    }

    public let profile: ClientProfile
    public private(set) var device: EASDevice
    public private(set) var folders: [Folder] = []
    public private(set) var folderKey = "0"
    public private(set) var syncKeys: [String: String] = [:]
    /// The items the device holds, by folder.
    public private(set) var held: [String: Set<String>] = [:]
    /// Every WBXML answer, in order (for an independent decoder to check).
    public private(set) var answers: [HTTPExchangeResponse] = []
    /// How often the server sent the device back to key 0 (Status 3).
    public private(set) var resets = 0

    public init(profile: ClientProfile, host: String, port: Int, user: String, password: String, deviceId: String) {
        self.profile = profile
        device = EASDevice(exchange: HTTPExchange(host: host, port: port, timeout: profile.readTimeout), user: user,
                           password: password, deviceId: deviceId, deviceType: profile.deviceType, version: profile.version,
                           userAgent: profile.userAgent)
    }

    public func folder(type: Int) -> Folder? { folders.first { $0.type == type } }
    public func folder(named name: String) -> Folder? { folders.first { $0.name == name } }

    // MARK: Requests, with the client's reactions

    /// Sends one request as the profile encodes it; reacts to "provision first" and "busy".
    public mutating func send(_ command: String, _ body: EASElement?, timeout: Duration? = nil, cutAfter: Int? = nil) async throws
        -> EASDevice.Answer
    {
        for _ in 0..<4 {
            var bytes: [UInt8] = []
            if let body {
                var buffer = try body.wbxml()
                bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
                if profile.annotatesRequests { bytes = Self.annotated(bytes) }
            }
            var sender = device
            if let timeout { sender.exchange.timeout = timeout }
            sender.exchange.cutAfterBodyBytes = cutAfter
            let response = try await sender.post(command, bytes: bytes)
            var element: EASElement?
            if response.status == 200, !response.body.isEmpty,
               response.header("Content-Type")?.lowercased().contains("wbxml") == true {
                element = try EASDecoder.decode(ByteBuffer(bytes: response.body))
                answers.append(response)
            }
            let answer = EASDevice.Answer(http: response, element: element)
            let inBand = element?.children.first { $0.tag.name == "Status" }?.text
            if profile.provisions, response.status == 449 || ["142", "143", "144"].contains(inBand ?? ""), command != "Provision" {
                try await provision()
                continue
            }
            if response.status == 503 {
                let wait = Int(response.header("Retry-After") ?? "") ?? 1
                try await Task.sleep(for: .seconds(min(max(wait, 1), 5)))
                continue
            }
            return answer
        }
        throw EASClientError("\(profile): \(command) kept being refused")
    }

    /// Outlook's page-0xFE annotation, put inside the root element: SWITCH_PAGE 0xFE, an
    /// empty tag, SWITCH_PAGE back.
    static func annotated(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count > 5 else { return bytes }
        var index = 4
        var page: UInt8 = 0
        if bytes[index] == 0x00 {
            page = bytes[index + 1]
            index += 2
        }
        guard index < bytes.count, bytes[index] & 0x40 != 0 else { return bytes }
        return Array(bytes[...index]) + [0x00, 0xFE, 0x05, 0x00, page] + Array(bytes[(index + 1)...])
    }

    public mutating func provision() async throws {
        device.policyKey = nil
        let first = try await send("Provision", EASRequests.provision())
        guard let temporary = EASRequests.policyKey(in: first.element) else {
            throw EASClientError("\(profile): Provision gave no temporary key (HTTP \(first.status))")
        }
        device.policyKey = temporary
        let second = try await send("Provision", EASRequests.provision(acknowledging: temporary))
        guard let final = EASRequests.policyKey(in: second.element) else {
            throw EASClientError("\(profile): Provision gave no final key (HTTP \(second.status))")
        }
        device.policyKey = final
    }

    // MARK: Setting up an account

    /// What the client does when the account is added: Autodiscover, OPTIONS, its own
    /// preliminaries, Provision, FolderSync.
    public mutating func setUp() async throws {
        if profile.usesAutodiscover {
            let body = EASDevice.autodiscoverRequest(for: device.user)
            let answer = try await device.exchange.send(method: .POST, path: "/Autodiscover/Autodiscover.xml",
                                                        headers: device.basicAuthorization + [("Content-Type", "text/xml")], body: body)
            guard answer.status == 200, String(decoding: answer.body, as: UTF8.self).contains("<Type>MobileSync</Type>") else {
                throw EASClientError("\(profile): Autodiscover answered HTTP \(answer.status)")
            }
        }
        let options = try await device.options()
        let offered = options.header("MS-ASProtocolVersions")?.split(separator: ",").map(String.init) ?? []
        guard offered.contains(profile.version.rawValue) else {
            throw EASClientError("\(profile): \(profile.version) not offered (\(offered))")
        }
        if profile.validatesFirst {
            // The account check runs as a device of its own, DeviceId "validate".
            var probe = self
            probe.device.deviceId = "validate"
            _ = try await probe.send("FolderSync", EASRequests.folderSync(key: "0"))
        }
        if profile.settingsFirst {
            typealias S = EASTag.Settings
            _ = try await send("Settings", EASElement(S.settings, children: [
                EASElement(S.userInformation, children: [EASElement(S.get)]),
                EASElement(S.deviceInformation, children: [EASElement(S.set, children: [
                    EASElement(S.model, text: profile.deviceType), EASElement(S.userAgent, text: profile.userAgent),
                ])]),
            ]))
        }
        if profile.provisions { try await provision() }
        try await folderSync()
    }

    /// FolderSync from the current key; Status 9 sends it back to 0.
    public mutating func folderSync() async throws {
        typealias FH = EASTag.FolderHierarchy
        let answer = try await send("FolderSync", EASRequests.folderSync(key: folderKey))
        guard let element = answer.element, let status = element.child(FH.status)?.text else {
            throw EASClientError("\(profile): FolderSync answered HTTP \(answer.status)")
        }
        if status == "9" {
            folderKey = "0"
            folders = []
            return try await folderSync()
        }
        guard status == "1", let key = element.child(FH.syncKey)?.text else {
            throw EASClientError("\(profile): FolderSync Status \(status)")
        }
        folderKey = key
        let changes = element.child(FH.changes)
        for add in changes?.children(FH.add) ?? [] {
            guard let id = add.child(FH.serverId)?.text else { continue }
            folders.removeAll { $0.serverId == id }
            folders.append(Folder(serverId: id, name: add.child(FH.displayName)?.text ?? "",
                                  type: Int(add.child(FH.type)?.text ?? "") ?? 0))
        }
        for delete in changes?.children(FH.delete) ?? [] {
            folders.removeAll { $0.serverId == delete.child(FH.serverId)?.text }
        }
    }

    // MARK: Sync

    typealias AS = EASTag.AirSync
    typealias ASB = EASTag.AirSyncBase

    func syncRequest(_ folderId: String, key: String, commands: [EASElement] = []) -> EASElement {
        var children = [EASElement(AS.syncKey, text: key), EASElement(AS.collectionId, text: folderId)]
        if key != "0" {
            children += [EASElement(AS.deletesAsMoves, text: "1"), EASElement(AS.getChanges),
                         EASElement(AS.windowSize, text: String(profile.windowSize))]
            var preference = [EASElement(ASB.type, text: String(profile.bodyType))]
            if let size = profile.truncationSize { preference.append(EASElement(ASB.truncationSize, text: String(size))) }
            var options = [EASElement(ASB.bodyPreference, children: preference)]
            if profile.bodyType == 4 { options.insert(EASElement(AS.mimeSupport, text: "2"), at: 0) }
            children.append(EASElement(AS.options, children: options))
            if !commands.isEmpty { children.append(EASElement(AS.commands, children: commands)) }
        }
        return EASElement(AS.sync, children: [EASElement(AS.collections, children: [EASElement(AS.collection, children: children)])])
    }

    /// What one Sync round brought.
    public struct SyncRound: Sendable {
        public var added: [String] = []
        public var changed: [String] = []
        public var deleted: [String] = []
        public var moreAvailable = false
        public var responses: [EASElement] = []
    }

    /// One Sync of `folderId` carrying `commands`, applied to what the device holds. Faults
    /// make the device send the request again, as the real client would.
    public mutating func syncOnce(_ folderId: String, commands: [EASElement] = [], fault: Fault? = nil) async throws -> SyncRound {
        let key = syncKeys[folderId] ?? "0"
        let request = syncRequest(folderId, key: key, commands: commands)
        var answer: EASDevice.Answer
        switch fault {
        case .lostAnswer?, .duplicateRequest?:
            _ = try await send("Sync", request)
            answer = try await send("Sync", request)
        case .cutResponse?:
            _ = try? await send("Sync", request, cutAfter: 1000)
            answer = try await send("Sync", request)
        case .timeout?:
            _ = try? await send("Sync", request, timeout: .milliseconds(1))
            // Asked again soon, the repeat usually comes while the first request is still
            // being answered: the gateway puts it in line and answers it as a replay.
            try await Task.sleep(for: .milliseconds(200))
            answer = try await send("Sync", request)
        case nil:
            answer = try await send("Sync", request)
        }
        guard answer.status == 200 else { throw EASClientError("\(profile): Sync answered HTTP \(answer.status)") }
        // 14.0+: an empty answer means nothing changed.
        guard let element = answer.element else { return SyncRound() }
        if let status = element.child(AS.status)?.text, status != "1" {
            throw EASClientError("\(profile): Sync Status \(status)")
        }
        guard let collection = element.child(AS.collections)?.children(AS.collection).first(where: {
            $0.child(AS.collectionId)?.text == folderId
        }) else { return SyncRound() }
        switch collection.child(AS.status)?.text {
        case "1": break
        case "3":
            // The client starts the folder over.
            syncKeys[folderId] = "0"
            held[folderId] = []
            resets += 1
            return SyncRound(moreAvailable: true)
        case "12":
            try await folderSync()
            return SyncRound(moreAvailable: true)
        case let status:
            throw EASClientError("\(profile): Sync collection Status \(status ?? "none")")
        }
        guard let newKey = collection.child(AS.syncKey)?.text, newKey != key || key == "0" else {
            throw EASClientError("\(profile): the SyncKey did not advance from \(key)")
        }
        syncKeys[folderId] = newKey
        var round = SyncRound(moreAvailable: collection.child(AS.moreAvailable) != nil,
                              responses: collection.child(AS.responses)?.children ?? [])
        var holding = held[folderId] ?? []
        for command in collection.child(AS.commands)?.children ?? [] {
            guard let id = command.child(AS.serverId)?.text else { continue }
            switch command.tag {
            case AS.add:
                guard holding.insert(id).inserted else {
                    throw EASClientError("\(profile): \(id) added twice in folder \(folderId)")
                }
                round.added.append(id)
            case AS.change:
                guard holding.contains(id) else { throw EASClientError("\(profile): change for \(id), which it never got") }
                round.changed.append(id)
            case AS.delete, AS.softDelete:
                holding.remove(id)
                round.deleted.append(id)
            default:
                break
            }
        }
        held[folderId] = holding
        return round
    }

    /// Syncs `folderId` until nothing more is available. `faults[n]` hits round n.
    public mutating func syncToEnd(_ folderId: String, faults: [Int: Fault] = [:]) async throws -> SyncRound {
        var total = SyncRound()
        if syncKeys[folderId] == nil { _ = try await syncOnce(folderId) }
        for round in 0..<20_000 {
            let result = try await syncOnce(folderId, fault: faults[round])
            total.added += result.added
            total.changed += result.changed
            total.deleted += result.deleted
            if syncKeys[folderId] == "0" { _ = try await syncOnce(folderId) }
            if !result.moreAvailable { return total }
        }
        throw EASClientError("\(profile): Sync of \(folderId) never ended")
    }

    /// Marks an item read or unread from the device.
    public mutating func setRead(_ serverId: String, in folderId: String, read: Bool) async throws {
        let change = EASElement(AS.change, children: [
            EASElement(AS.serverId, text: serverId),
            EASElement(AS.applicationData, children: [EASElement(EASTag.Email.read, text: read ? "1" : "0")]),
        ])
        let round = try await syncOnce(folderId, commands: [change])
        if let failed = round.responses.first(where: { $0.child(AS.status)?.text != "1" }) {
            throw EASClientError("\(profile): the change was refused: \(failed.xml())")
        }
    }

    /// Moves an item to another folder; returns its new ServerId there.
    public mutating func move(_ serverId: String, from source: String, to destination: String) async throws -> String {
        typealias MV = EASTag.Move
        let answer = try await send("MoveItems", EASElement(MV.moveItems, children: [EASElement(MV.move, children: [
            EASElement(MV.srcMsgId, text: serverId), EASElement(MV.srcFldId, text: source), EASElement(MV.dstFldId, text: destination),
        ])]))
        guard let response = answer.element?.child(MV.response), response.child(MV.status)?.text == "3",
              let newId = response.child(MV.dstMsgId)?.text
        else { throw EASClientError("\(profile): MoveItems answered \(answer.element?.xml() ?? "HTTP \(answer.status)")") }
        held[source]?.remove(serverId)
        // The client files it under the new id at once.
        if syncKeys[destination] != nil { held[destination, default: []].insert(newId) }
        return newId
    }

    /// A Ping on `folderIds`; the folders it reports changed (empty: none).
    public mutating func ping(_ folderIds: [String], heartbeat: Int) async throws -> (status: String, folders: [String]) {
        typealias PG = EASTag.Ping
        let answer = try await send("Ping", EASRequests.ping(folders: folderIds, heartbeat: heartbeat))
        guard let status = answer.element?.child(PG.status)?.text else {
            throw EASClientError("\(profile): Ping answered HTTP \(answer.status)")
        }
        return (status, answer.element?.child(PG.folders)?.children(PG.folder).compactMap(\.text) ?? [])
    }

    /// Android's heartbeat: a Sync with an empty body, which reuses the last Sync's request.
    public mutating func emptySync() async throws -> Int {
        let answer = try await send("Sync", nil)
        return answer.status
    }

    /// SendMail (14.0+ form) of `mime`, kept in Sent.
    public mutating func sendMail(_ mime: [UInt8], clientId: String) async throws {
        typealias CM = EASTag.ComposeMail
        let answer = try await send("SendMail", EASElement(CM.sendMail, children: [
            EASElement(CM.clientId, text: clientId), EASElement(CM.saveInSentItems),
            EASElement(CM.mime, .opaque(ByteBuffer(bytes: mime))),
        ]))
        guard answer.status == 200, answer.element?.child(CM.status) == nil else {
            throw EASClientError("\(profile): SendMail answered \(answer.element?.xml() ?? "HTTP \(answer.status)")")
        }
    }
}
