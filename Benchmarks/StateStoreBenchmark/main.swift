// Measures the state store on both databases: change-log append and drain rates, and the time
// to advance a SyncKey that records 100 drained entries.
//
//   swift run -c release StateStoreBenchmark                     # SQLite, plus PostgreSQL if Deploy/.stack/env exists
//   swift run -c release StateStoreBenchmark --quick             # small size, to check that it runs
//   swift run -c release StateStoreBenchmark --postgres URL      # another PostgreSQL
//
// Prints a Markdown table for BENCHMARKS.md. Wall-clock times: the databases do real I/O.

import Foundation
import SyncState
import SyncStatePostgres
import SyncStateSQL
import SyncStateSQLite

let arguments = CommandLine.arguments
let quick = arguments.contains("--quick")
let entries = quick ? 2_000 : 50_000
let advances = quick ? 50 : 1_000

func stackPostgresURL() -> String? {
    if let index = arguments.firstIndex(of: "--postgres"), index + 1 < arguments.count { return arguments[index + 1] }
    return try? PostgresDatabase.url(fromStackEnv: "Deploy/.stack/env")
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func measure(_ store: any StateStore, name: String) async throws {
    let clock = ContinuousClock()
    let account = try await store.account(named: "bench-\(UUID().uuidString)@airgate.test")
    let inbox = try await store.saveFolder(of: account, mailboxName: "INBOX", uidValidity: 1, type: 2, parentId: nil)
    let folder = FolderRef(account: account, folderId: inbox.folderId)

    // Append in tracker-sized batches of 100.
    var modSeq: UInt64 = 0
    let appendTime = try await clock.measure {
        for batch in 0..<(entries / 100) {
            let changes = (0..<100).map { index -> ChangeEntry in
                modSeq += 1
                return ChangeEntry(kind: .added, uid: MessageUID(batch * 100 + index + 1), modSeq: modSeq, flags: ["\\Seen"])
            }
            try await store.appendChanges(folder, changes,
                                          watermark: MailboxWatermark(uidValidity: 1, highestModSeq: modSeq, uidNext: 1))
        }
    }

    // Drain as a Sync would, 512 at a time.
    var drained = 0
    let drainTime = try await clock.measure {
        var cursor: Int64 = 0
        while true {
            let page = try await store.changes(folder, after: cursor, limit: 512)
            guard let last = page.last else { break }
            drained += page.count
            cursor = last.sequence
        }
    }

    // Advance a key recording 100 drained entries, again and again.
    let device = DeviceRef(account: account, deviceId: "bench")
    _ = try await store.recordContact(DeviceContact(ref: device, deviceType: "Bench", userAgent: nil,
                                                    protocolVersion: "16.1", at: 0))
    let collection = CollectionRef(device: device, folderId: inbox.folderId)
    var current = try await store.advanceCollection(collection, from: .initial, expectedCurrent: nil,
                                                    to: CollectionAdvance(cursor: 0))
    var times: [Double] = []
    for index in 0..<advances {
        let added = (0..<100).map { MessageUID(index * 100 + $0 + 1) }
        var next = current
        let time = try await clock.measure {
            next = try await store.advanceCollection(collection, from: current.key, expectedCurrent: current.key,
                                                     to: CollectionAdvance(cursor: Int64(index * 100 + 100), added: added))
        }
        current = next
        times.append(seconds(time) * 1000)
    }
    times.sort()
    let median = times[times.count / 2]
    let p99 = times[min(times.count - 1, times.count * 99 / 100)]
    print("| \(name) | \(Int(Double(entries) / seconds(appendTime))) | \(Int(Double(drained) / seconds(drainTime))) | "
          + String(format: "%.2f | %.2f |", median, p99))
}

print("| store | append entries/s | drain entries/s | advance, 100 entries: median ms | p99 ms |")
print("| --- | ---: | ---: | ---: | ---: |")

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
let sqlite = try await SQLiteStateStore.open(path: directory.appendingPathComponent("state.sqlite").path)
try await measure(sqlite, name: "SQLite (file, WAL)")
try await sqlite.close()
try? FileManager.default.removeItem(at: directory)

/// Runs one statement on a short-lived client.
func administer(_ url: String, _ statement: String) async throws {
    let admin = PostgresDatabase(configuration: try PostgresDatabase.configuration(url: url))
    try await admin.withRunningClient { _ = try await admin.query(statement, []) }
}

if let url = stackPostgresURL() {
    // A schema of its own, dropped afterwards, so the benchmark leaves nothing behind.
    let schema = "bench_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    try await administer(url, "CREATE SCHEMA \(schema)")
    let postgres = PostgresStateStore(configuration: try PostgresDatabase.configuration(
        url: url, startupParameters: [("search_path", schema)]))
    try await postgres.withRunning { store in
        try await measure(store, name: "PostgreSQL (loopback)")
    }
    try await administer(url, "DROP SCHEMA \(schema) CASCADE")
} else {
    print("(PostgreSQL skipped: no Deploy/.stack/env and no --postgres URL)")
}
