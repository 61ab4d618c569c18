// The gateway end to end, as phones use it: a real `airgate serve` process (the one built next
// to this benchmark) against the local stack, driven by EASClient devices. Scenarios of the
// performance issue measured here: initial sync next to imaplib fetching the same data, idle
// incremental Sync on a small and a large folder, push latency from SMTP to Ping to Sync, and
// a 25 MB attachment through ItemOperations.
//
//   Deploy/stack.sh up
//   swift build -c release --product airgate && swift run -c release GatewayBenchmark
//   swift run -c release GatewayBenchmark --large 10000   # a smaller large folder
//   swift run -c release GatewayBenchmark --scenarios 2,4   # some scenarios only
//   swift run GatewayBenchmark --quick      # small sizes, to check that it runs (CI)
//
// Prints Markdown tables for BENCHMARKS.md. Server CPU and memory are the gateway process's own
// (/proc), wall times are the client's on loopback.

import BenchmarkSupport
import EASClient
import EASProtocol
import Foundation
import MailUpstream
import MailUpstreamEtPan

typealias AS = EASTag.AirSync
typealias FH = EASTag.FolderHierarchy
typealias ASB = EASTag.AirSyncBase

let arguments = CommandLine.arguments
let quick = arguments.contains("--quick")
/// The scenarios of the performance issue to run (`--scenarios 1,2,4,6`; all by default).
let scenarios = Set((arguments.firstIndex(of: "--scenarios").map { arguments[$0 + 1] } ?? "1,2,4,6")
    .split(separator: ",").compactMap { Int($0) })
let env = BenchmarkSupport.stackValues(for: "GatewayBenchmark")
let port = 18_000 + Int(getpid() % 1000)

/// A new device, provisioned, with the account's folders by name.
func newDevice(port: Int = port) async throws -> (EASDevice, [String: String]) {
    var device = EASDevice(exchange: HTTPExchange(host: "127.0.0.1", port: port, timeout: .seconds(300)),
                           user: env["DEMO_USER"] ?? "", password: env["DEMO_PASSWORD"] ?? "",
                           deviceId: "BENCH" + String(UUID().uuidString.prefix(12)).replacing("-", with: ""),
                           deviceType: "iPhone", version: .v14_1)
    try await device.provision()
    let answer = try await device.send("FolderSync", EASRequests.folderSync(key: "0"))
    var folders: [String: String] = [:]
    for add in answer.element?.child(FH.changes)?.children(FH.add) ?? [] {
        if let name = add.child(FH.displayName)?.text, let id = add.child(FH.serverId)?.text { folders[name] = id }
    }
    return (device, folders)
}

func syncRequest(_ key: String, _ folder: String, window: Int, bodyType: Int, truncation: Int) -> EASElement {
    var children = [EASElement(AS.syncKey, text: key), EASElement(AS.collectionId, text: folder)]
    if key != "0" {
        children += [EASElement(AS.deletesAsMoves, text: "1"), EASElement(AS.getChanges), EASElement(AS.windowSize, text: String(window)),
                     EASElement(AS.options, children: [EASElement(ASB.bodyPreference, children: [
                         EASElement(ASB.type, text: String(bodyType)), EASElement(ASB.truncationSize, text: String(truncation)),
                     ])])]
    }
    return EASElement(AS.sync, children: [EASElement(AS.collections, children: [EASElement(AS.collection, children: children)])])
}

/// Syncs a folder from key 0 to its end: the key, the messages added and the Add elements.
func initialSync(_ device: EASDevice, _ folder: String, window: Int, bodyType: Int = 2, truncation: Int = 51_200) async throws
    -> (key: String, messages: Int, adds: [EASElement])
{
    let first = try await device.send("Sync", syncRequest("0", folder, window: window, bodyType: bodyType, truncation: truncation))
    guard var key = first.element?.child(AS.collections)?.child(AS.collection)?.child(AS.syncKey)?.text else {
        throw EASClientError("no key for \(folder)")
    }
    var adds: [EASElement] = []
    while true {
        let answer = try await device.send("Sync", syncRequest(key, folder, window: window, bodyType: bodyType, truncation: truncation))
        guard answer.status == 200 else { throw EASClientError("Sync answered \(answer.status)") }
        guard let collection = answer.element?.child(AS.collections)?.child(AS.collection) else { break }
        adds += collection.child(AS.commands)?.children(AS.add) ?? []
        key = collection.child(AS.syncKey)?.text ?? key
        if collection.child(AS.moreAvailable) == nil { break }
    }
    return (key, adds.count, adds)
}

