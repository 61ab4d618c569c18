// Many devices on one gateway: a real `airgate serve` process (the one built next to this
// benchmark, SQLite store) against the local stack, driven by EASClient devices spread over
// the stack's load accounts (load01@ … ). Scenarios of the performance issue measured here:
//
//   3. held Pings: N devices (default 10,000) each hold a Ping; memory per held Ping, CPU
//      while idle, IMAP connections; then push latency with all of them held.
//   5. mixed load: N devices (default 1,000) for M minutes (default 10) doing what phones do
//      (Ping, Sync on push, flag changes, SendMail, pull to refresh): throughput, errors,
//      p99 latency per command, memory over time.
//
//   Deploy/stack.sh up
//   swift build -c release --product airgate && swift run -c release LoadBenchmark
//   swift run -c release LoadBenchmark --scenarios 3 --pings 2000
//   swift run -c release LoadBenchmark --scenarios 5 --devices 500 --minutes 3
//   swift run LoadBenchmark --quick      # small sizes, to check that it runs (CI)
//   … --dovecot-push                     # new mail announced by Dovecot, not only IDLE
//
// Prints Markdown tables for BENCHMARKS.md. The load generator runs on the same machine as
// the gateway and the mail servers and takes CPU from them.

import BenchmarkSupport
import EASClient
import EASProtocol
import Foundation
import NIOCore

typealias AS = EASTag.AirSync
typealias FH = EASTag.FolderHierarchy
typealias ASB = EASTag.AirSyncBase

let arguments = CommandLine.arguments
func option(_ name: String) -> String? { arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil } }
let quick = arguments.contains("--quick")
let scenarios = Set((option("--scenarios") ?? "3,5").split(separator: ",").compactMap { Int($0) })
let pingCount = option("--pings").flatMap(Int.init) ?? (quick ? 200 : 10_000)
let mixedDevices = option("--devices").flatMap(Int.init) ?? (quick ? 50 : 1_000)
let mixedDuration = option("--minutes").flatMap(Double.init).map { Duration.milliseconds(Int($0 * 60_000)) }
    ?? (quick ? .seconds(30) : .seconds(600))
let env = BenchmarkSupport.stackValues(for: "LoadBenchmark")
let port = 19_000 + Int(getpid() % 1000)
let accounts = Int(env["LOAD_USER_COUNT"] ?? "") ?? 0
guard accounts > 0 else {
    FileHandle.standardError.write(Data("LoadBenchmark: the stack has no load accounts; run Deploy/stack.sh up again\n".utf8))
    exit(2)
}
let domain = env["MAIL_DOMAIN"] ?? "airgate.test"
let imapPort = Int(env["IMAP_PORT"] ?? "") ?? 10143

func account(_ index: Int) -> String { String(format: "load%02d@%@", index % accounts + 1, domain) }

// MARK: Measurements

/// Latencies per command and failures, from every device.
actor Tally {
    private var times: [String: [Double]] = [:]
    private(set) var failures: [String: Int] = [:]
    private(set) var requests = 0

    func record(_ command: String, milliseconds: Double) {
        times[command, default: []].append(milliseconds)
        requests += 1
    }

    func fail(_ what: String) {
        failures[what, default: 0] += 1
        requests += 1
    }

    func samples(_ command: String) -> [Double] { times[command] ?? [] }
    var commands: [String] { times.keys.sorted() }
    var failureCount: Int { failures.values.reduce(0, +) }

    func reset() {
        times = [:]
        failures = [:]
        requests = 0
    }
}

let tally = Tally()

/// What a simulated user waits for: its Ping's answer or the time of its next action.
actor Wake {
    private var waiter: CheckedContinuation<Void, Never>?
    private var answered = false
    private var timedOut = false

    func pingAnswered() {
        answered = true
        waiter?.resume()
        waiter = nil
    }

    func timeUp() {
        timedOut = true
        waiter?.resume()
        waiter = nil
    }

    /// True when the Ping answered (since the last call), false when the time is up.
    func wait() async -> Bool {
        if !answered, !timedOut { await withCheckedContinuation { waiter = $0 } }
        defer {
            answered = false
            timedOut = false
        }
        return answered
    }
}

// MARK: A device

