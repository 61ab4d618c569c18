import EASClient
import EASProtocol
import NIOCore

/// What to probe and how.
public struct ProbeOptions: Sendable {
    public var host: String
    public var port: Int
    public var tls: HTTPExchangeTLS?
    public var user: String
    public var password: String
    /// The version to speak; nil: the highest the server offers.
    public var version: EASProtocolVersion?
    /// The folder to Sync, by display name; nil: the Inbox.
    public var folder: String?
    public var windowSize = 25
    /// The Ping's HeartbeatInterval; nil: no Ping.
    public var pingSeconds: Int? = 60
    public var autodiscover = true
    public var deviceId = "AirgateProbe" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    public var deviceType = "AirgateProbe"
    public var timeout: Duration = .seconds(120)

    public init(host: String, port: Int, tls: HTTPExchangeTLS?, user: String, password: String) {
        self.host = host
        self.port = port
        self.tls = tls
        self.user = user
        self.password = password
    }
}

/// One request of the probe and what came of it.
public struct ProbeStep: Sendable {
    public var name: String
    public var duration: Duration
    public var httpStatus: Int?
    public var summary: String
    public var findings: [ProbeFinding]
    public var request: EASElement?
    public var response: EASElement?
    /// The response body as received.
    public var rawResponse: [UInt8]
}

/// Everything the probe did, in order.
public struct ProbeReport: Sendable {
    public var steps: [ProbeStep] = []
    /// The version spoken.
    public var version: EASProtocolVersion?
    /// False when a step the rest depends on failed (no connection, no login, no folders).
    public var completed = true

    public var findings: [ProbeFinding] { steps.flatMap(\.findings) }
    public var violations: Int { findings.filter { $0.severity == .violation }.count }
}

/// Runs what a new device does against an EAS server — Autodiscover, OPTIONS, Provision,
/// FolderSync, Sync of one folder (and the same request again), ItemOperations, Ping — and
/// holds every answer to `ProbeChecks`.
public struct Probe: Sendable {
    typealias AS = EASTag.AirSync
    typealias ASB = EASTag.AirSyncBase
    typealias FH = EASTag.FolderHierarchy

    public let options: ProbeOptions

    public init(_ options: ProbeOptions) {
        self.options = options
    }

    struct Stop: Error {}

    public func run() async -> ProbeReport {
        var report = ProbeReport()
        do {
            try await steps(&report)
        } catch {
            report.completed = false
        }
        return report
    }

    private var exchange: HTTPExchange {
        HTTPExchange(host: options.host, port: options.port, timeout: options.timeout, tls: options.tls)
    }

    /// Times one request; a transport failure is a step with a violation and ends the probe.
    private func step(_ name: String, _ report: inout ProbeReport, request: EASElement? = nil,
                      _ body: () async throws -> (HTTPExchangeResponse, [ProbeFinding], EASElement?, String)) async throws
        -> (HTTPExchangeResponse, EASElement?)
    {
        let started = ContinuousClock.now
        do {
            let (response, findings, element, summary) = try await body()
            report.steps.append(ProbeStep(name: name, duration: ContinuousClock.now - started, httpStatus: response.status,
                                          summary: summary, findings: findings, request: request, response: element,
                                          rawResponse: response.body))
            return (response, element)
        } catch {
            report.steps.append(ProbeStep(name: name, duration: ContinuousClock.now - started, httpStatus: nil,
                                          summary: "no answer: \(error)",
                                          findings: [ProbeFinding(.violation, "no HTTP answer (\(error))")],
                                          request: request, response: nil, rawResponse: []))
            throw Stop()
        }
    }

    /// POSTs an EAS command and runs the HTTP and WBXML checks on the answer.
    private func command(_ name: String, _ command: String, _ body: EASElement?, device: EASDevice,
                         _ report: inout ProbeReport, summary: (HTTPExchangeResponse, EASElement?) -> String)
        async throws -> (HTTPExchangeResponse, EASElement?)
    {
        try await step(name, &report, request: body) {
            let response = try await device.post(command, body)
            var findings = ProbeChecks.http(response)
            var element: EASElement?
            if response.status == 200, !response.body.isEmpty, ProbeChecks.wbxml(response.body).isEmpty {
                do {
                    element = try EASDecoder.decode(ByteBuffer(bytes: response.body))
                } catch {
                    findings.append(ProbeChecks.undecodable(error))
                }
            }
            return (response, findings, element, summary(response, element))
        }
    }