let side = IMAPMailSession(pool: IMAPAdapter(threads: 2).pool(
    endpoint: ServerEndpoint(host: env["IMAP_HOST"] ?? "127.0.0.1", port: Int(env["IMAP_PORT"] ?? "") ?? 10143, security: .startTLS,
                             caFile: env["TLS_CA_FILE"], serverName: "localhost", timeout: .seconds(120)),
    credentials: .login(user: env["DEMO_USER"] ?? "", password: env["DEMO_PASSWORD"] ?? "")))

let commit = BenchmarkSupport.commit
let date = BenchmarkSupport.date
var gateway = try GatewayProcess(port: port)
try await gateway.waitUntilLive()

// 1. Initial sync, next to imaplib fetching the same envelopes, structures and text parts.
if scenarios.contains(1) {
let initialCount = quick ? 500 : 10_000
let initialFolder = try await BenchmarkSupport.seededFolder(initialCount, session: side)
emit("\n| date | commit | initial sync | window | gateway msg/s | gateway CPU s per 1,000 | imaplib msg/s | gateway / imaplib |")
emit("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for window in [100, 512] {
    let (device, folders) = try await newDevice()
    guard let folder = folders[initialFolder.wireName] else { throw EASClientError("no \(initialFolder) folder") }
    let cpuStart = gateway.cpuSeconds
    let started = ContinuousClock.now
    let result = try await initialSync(device, folder, window: window)
    let seconds = BenchmarkSupport.seconds(ContinuousClock.now - started)
    let cpu = gateway.cpuSeconds - cpuStart
    let plan = try await BenchmarkSupport.referencePlan(side, folder: initialFolder, batchSize: window)
    let reference = try BenchmarkSupport.reference(plan: plan.path, folder: initialFolder)
    let rate = Double(result.messages) / seconds
    let referenceRate = reference.messages / reference.seconds
    emit(String(format: "| %@ | %@ | %d | %d | %.0f | %.3f | %.0f | %.0f%% |", date, commit, result.messages, window, rate,
                 cpu / Double(max(result.messages, 1)) * 1000, referenceRate, rate / referenceRate * 100))
}

}