/// One simulated phone: its credentials, its Inbox and key, the messages it holds.
final class LoadDevice: @unchecked Sendable {
    var device: EASDevice
    let user: String
    var inbox = ""
    var key = "0"
    /// What the device holds and whether it shows each message read.
    var read: [String: Bool] = [:]
    /// Adds of a message the device already held: a duplicate on the phone.
    var duplicates = 0
    /// Messages this device sent (the gateway said so): subject and recipient.
    var sent: [(subject: String, to: String)] = []

    init(index: Int, port: Int) {
        user = account(index)
        // A minute for anything but a Ping: a request that takes longer counts as hung.
        device = EASDevice(exchange: HTTPExchange(host: "127.0.0.1", port: port, timeout: .seconds(60)),
                           user: user, password: env["LOAD_PASSWORD"] ?? "", deviceId: String(format: "LOAD%06d%@", index,
                                                                                               String(UUID().uuidString.prefix(6))),
                           deviceType: "iPhone", version: .v14_1)
    }

    /// Sends a command and records its time; a non-200 answer or a failing EAS status is a failure.
    func timed(_ command: String, _ body: EASElement?, label: String? = nil) async throws -> EASDevice.Answer {
        let started = ContinuousClock.now
        let answer: EASDevice.Answer
        var sender = device
        if command == "Ping" { sender.exchange.timeout = .seconds(3_700) }
        do {
            answer = try await sender.send(command, body)
        } catch {
            await tally.fail("\(label ?? command): \(error)")
            throw error
        }
        let milliseconds = BenchmarkSupport.seconds(ContinuousClock.now - started) * 1000
        guard answer.status == 200 else {
            await tally.fail("\(label ?? command): HTTP \(answer.status)")
            throw EASClientError("\(command) answered HTTP \(answer.status)")
        }
        await tally.record(label ?? command, milliseconds: milliseconds)
        return answer
    }

    func setUp() async throws {
        try await device.provision()
        let folders = try await timed("FolderSync", EASRequests.folderSync(key: "0"))
        guard let id = folders.element?.child(FH.changes)?.children(FH.add)
            .first(where: { $0.child(FH.type)?.text == "2" })?.child(FH.serverId)?.text
        else { throw EASClientError("no Inbox for \(user)") }
        inbox = id
        try await sync()
    }

    static func syncBody(_ key: String, _ folder: String, commands: [EASElement] = []) -> EASElement {
        var children = [EASElement(AS.syncKey, text: key), EASElement(AS.collectionId, text: folder)]
        if key != "0" {
            children += [EASElement(AS.deletesAsMoves, text: "1"), EASElement(AS.getChanges), EASElement(AS.windowSize, text: "50"),
                         EASElement(AS.options, children: [EASElement(ASB.bodyPreference, children: [
                             EASElement(ASB.type, text: "2"), EASElement(ASB.truncationSize, text: "5120"),
                         ])])]
            if !commands.isEmpty { children.append(EASElement(AS.commands, children: commands)) }
        }
        return EASElement(AS.sync, children: [EASElement(AS.collections, children: [EASElement(AS.collection, children: children)])])
    }

    /// Syncs the Inbox until nothing more is available, carrying `commands` in the first request.
    func sync(commands: [EASElement] = [], label: String = "Sync") async throws {
        var commands = commands
        for _ in 0..<1000 {
            let initial = key == "0"
            let answer = try await timed("Sync", Self.syncBody(key, inbox, commands: commands), label: initial ? "Sync 0" : label)
            commands = []
            guard let collection = answer.element?.child(AS.collections)?.child(AS.collection) else { return }
            guard collection.child(AS.status)?.text == "1" else {
                await tally.fail("\(label): Status \(collection.child(AS.status)?.text ?? "?")")
                throw EASClientError("Sync Status \(collection.child(AS.status)?.text ?? "?")")
            }
            key = collection.child(AS.syncKey)?.text ?? key
            let commands = collection.child(AS.commands)
            for add in commands?.children(AS.add) ?? [] {
                guard let id = add.child(AS.serverId)?.text else { continue }
                if read[id] != nil { duplicates += 1 }
                read[id] = add.child(AS.applicationData)?.child(EASTag.Email.read)?.text == "1"
            }
            for change in commands?.children(AS.change) ?? [] {
                guard let id = change.child(AS.serverId)?.text,
                      let value = change.child(AS.applicationData)?.child(EASTag.Email.read)?.text else { continue }
                read[id] = value == "1"
            }
            for delete in commands?.children(AS.delete) ?? [] {
                if let id = delete.child(AS.serverId)?.text { read[id] = nil }
            }
            if !initial, collection.child(AS.moreAvailable) == nil { return }
        }
    }