    private func steps(_ report: inout ProbeReport) async throws {
        if options.autodiscover { try await autodiscover(&report) }

        // OPTIONS: the versions.
        let probeDevice = EASDevice(exchange: exchange, user: options.user, password: options.password,
                                    deviceId: options.deviceId, deviceType: options.deviceType)
        var offered: [EASProtocolVersion] = []
        let (optionsResponse, _) = try await step("OPTIONS", &report) {
            let response = try await probeDevice.options()
            var (versions, findings) = ProbeChecks.options(response)
            findings += ProbeChecks.http(response, expectsWBXML: false)
            offered = versions
            return (response, findings, nil, "versions \(response.header("MS-ASProtocolVersions") ?? "-")")
        }
        guard optionsResponse.status == 200 else { throw Stop() }
        let version = options.version ?? offered.filter { $0 <= .v16_1 }.max() ?? .v14_1
        if let wanted = options.version, !offered.contains(wanted) {
            report.steps[report.steps.count - 1].findings.append(ProbeFinding(.note, "\(wanted) is not offered; asking anyway"))
        }
        report.version = version
        var device = probeDevice
        device.version = version

        // Provision, two steps; servers may not ask for it (403/501, or Status 2).
        typealias P = EASTag.Provision
        let (_, offer) = try await command("Provision", "Provision", EASRequests.provision(), device: device, &report) { response, element in
            "HTTP \(response.status), status \(element?.child(P.status)?.text ?? "-")"
        }
        if offer != nil { report.steps[report.steps.count - 1].findings += ProbeChecks.provisionOffer(offer) }
        if let temporary = EASRequests.policyKey(in: offer) {
            device.policyKey = temporary
            let (_, final) = try await command("Provision (acknowledge)", "Provision", EASRequests.provision(acknowledging: temporary),
                                               device: device, &report) { r, e in
                "HTTP \(r.status), policy key \(EASRequests.policyKey(in: e) ?? "-")"
            }
            device.policyKey = EASRequests.policyKey(in: final) ?? temporary
        }

        // FolderSync from 0.
        let (folderResponse, folders) = try await command("FolderSync", "FolderSync", EASRequests.folderSync(key: "0"), device: device, &report) { r, e in
            "HTTP \(r.status), \(e?.child(FH.changes)?.children(FH.add).count ?? 0) folders"
        }
        if folderResponse.status == 200 { report.steps[report.steps.count - 1].findings += ProbeChecks.folderSync(folders) }
        let adds = folders?.child(FH.changes)?.children(FH.add) ?? []
        let chosen = options.folder.map { name in adds.first { $0.child(FH.displayName)?.text == name } }
            ?? adds.first { $0.child(FH.type)?.text == "2" }
        guard let collectionId = chosen?.child(FH.serverId)?.text else {
            report.steps[report.steps.count - 1].findings.append(ProbeFinding(
                .note, options.folder.map { "no folder named \($0)" } ?? "no Inbox to Sync"))
            throw Stop()
        }

        // Sync: key 0, then a window of changes, then that request again.
        let first = ProbeChecks.SyncAsked(syncKey: "0")
        let (_, initial) = try await command("Sync (key 0)", "Sync", syncRequest(collectionId, first, version),
                                             device: device, &report) { r, e in "HTTP \(r.status), \(Self.syncSummary(e))" }
        report.steps[report.steps.count - 1].findings += ProbeChecks.sync(initial, version: version, asked: first)
        guard let key = initial?.child(AS.collections)?.child(AS.collection)?.child(AS.syncKey)?.text else { throw Stop() }
        let asked = ProbeChecks.SyncAsked(syncKey: key, windowSize: options.windowSize, truncationSize: 5120,
                                          previewSize: version >= .v14_0 ? 255 : nil)
        let request = syncRequest(collectionId, asked, version)
        let (_, batch) = try await command("Sync (changes)", "Sync", request, device: device, &report) { r, e in
            "HTTP \(r.status), \(Self.syncSummary(e))"
        }
        report.steps[report.steps.count - 1].findings += ProbeChecks.sync(batch, version: version, asked: asked)
        let (_, again) = try await command("Sync (same request again)", "Sync", request, device: device, &report) { r, e in
            "HTTP \(r.status), \(Self.syncSummary(e))"
        }
        report.steps[report.steps.count - 1].findings += ProbeChecks.sync(again, version: version, asked: asked)
            + ProbeChecks.replay(batch, again)

        // ItemOperations Fetch of the first item.
        let firstItem = batch?.child(AS.collections)?.child(AS.collection)?.child(AS.commands)?.children(AS.add).first?
            .child(AS.serverId)?.text
        if let firstItem {
            typealias IO = EASTag.ItemOperations
            let fetch = EASElement(IO.itemOperations, children: [EASElement(IO.fetch, children: [
                EASElement(IO.store, text: "Mailbox"), EASElement(AS.collectionId, text: collectionId),
                EASElement(AS.serverId, text: firstItem),
                EASElement(IO.options, children: [EASElement(ASB.bodyPreference, children: [
                    EASElement(ASB.type, text: "2"), EASElement(ASB.truncationSize, text: "20000"),
                ])]),
            ])])
            let (_, fetched) = try await command("ItemOperations (fetch)", "ItemOperations", fetch, device: device, &report) { r, e in
                "HTTP \(r.status), status \(e?.child(IO.status)?.text ?? "-")"
            }
            if fetched?.child(IO.status)?.text != "1" {
                report.steps[report.steps.count - 1].findings.append(ProbeFinding(
                    .violation, "ItemOperations Fetch of an item the server just sent answered status "
                        + (fetched?.child(IO.status)?.text ?? "none")))
            }
        }

        // A Ping on the folder, after the Sync above made it current.
        if let seconds = options.pingSeconds {
            typealias PG = EASTag.Ping
            let ping = EASRequests.ping(folders: [collectionId], heartbeat: seconds)
            let (_, answer) = try await command("Ping (\(seconds) s)", "Ping", ping, device: device, &report) { r, e in
                "HTTP \(r.status), status \(e?.child(PG.status)?.text ?? "-")"
            }
            report.steps[report.steps.count - 1].findings += ProbeChecks.ping(answer)
        }
    }