// 2. Idle incremental Sync: a device that holds everything asks again and again.
if scenarios.contains(2) {
emit("\n| date | commit | idle Sync, folder size | requests | median ms | p99 ms | gateway CPU ms per request |")
emit("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
// `--large N` sizes the large folder (default 100,000; seeding it takes a while the first time).
let largeFolder = arguments.firstIndex(of: "--large").flatMap { Int(arguments[$0 + 1]) } ?? 100_000
for count in quick ? [100, 500] : [100, largeFolder] {
    let folderName = try await BenchmarkSupport.seededFolder(count, session: side)
    let (device, folders) = try await newDevice()
    guard let folder = folders[folderName.wireName] else { throw EASClientError("no \(folderName) folder") }
    var key = try await initialSync(device, folder, window: 512, bodyType: 1, truncation: 64).key
    let requests = quick ? 20 : 500
    var times: [Double] = []
    let cpuStart = gateway.cpuSeconds
    for _ in 0..<requests {
        let started = ContinuousClock.now
        let answer = try await device.send("Sync", syncRequest(key, folder, window: 512, bodyType: 1, truncation: 64))
        times.append(BenchmarkSupport.seconds(ContinuousClock.now - started) * 1000)
        if let next = answer.element?.child(AS.collections)?.child(AS.collection)?.child(AS.syncKey)?.text { key = next }
    }
    let cpu = (gateway.cpuSeconds - cpuStart) / Double(requests) * 1000
    let (median, p99) = BenchmarkSupport.percentiles(times)
    emit(String(format: "| %@ | %@ | %d | %d | %.2f | %.2f | %.2f |", date, commit, count, requests, median, p99, cpu))
}

}

// 4. Push latency: a message submitted to Postfix, delivered into Dovecot, seen by the
// gateway, answered to a held Ping, then carried by the next Sync. First with IDLE alone, then
// with Dovecot's push notification (a second gateway on the stack's PUSH_PORT).
func pushLatency(port: Int) async throws -> (ping: [Double], sync: [Double]) {
    let (device, folders) = try await newDevice(port: port)
    guard let inbox = folders["Inbox"] ?? folders["INBOX"] else { throw EASClientError("no Inbox") }
    var key = try await initialSync(device, inbox, window: 512, bodyType: 1, truncation: 64).key
    var pingTimes: [Double] = []
    var syncTimes: [Double] = []
    for index in 0..<(quick ? 3 : 30) {
        let ping = Task { try await device.send("Ping", EASRequests.ping(folders: [inbox], heartbeat: 120)) }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        try BenchmarkSupport.run("python3", ["-c", """
            import smtplib, sys
            with smtplib.SMTP(sys.argv[1], int(sys.argv[2])) as smtp:
                smtp.sendmail("bench@example.net", [sys.argv[3]], "From: bench@example.net\\r\\nTo: %s\\r\\nSubject: push %s\\r\\n\\r\\npush\\r\\n" % (sys.argv[3], sys.argv[4]))
            """, env["SMTP_HOST"] ?? "127.0.0.1", env["SMTP_PLAIN_PORT"] ?? "10025", env["DEMO_USER"] ?? "", String(index)])
        // A Ping that expires without seeing the message is followed by another, as a phone
        // would; the time counts from the submission to the Ping that sees it.
        var answered = try await ping.value
        for _ in 0..<3 where answered.element?.child(EASTag.Ping.status)?.text == "1" {
            answered = try await device.send("Ping", EASRequests.ping(folders: [inbox], heartbeat: 120))
        }
        pingTimes.append(BenchmarkSupport.seconds(ContinuousClock.now - started) * 1000)
        guard answered.element?.child(EASTag.Ping.status)?.text == "2" else { throw EASClientError("no Ping saw the message") }
        let sync = try await device.send("Sync", syncRequest(key, inbox, window: 512, bodyType: 1, truncation: 64))
        syncTimes.append(BenchmarkSupport.seconds(ContinuousClock.now - started) * 1000)
        key = sync.element?.child(AS.collections)?.child(AS.collection)?.child(AS.syncKey)?.text ?? key
    }
    return (pingTimes, syncTimes)
}

if scenarios.contains(4) {
    var runs = [("IDLE", try await pushLatency(port: port))]
    if let pushPort = env["PUSH_PORT"].flatMap(Int.init), let secret = env["PUSH_SECRET"] {
        let announced = try GatewayProcess(port: pushPort, environment: ["AIRGATE_PUSH_DOVECOT_SECRET": secret])
        defer { announced.stop() }
        try await announced.waitUntilLive()
        runs.append(("Dovecot push", try await pushLatency(port: pushPort)))
    }
    emit("\n| date | commit | new mail seen by | push, messages | SMTP → Ping p50 ms | p99 ms | SMTP → Sync p50 ms | p99 ms |")
    emit("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for (label, times) in runs {
        let ping = BenchmarkSupport.percentiles(times.ping)
        let sync = BenchmarkSupport.percentiles(times.sync)
        emit(String(format: "| %@ | %@ | %@ | %d | %.0f | %.0f | %.0f | %.0f |", date, commit, label, times.ping.count, ping.median,
                     ping.p99, sync.median, sync.p99))
    }
}

// 6. A large attachment through ItemOperations, on a fresh gateway process so that its peak
// memory is this download's.
if scenarios.contains(6) {
    gateway.stop()
    gateway = try GatewayProcess(port: port)
    try await gateway.waitUntilLive()
    let size = quick ? 1 << 20 : 25 << 20
    let folderName = IMAPMailboxName(wire: "Bench-large-\(size)")
    if (try? await side.status(folderName))?.messages != 1 {
        if (try? await side.status(folderName)) != nil { try await side.deleteMailbox(folderName) }
        try await side.createMailbox(folderName)
        var generator = SystemRandomNumberGenerator()
        let blob = Base64.encode((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
        var lines: [String] = []
        var index = blob.startIndex
        while index < blob.endIndex {
            let end = blob.index(index, offsetBy: 76, limitedBy: blob.endIndex) ?? blob.endIndex
            lines.append(String(blob[index..<end]))
            index = end
        }
        let message = "From: bench@example.net\r\nSubject: large attachment\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
            + "--b\r\nContent-Type: application/octet-stream; name=\"large.bin\"\r\nContent-Disposition: attachment; filename=\"large.bin\"\r\n"
            + "Content-Transfer-Encoding: base64\r\n\r\n" + lines.joined(separator: "\r\n") + "\r\n--b--\r\n"
        _ = try await side.append(to: folderName, message: Array(message.utf8), flags: [], internalDate: nil)
    }
    let (device, folders) = try await newDevice()
    guard let folder = folders[folderName.wireName] else { throw EASClientError("no \(folderName) folder") }
    let synced = try await initialSync(device, folder, window: 10)
    guard let reference = synced.adds.first?.child(AS.applicationData)?.child(ASB.attachments)?.child(ASB.attachment)?
        .child(ASB.fileReference)?.text
    else { throw EASClientError("no attachment reference") }
    let before = gateway.memory
    let started = ContinuousClock.now
    // As phones fetch large attachments: the multipart form, the bytes outside WBXML.
    let answer = try await device.post("ItemOperations", EASElement(EASTag.ItemOperations.itemOperations, children: [
        EASElement(EASTag.ItemOperations.fetch, children: [
            EASElement(EASTag.ItemOperations.store, text: "Mailbox"), EASElement(ASB.fileReference, text: reference),
        ]),
    ]), extraHeaders: [("MS-ASAcceptMultiPart", "T")])
    let seconds = BenchmarkSupport.seconds(ContinuousClock.now - started)
    let after = gateway.memory
    guard answer.status == 200, answer.body.count >= size else {
        throw EASClientError("ItemOperations answered \(answer.status) with \(answer.body.count) bytes")
    }
    // The reference: imaplib fetching the attachment part's bytes from the same Dovecot.
    let imaplib = try BenchmarkSupport.run("python3", ["-c", """
        import imaplib, ssl, sys, time
        env = dict(l.strip().split("=", 1) for l in open(sys.argv[1]) if "=" in l and not l.startswith("#"))
        env = {k: v.strip("'\\"") for k, v in env.items()}
        context = ssl.create_default_context(cafile=env["TLS_CA_FILE"]); context.check_hostname = False
        imap = imaplib.IMAP4(env["IMAP_HOST"], int(env["IMAP_PORT"])); imap.starttls(context)
        imap.login(env["DEMO_USER"], env["DEMO_PASSWORD"]); imap.select(sys.argv[2], readonly=True)
        started = time.monotonic()
        typ, data = imap.fetch("1", "(BODY.PEEK[2])")
        print(time.monotonic() - started)
        """, BenchmarkSupport.envPath, folderName.wireName])
    let imapSeconds = Double(imaplib.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    let megabytes = Double(size) / 1_048_576
    emit("\n| date | commit | attachment MB | ItemOperations s | MB/s | imaplib MB/s | peak RSS growth MB | growth / size |")
    emit("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    let growth = Double(max(0, after.peak - before.rss)) / 1024
    emit(String(format: "| %@ | %@ | %.0f | %.2f | %.1f | %.1f | %.1f | %.2f |", date, commit, megabytes, seconds, megabytes / seconds,
                 megabytes / max(imapSeconds, 0.000_001), growth, growth / megabytes))
}

gateway.stop()