    /// A held Ping on the Inbox: its status ("1" nothing changed, "2" changes).
    func ping(heartbeat: Int) async throws -> String {
        let answer = try await timed("Ping", EASRequests.ping(folders: [inbox], heartbeat: heartbeat), label: "Ping (held)")
        guard let status = answer.element?.child(EASTag.Ping.status)?.text, status == "1" || status == "2" else {
            await tally.fail("Ping: Status \(answer.element?.child(EASTag.Ping.status)?.text ?? "none")")
            throw EASClientError("Ping Status")
        }
        return status
    }

    /// Marks a message read or unread, as a phone does when the user opens it; a phone keeps
    /// the change and sends it again until a Sync carrying it gets an answer.
    func flagChange(attempts: Int = 1) async throws {
        guard let serverId = read.keys.randomElement() else { return try await sync(label: "Sync (refresh)") }
        let value = Bool.random()
        let change = EASElement(AS.change, children: [
            EASElement(AS.serverId, text: serverId),
            EASElement(AS.applicationData, children: [EASElement(EASTag.Email.read, text: value ? "1" : "0")]),
        ])
        // The phone shows its own change at once; what the answer carries comes after it.
        read[serverId] = value
        try await retrying(attempts) { try await self.sync(commands: [change], label: "Sync (flag change)") }
    }

    /// A pull to refresh, repeated until it gets through.
    func refresh(attempts: Int = 1) async throws {
        try await retrying(attempts) { try await self.sync(label: "Sync (refresh)") }
    }

