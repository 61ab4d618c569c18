// Measures how fast the IMAP adapter reads what a Sync needs from a large mailbox (envelope,
// MIME structure, flags, and the first 50 KB of each message's text part), next to Python's
// imaplib sending the same commands and parsing nothing: the physical reference.
//
//   Deploy/stack.sh up
//   swift run -c release UpstreamBenchmark            # 10,000 messages (seeded on first run)
//   swift run -c release UpstreamBenchmark --quick    # 500 messages, to check that it runs
//
// Prints a Markdown table row for BENCHMARKS.md.

import BenchmarkSupport
import Foundation
import MailUpstream
import MailUpstreamEtPan

let arguments = CommandLine.arguments
let quick = arguments.contains("--quick")
let count = quick ? 500 : 10_000
/// Messages per Sync batch: 100 is what iOS asks for, 512 what Outlook asks for.
let batchSize = arguments.firstIndex(of: "--batch").flatMap { Int(arguments[$0 + 1]) } ?? 100
/// Each side runs this many times, alternately; the median run is reported.
let rounds = quick ? 1 : 5
let truncation = 51_200
let env = BenchmarkSupport.stackValues(for: "UpstreamBenchmark")
let envPath = BenchmarkSupport.envPath
let endpoint = ServerEndpoint(host: env["IMAP_HOST"] ?? "127.0.0.1", port: Int(env["IMAP_PORT"] ?? "") ?? 10143,
                              security: .startTLS, caFile: env["TLS_CA_FILE"], serverName: "localhost", timeout: .seconds(60))
let adapter = IMAPAdapter(threads: 2, limits: IMAPPoolLimits(perAccount: 1))
let session = IMAPMailSession(pool: adapter.pool(endpoint: endpoint, credentials: .login(
    user: env["DEMO_USER"] ?? "", password: env["DEMO_PASSWORD"] ?? "")))

// The mailbox: seeded once with the stack's realistic mix, reused afterwards.
let folder = try await BenchmarkSupport.seededFolder(count, session: session)

// One run of the adapter over the whole mailbox; the plan records the commands for the reference.
struct AdapterRun {
    var messages = 0
    var bytes = 0
    var seconds = 0.0
    var cpu = 0.0
    var plan: [String] = []
}

func adapterRun(_ uids: [UInt32]) async throws -> AdapterRun {
    var run = AdapterRun()
    let wallStart = ContinuousClock.now
    let cpuStart = BenchmarkSupport.cpuSeconds()
    for start in stride(from: 0, to: uids.count, by: batchSize) {
        let batch = Array(uids[start..<min(start + batchSize, uids.count)])
        let summaries = try await session.summaries(in: folder, uids: UIDSet(uids: batch))
        run.messages += summaries.count
        let requests = summaries.map { PartRequest(uid: $0.uid, section: BenchmarkSupport.textSection($0.structure), range: 0..<truncation) }
        let parts = try await session.fetchParts(in: folder, requests)
        run.bytes += parts.values.reduce(0) { $0 + $1.count }
        let groups = Dictionary(grouping: requests, by: { $0.section ?? "1" })
            .map { "\($0.key)=\(UIDSet(uids: $0.value.map(\.uid)))" }.sorted().joined(separator: ";")
        run.plan.append("\(UIDSet(uids: batch))\t\(groups)")
    }
    let wall = ContinuousClock.now - wallStart
    run.seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
    run.cpu = BenchmarkSupport.cpuSeconds() - cpuStart
    return run
}

let (_, listing) = try await session.listing(of: folder)
let uids = listing.map(\.uid)
let planFile = FileManager.default.temporaryDirectory.appendingPathComponent("upstream-benchmark-plan.txt")
var adapterRuns: [AdapterRun] = []
var referenceRuns: [[Double]] = []
for _ in 0..<rounds {
    let run = try await adapterRun(uids)
    adapterRuns.append(run)
    try run.plan.joined(separator: "\n").write(to: planFile, atomically: true, encoding: .utf8)
    referenceRuns.append(try BenchmarkSupport.run("python3", ["Benchmarks/UpstreamBenchmark/imap_reference.py", envPath, folder.wireName,
                                              planFile.path])
        .split(separator: " ").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 })
}
let adapter_ = adapterRuns.sorted { $0.seconds < $1.seconds }[adapterRuns.count / 2]
let reference = referenceRuns.sorted { $0[1] < $1[1] }[referenceRuns.count / 2]
let messages = adapter_.messages
let bytes = adapter_.bytes
let cpu = adapter_.cpu
let referenceRate = reference[0] / reference[1]
let rate = Double(messages) / adapter_.seconds

let commit = BenchmarkSupport.commit
let date = BenchmarkSupport.date
print("| date | commit | messages | batch | adapter msg/s | adapter CPU s per 1,000 | imaplib msg/s | adapter / imaplib | body bytes |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
print(String(format: "| %@ | %@ | %d | %d | %.0f | %.3f | %.0f | %.0f%% | %d |", String(date), commit, messages, batchSize, rate,
             cpu / Double(max(messages, 1)) * 1000, referenceRate, rate / referenceRate * 100, bytes))
if Int(reference[2]) != bytes { print("note: the reference received \(Int(reference[2])) body bytes, the adapter \(bytes)") }
await session.pool.close()