    private func syncRequest(_ collectionId: String, _ asked: ProbeChecks.SyncAsked, _ version: EASProtocolVersion) -> EASElement {
        var children = [EASElement(AS.syncKey, text: asked.syncKey), EASElement(AS.collectionId, text: collectionId)]
        if version <= .v12_1 { children.insert(EASElement(AS.class, text: "Email"), at: 0) }
        if asked.syncKey != "0" {
            children += [EASElement(AS.deletesAsMoves, text: "1"), EASElement(AS.getChanges),
                         EASElement(AS.windowSize, text: String(asked.windowSize))]
            var preference = [EASElement(ASB.type, text: "2")]
            if let size = asked.truncationSize { preference.append(EASElement(ASB.truncationSize, text: String(size))) }
            if let preview = asked.previewSize { preference.append(EASElement(ASB.preview, text: String(preview))) }
            children.append(EASElement(AS.options, children: [EASElement(ASB.bodyPreference, children: preference)]))
        }
        return EASElement(AS.sync, children: [EASElement(AS.collections, children: [EASElement(AS.collection, children: children)])])
    }

    static func syncSummary(_ element: EASElement?) -> String {
        guard let collection = element?.child(AS.collections)?.child(AS.collection) else {
            return element == nil ? "empty" : "status \(element?.child(AS.status)?.text ?? "-")"
        }
        let commands = collection.child(AS.commands)?.children ?? []
        return "status \(collection.child(AS.status)?.text ?? "-"), \(commands.count) changes"
            + (collection.child(AS.moreAvailable) != nil ? ", more available" : "")
    }

    /// [MS-ASCMD] 2.2.1.1: the mobile-sync Autodiscover request, at the URL's own host.
    private func autodiscover(_ report: inout ProbeReport) async throws {
        let address = options.user.contains("@") ? options.user : options.user + "@" + options.host
        let body = EASDevice.autodiscoverRequest(for: address)
        let device = EASDevice(exchange: exchange, user: options.user, password: options.password, deviceId: options.deviceId)
        _ = try await step("Autodiscover", &report) {
            let response = try await exchange.send(method: .POST, path: "/autodiscover/autodiscover.xml",
                                                   headers: device.basicAuthorization + [("Content-Type", "text/xml")], body: body)
            let text = String(decoding: response.body, as: UTF8.self)
            var findings = ProbeChecks.http(response, expectsWBXML: false).filter { $0.severity == .violation }
            let url = Self.mobileSyncURL(in: text)
            if response.status != 200 || url == nil {
                findings.append(ProbeFinding(.warning, "no mobile-sync URL from Autodiscover (HTTP \(response.status)): "
                    + "phones need the server entered by hand"))
            }
            return (response, findings, nil, url ?? "HTTP \(response.status)")
        }
    }

    static func mobileSyncURL(in text: String) -> String? {
        guard let type = text.firstRange(of: "<Type>MobileSync</Type>"),
              let open = text[type.upperBound...].firstRange(of: "<Url>"),
              let close = text[open.upperBound...].firstRange(of: "</Url>")
        else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
    }
}