    private func retrying(_ attempts: Int, _ work: () async throws -> Void) async throws {
        for attempt in 1...max(attempts, 1) {
            do {
                return try await work()
            } catch where attempt < attempts {
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Sends a short message to another load account, saved in Sent.
    func sendMail(to recipient: String, sequence: Int, attempts: Int = 1) async throws {
        let subject = "load \(sequence) from \(device.deviceId)"
        let mime = Array("""
            From: \(user)\r
            To: \(recipient)\r
            Subject: \(subject)\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            A message of the mixed load.\r

            """.utf8)
        // The same ClientId on every attempt: the gateway sends it once ([MS-ASCMD] 2.2.3.27.1).
        let request = EASElement(EASTag.ComposeMail.sendMail, children: [
            EASElement(EASTag.ComposeMail.clientId, text: "\(device.deviceId)-\(sequence)"),
            EASElement(EASTag.ComposeMail.saveInSentItems),
            EASElement(EASTag.ComposeMail.mime, .opaque(ByteBuffer(bytes: mime))),
        ])
        try await retrying(attempts) {
            let answer = try await self.timed("SendMail", request)
            // Success is an empty body; a body carries a failing status.
            if let status = answer.element?.child(EASTag.ComposeMail.status)?.text {
                await tally.fail("SendMail: Status \(status)")
                throw EASClientError("SendMail Status \(status)")
            }
        }
        sent.append((subject, recipient))
    }
}

/// Sets devices up `parallel` at a time; returns those that made it.
func setUpDevices(_ indices: Range<Int>, port: Int, parallel: Int = 24) async -> [LoadDevice] {
    await withTaskGroup(of: LoadDevice?.self) { group in
        var ready: [LoadDevice] = []
        var next = indices.lowerBound
        func start() {
            let index = next
            next += 1
            group.addTask {
                let device = LoadDevice(index: index, port: port)
                do {
                    try await device.setUp()
                    return device
                } catch {
                    await tally.fail("setting up: \(error)")
                    return nil
                }
            }
        }
        for _ in 0..<min(parallel, indices.count) { start() }
        while let device = await group.next() {
            if let device { ready.append(device) }
            if next < indices.upperBound { start() }
        }
        return ready
    }
}

func submit(to recipient: String, subject: String) throws {
    try BenchmarkSupport.run("python3", ["-c", """
        import smtplib, sys
        with smtplib.SMTP(sys.argv[1], int(sys.argv[2])) as smtp:
            smtp.sendmail("bench@example.net", [sys.argv[3]], "From: bench@example.net\\r\\nTo: %s\\r\\nSubject: %s\\r\\n\\r\\npush\\r\\n" % (sys.argv[3], sys.argv[4]))
        """, env["SMTP_HOST"] ?? "127.0.0.1", env["SMTP_PLAIN_PORT"] ?? "10025", recipient, subject])
}

func percentiles(_ values: [Double]) -> (median: Double, p99: Double) {
    values.isEmpty ? (0, 0) : BenchmarkSupport.percentiles(values)
}

let commit = BenchmarkSupport.commit
let date = BenchmarkSupport.date

/// `--dovecot-push`: the gateway listens on the stack's PUSH_PORT with its secret, so that
/// Dovecot announces new mail to it (docs/deployment.md); otherwise IDLE tells.
let dovecotPush = arguments.contains("--dovecot-push")

/// The port and settings of a scenario's gateway.
func gatewaySettings(port: Int) -> (port: Int, environment: [String: String]) {
    var environment = ["AIRGATE_ACCESS_MAX_DEVICES_PER_USER": "10000"]
    guard dovecotPush, let pushPort = env["PUSH_PORT"].flatMap(Int.init), let secret = env["PUSH_SECRET"] else {
        return (port, environment)
    }
    environment["AIRGATE_PUSH_DOVECOT_SECRET"] = secret
    return (pushPort, environment)
}

// MARK: 3. Held Pings

if scenarios.contains(3) {
    let (gatewayPort, gatewayEnvironment) = gatewaySettings(port: port)
    let gateway = try GatewayProcess(port: gatewayPort, environment: gatewayEnvironment)
    defer { gateway.stop() }
    try await gateway.waitUntilLive()
    emit("\nsetting up \(pingCount) devices on \(accounts) accounts …")
    let setupStarted = ContinuousClock.now
    let devices = await setUpDevices(0..<pingCount, port: gatewayPort)
    let setupSeconds = BenchmarkSupport.seconds(ContinuousClock.now - setupStarted)
    emit(String(format: "%d devices ready in %.0f s (%d failed)", devices.count, setupSeconds, pingCount - devices.count))
    for (what, count) in await tally.failures.sorted(by: { $0.key < $1.key }) { emit("failure: \(what) × \(count)") }
    // Settle: trackers started, pools filled.
    try await Task.sleep(for: .seconds(3))
    let before = gateway.memory
    let threadsBefore = gateway.threads
    /// A held Ping's status and when its answer came.
    func holdPing(_ device: LoadDevice) -> Task<(status: String?, at: ContinuousClock.Instant), Never> {
        Task { (try? await device.ping(heartbeat: 3_000), ContinuousClock.now) }
    }
    let pings = devices.map(holdPing)
    var held = 0.0
    for second in 0..<600 {
        held = await gateway.metric("airgate_pings_held") ?? 0
        if Int(held) >= devices.count { break }
        if second % 10 == 9 { emit("\(Int(held)) Pings held, \(await tally.failureCount) failed") }
        try await Task.sleep(for: .seconds(1))
    }
    try await Task.sleep(for: .seconds(5))
    let after = gateway.memory
    let idleSeconds = quick ? 5.0 : 60.0
    let cpuStart = gateway.cpuSeconds
    try await Task.sleep(for: .seconds(idleSeconds))
    let idleCPU = (gateway.cpuSeconds - cpuStart) / idleSeconds * 100
    let imapConnections = gateway.connections(toPort: imapPort)
    let perPing = Double(max(0, after.rss - before.rss)) / Double(max(Int(held), 1))
    emit("\n| date | commit | held Pings | accounts | RSS before MB | RSS held MB | KB per Ping | idle CPU % | threads | IMAP connections |")
    emit("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    emit(String(format: "| %@ | %@ | %.0f | %d | %.0f | %.0f | %.1f | %.2f | %d | %d |", date, commit, held, accounts,
                 Double(before.rss) / 1024, Double(after.rss) / 1024, perPing, idleCPU, max(threadsBefore, gateway.threads),
                 imapConnections))

    // Push with every Ping held: a message to one account wakes that account's devices; each
    // time is from the submission to a woken device's Ping answer.
    var pending = Dictionary(uniqueKeysWithValues: zip(devices.indices, pings))
    var wakeTimes: [Double] = []
    var firstWake: [Double] = []
    let rounds = quick ? 2 : 5
    for round in 0..<rounds {
        let target = account(round * 7)
        let woken = devices.indices.filter { devices[$0].user == target }
        let started = ContinuousClock.now
        try submit(to: target, subject: "push \(round) under load")
        var times: [Double] = []
        for index in woken {
            guard let (status, at) = await pending[index]?.value else { continue }
            times.append(BenchmarkSupport.seconds(at - started) * 1000)
            if status != "2" { await tally.fail("push: a held Ping did not see the message") }
        }
        // The first answer bounds the delivery, the last the fan-out to the account's devices.
        wakeTimes += times
        firstWake.append(times.min() ?? 0)
        // The woken devices sync and hold their Ping again, so that the count stays.
        await withTaskGroup(of: Void.self) { group in
            for index in woken {
                group.addTask { try? await devices[index].sync() }
            }
        }
        for index in woken { pending[index] = holdPing(devices[index]) }
        try await Task.sleep(for: .seconds(2))
    }
    let wake = percentiles(wakeTimes)
    let first = percentiles(firstWake)
    emit("\n| date | commit | new mail seen by | push with Pings held | rounds | devices woken per round | first wake p50 ms | all woken p50 ms | p99 ms | failures |")
    emit("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    emit(String(format: "| %@ | %@ | %@ | %.0f | %d | %d | %.0f | %.0f | %.0f | %d |", date, commit,
                 gatewayEnvironment["AIRGATE_PUSH_DOVECOT_SECRET"] == nil ? "IDLE" : "Dovecot push", held, rounds,
                 wakeTimes.count / max(rounds, 1), first.median, wake.median, wake.p99, await tally.failureCount))
    for (what, count) in await tally.failures.sorted(by: { $0.key < $1.key }) { emit("failure: \(what) × \(count)") }
    gateway.stop()
    for task in pending.values { task.cancel() }
    await tally.reset()
}

// MARK: 5. Mixed load

/// The mailboxes as IMAP shows them, read with Python's imaplib: per account the Inbox's
/// UIDs with their \Seen flag, and how often each subject is there.
func mailboxes(_ users: [String]) throws -> [String: (seen: [UInt32: Bool], subjects: [String: Int])] {
    let output = try BenchmarkSupport.run("python3", ["-c", """
        import imaplib, json, re, ssl, sys
        env = dict(l.strip().split("=", 1) for l in open(sys.argv[1]) if "=" in l and not l.startswith("#"))
        env = {k: v.strip("'\\"") for k, v in env.items()}
        context = ssl.create_default_context(cafile=env["TLS_CA_FILE"]); context.check_hostname = False
        result = {}
        for user in sys.argv[2:]:
            imap = imaplib.IMAP4(env["IMAP_HOST"], int(env["IMAP_PORT"])); imap.starttls(context)
            imap.login(user, env["LOAD_PASSWORD"]); imap.select("INBOX", readonly=True)
            typ, data = imap.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            seen, subjects = {}, {}
            for item in data:
                if not isinstance(item, tuple): continue
                uid = int(re.search(rb"UID (\\d+)", item[0]).group(1))
                seen[uid] = b"\\\\Seen" in item[0]
                subject = item[1].decode("utf-8", "replace").split(":", 1)[-1].strip()
                subjects[subject] = subjects.get(subject, 0) + 1
            result[user] = {"seen": seen, "subjects": subjects}
            imap.logout()
        print(json.dumps(result))
        """, BenchmarkSupport.envPath] + users)
    guard let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [String: [String: Any]]] else {
        throw EASClientError("no mailbox listing")
    }
    return object.mapValues { account in
        (Dictionary(uniqueKeysWithValues: (account["seen"] ?? [:]).compactMap { key, value in
            UInt32(key).map { ($0, value as? Bool ?? false) }
        }), (account["subjects"] ?? [:]).compactMapValues { $0 as? Int })
    }
}

