import Foundation
import SyncState
import SyncStatePostgres
import SyncStateSQL
import SyncStateSQLite
import Testing

/// A process killed (SIGKILL) while advancing a SyncKey leaves the old generation or the new
/// one, never a mix; the next advance succeeds; nothing is lost or held twice.
@Suite("Crash while advancing a SyncKey")
struct StateCrashTests {
    static let rounds = 4

    @Test("SQLite")
    func sqlite() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("state.sqlite").path
        for round in 1...Self.rounds {
            let device = "crash-\(round)"
            let last = try await runAndKill(["sqlite", path, device])
            let store = try await SQLiteStateStore.open(path: path)
            do {
                try await verify(store, device: device, lastPrinted: last)
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        }
    }

    @Test("PostgreSQL", .enabled(if: PostgresTestDatabase.url != nil || PostgresTestDatabase.required))
    func postgres() async throws {
        let url = try #require(PostgresTestDatabase.url, "PostgreSQL is required: run Deploy/stack.sh up")
        try await PostgresTestDatabase.withStore { store, _ in
            let schema = try #require(try await store.database.query("SELECT current_schema()", []).first?.first)
            guard case .text(let name) = schema else { throw StateStoreError(.corrupt) }
            for round in 1...Self.rounds {
                let device = "crash-\(round)"
                let last = try await runAndKill(["postgres", url, name, device])
                try await verify(store.store, device: device, lastPrinted: last)
            }
        }
    }

    /// Starts the driver, lets it commit a few generations, kills it at a random moment, and
    /// returns the last generation it reported as committed.
    private func runAndKill(_ arguments: [String]) async throws -> (number: Int64, key: SyncKey) {
        let process = Process()
        process.executableURL = Self.driver
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let lines = LineReader(output.fileHandleForReading)
        var last: (Int64, SyncKey)?
        // Read at least three commits, then kill somewhere in the middle of a later one.
        while let line = lines.next() {
            let parts = line.split(separator: " ")
            guard parts.count == 3, let number = Int64(parts[1]) else { continue }
            last = (number, SyncKey(String(parts[2])))
            if number >= 3 { break }
        }
        try await Task.sleep(for: .milliseconds(Int.random(in: 0...40)))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        // Whatever it printed before dying counts too.
        while let line = lines.next() {
            let parts = line.split(separator: " ")
            if parts.count == 3, let number = Int64(parts[1]) { last = (number, SyncKey(String(parts[2]))) }
        }
        return try #require(last, "the driver committed nothing")
    }

    private func verify(_ store: any StateStore, device deviceId: String, lastPrinted: (number: Int64, key: SyncKey))
        async throws {
        let account = try await store.account(named: "crash@airgate.test")
        let inbox = try #require(try await store.folders(of: account).first)
        let collection = CollectionRef(device: DeviceRef(account: account, deviceId: deviceId), folderId: inbox.folderId)
        let held = try await store.heldMessages(collection)
        func blocks(_ count: Int64) -> Set<MessageUID> { Set((1...(count * 100)).map { MessageUID($0) }) }

        switch try await store.collection(collection, key: lastPrinted.key) {
        case .current(let generation):
            // Killed before the next commit: exactly what the last printed generation gave.
            #expect(generation.number == lastPrinted.number)
            #expect(held == blocks(lastPrinted.number))
            let next = try await store.advanceCollection(collection, from: lastPrinted.key, expectedCurrent: lastPrinted.key,
                                                         to: CollectionAdvance(cursor: 0, added: [999_999]))
            #expect(next.number == lastPrinted.number + 1)
        case .previous:
            // Killed after a commit it could not print: that generation is whole.
            #expect(held == blocks(lastPrinted.number + 1))
            let all = try await store.devices(of: account).count
            #expect(all >= 1)
        default:
            Issue.record("the last committed key \(lastPrinted.key) is gone")
        }
    }

    static var driver: URL {
        // The test bundle and the driver are built into the same directory.
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [directory, directory.deletingLastPathComponent()]
        for candidate in candidates {
            let url = candidate.appendingPathComponent("StateCrashDriver")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return directory.appendingPathComponent("StateCrashDriver")
    }
}

/// Reads lines from a pipe as they come.
final class LineReader: @unchecked Sendable {
    // Only used from one task at a time.
    private let handle: FileHandle
    private var buffer = Data()

    init(_ handle: FileHandle) { self.handle = handle }

    func next() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }
}