if scenarios.contains(5) {
    // `--faults`: during the run the gateway is killed (SIGKILL) and restarted twice, and Dovecot
    // drops every connection of the load accounts once; devices retry as phones do, and at the
    // end every device must hold exactly its mailbox (same messages, same read flags), with no
    // message added twice and every message it sent delivered once.
    let faults = arguments.contains("--faults")
    let (gatewayPort, gatewayEnvironment) = gatewaySettings(port: port + 1)
    let gateway = try GatewayProcess(port: gatewayPort, environment: gatewayEnvironment)
    defer { gateway.stop() }
    try await gateway.waitUntilLive()
    emit("\nsetting up \(mixedDevices) devices on \(accounts) accounts …")
    let devices = await setUpDevices(0..<mixedDevices, port: gatewayPort)
    await tally.reset()
    emit("\(devices.count) devices ready; running for \(mixedDuration)\(faults ? " with faults" : "")")
    let started = ContinuousClock.now
    let deadline = started + mixedDuration
    var cpuBefore = gateway.cpuSeconds
    // Memory every tenth of the run.
    let sampler = Task {
        var samples: [(Double, Int)] = [(0, gateway.memory.rss)]
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: mixedDuration / 10)
            samples.append((BenchmarkSupport.seconds(ContinuousClock.now - started), gateway.memory.rss))
            // Held Pings next to the memory: memory that follows them is not a leak.
            let held = await gateway.metric("airgate_pings_held") ?? -1
            emit(String(format: "%.0f s: RSS %.0f MB, of which heap %.0f MB; %d requests; %.0f Pings held", samples.last!.0,
                        Double(samples.last!.1) / 1024, Double(gateway.anonymousMemory) / 1024, await tally.requests, held))
        }
        return samples
    }
    let injector = Task {
        guard faults else { return 0.0 }
        var cpuOfKilled = 0.0
        for (step, fraction) in [0.25, 0.5, 0.75].enumerated() {
            try? await Task.sleep(until: started + mixedDuration * fraction, clock: .continuous)
            if step == 1 {
                emit("fault: Dovecot drops every connection of the load accounts")
                _ = try? BenchmarkSupport.run("doveadm", ["-c", env["DOVECOT_CONFIG"] ?? "", "kick", "load*"])
            } else {
                emit("fault: SIGKILL of the gateway, then a restart")
                cpuOfKilled += gateway.cpuSeconds
                try? await gateway.killAndRestart()
            }
        }
        return cpuOfKilled
    }
    // Each device holds a Ping; on Status 2 it syncs; between, after a think time of 2 min on
    // average (shorter in a quick run), the user does something: opens a message (read flag),
    // sends one to another account, or pulls to refresh.
    let thinkMean = quick ? 5.0 : 120.0
    let attempts = faults ? 30 : 1
    await withTaskGroup(of: Void.self) { group in
        for (number, device) in devices.enumerated() {
            group.addTask {
                var sequence = 0
                var ping: Task<String?, Never>?
                let wake = Wake()
                var nextAction = ContinuousClock.now + .milliseconds(Int(-log(Double.random(in: 0.0001...1)) * thinkMean * 1000))
                while ContinuousClock.now < deadline {
                    if ping == nil {
                        ping = Task {
                            let status = try? await device.ping(heartbeat: Int.random(in: 300...900))
                            // A Ping that failed (the gateway away) is sent again after a pause.
                            if status == nil { try? await Task.sleep(for: .seconds(1)) }
                            await wake.pingAnswered()
                            return status
                        }
                    }
                    // Whichever comes first: the Ping's answer or the user's next action.
                    let waitUntil = min(nextAction, deadline)
                    let timer = Task {
                        try? await Task.sleep(until: waitUntil, clock: .continuous)
                        if !Task.isCancelled { await wake.timeUp() }
                    }
                    let answered = await wake.wait()
                    timer.cancel()
                    if answered {
                        let status = await ping?.value
                        ping = nil
                        if status == "2" { try? await device.sync(label: "Sync (push)") }
                        continue
                    }
                    guard ContinuousClock.now < deadline else { break }
                    sequence += 1
                    let roll = Double.random(in: 0..<1)
                    if roll < 0.6 {
                        try? await device.flagChange(attempts: attempts)
                    } else if roll < 0.8 {
                        try? await device.sendMail(to: account(number + Int.random(in: 1..<max(accounts, 2))), sequence: sequence,
                                                   attempts: attempts)
                    } else {
                        try? await device.refresh(attempts: attempts)
                    }
                    nextAction = ContinuousClock.now + .milliseconds(Int(-log(Double.random(in: 0.0001...1)) * thinkMean * 1000))
                }
                // The run is over: a still held Ping is left to the gateway's end.
                ping?.cancel()
            }
        }
    }
    let seconds = BenchmarkSupport.seconds(ContinuousClock.now - started)
    let cpu = gateway.cpuSeconds - cpuBefore + (await injector.value)
    cpuBefore = 0
    let memory = await sampler.value
    let requests = await tally.requests
    let failures = await tally.failureCount
    emit("\n| date | commit | mixed load, devices | minutes | faults | requests | requests/s | failed requests | gateway CPU % | RSS over the run MB |")
    emit("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |")
    emit(String(format: "| %@ | %@ | %d | %.1f | %@ | %d | %.1f | %d | %.0f | %@ |", date, commit, devices.count, seconds / 60,
                 faults ? "yes" : "no", requests, Double(requests) / seconds, failures, cpu / seconds * 100,
                 memory.map { String(format: "%.0f", Double($0.1) / 1024) }.joined(separator: " → ")))
    emit("\n| command | count | p50 ms | p99 ms |")
    emit("| --- | ---: | ---: | ---: |")
    for command in await tally.commands where command != "Ping (held)" {
        let samples = await tally.samples(command)
        let (median, p99) = percentiles(samples)
        emit(String(format: "| %@ | %d | %.1f | %.1f |", command, samples.count, median, p99))
    }
    for (what, count) in await tally.failures.sorted(by: { $0.key < $1.key }).prefix(20) { emit("failure: \(what) × \(count)") }

    // Convergence: mail still in Postfix's queue lands, then every device syncs to the end and
    // is compared with its mailbox over IMAP.
    try await Task.sleep(for: .seconds(10))
    emit("syncing every device to the end …")
    var unsynced = 0
    for device in devices {
        do { try await device.refresh(attempts: 10) } catch { unsynced += 1 }
    }
    let users = Array(Set(devices.map(\.user))).sorted()
    emit("reading \(users.count) mailboxes over IMAP …")
    let listing = try mailboxes(users)
    var missing = 0, extra = 0, wrongFlags = 0, duplicates = 0, sentCount = 0, notDelivered = 0, deliveredTwice = 0
    for device in devices {
        duplicates += device.duplicates
        let mailbox = listing[device.user]?.seen ?? [:]
        var held: [UInt32: Bool] = [:]
        for (id, read) in device.read {
            if let uid = id.split(separator: ":").last.flatMap({ UInt32($0) }) { held[uid] = read }
        }
        missing += Set(mailbox.keys).subtracting(held.keys).count
        extra += Set(held.keys).subtracting(mailbox.keys).count
        wrongFlags += held.filter { uid, read in mailbox[uid].map { $0 != read } ?? false }.count
        for (subject, recipient) in device.sent {
            sentCount += 1
            switch listing[recipient]?.subjects[subject] ?? 0 {
            case 0: notDelivered += 1
            case 1: break
            default: deliveredTwice += 1
            }
        }
    }
    emit("\n| date | commit | devices | faults | not synced to the end | messages missing | extra | read flag differs | added twice | sent | not delivered | delivered twice |")
    emit("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    emit("| \(date) | \(commit) | \(devices.count) | \(faults ? "yes" : "no") | \(unsynced) | \(missing) | \(extra) | \(wrongFlags) "
         + "| \(duplicates) | \(sentCount) | \(notDelivered) | \(deliveredTwice) |")
    if unsynced + missing + extra + wrongFlags + duplicates + notDelivered + deliveredTwice > 0 {
        FileHandle.standardError.write(Data("LoadBenchmark: the devices did not converge to their mailboxes\n".utf8))
        exit(1)
    }
}
