import Foundation
import MailUpstream

/// Prints a line at once: tables appear as they are measured, also when the output is a file.
public func emit(_ line: String) {
    print(line)
    fflush(nil)
}

/// What the benchmarks against the local stack share: its settings, running tools, CPU time,
/// and the IMAP commands a Sync of new mail needs (for the imaplib reference).
public enum BenchmarkSupport {
    public static let envPath = "Deploy/.stack/env"

    /// `Deploy/.stack/env` as a dictionary; exits with a clear message when the stack is not up.
    public static func stackValues(for tool: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: envPath, encoding: .utf8) else {
            FileHandle.standardError.write(Data("\(tool): no \(envPath); run Deploy/stack.sh up first\n".utf8))
            exit(2)
        }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = line[line.index(after: equals)...].trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        }
        return values
    }

    /// Runs a tool to its end and returns its standard output; throws on a non-zero exit.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "Benchmark", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "\(executable) \(arguments.joined(separator: " ")) failed"])
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// User and system CPU seconds of this process.
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// The part a phone shows: the first text/plain, else the first text/html, else section 1.
    public static func textSection(_ structure: MIMEPart?) -> String {
        guard let structure else { return "1" }
        let leaves = structure.allParts.filter { !$0.isMultipart && $0.disposition != "attachment" }
        return (leaves.first { $0.mediaType == "text/plain" } ?? leaves.first { $0.mediaType == "text/html" })?.section ?? "1"
    }

    /// A folder of the stack's realistic mix with `count` messages (seeded on first use).
    public static func seededFolder(_ count: Int, session: any MailSession) async throws -> IMAPMailboxName {
        let folder = IMAPMailboxName(wire: "Bench-\(count)")
        let existing = try? await session.status(folder)
        if existing?.messages != count {
            if existing != nil { try await session.deleteMailbox(folder) }
            print("seeding \(folder) with \(count) messages …")
            try run("bash", ["Deploy/stack.sh", "seed", "--count", String(count), "--folder", folder.wireName])
        }
        return folder
    }

    /// The plan for `imap_reference.py`: per batch of `batchSize` UIDs, the envelope/structure
    /// FETCH and the text-part fetches a Sync of those messages needs. Returns the plan file
    /// and the number of messages.
    public static func referencePlan(_ session: any MailSession, folder: IMAPMailboxName, batchSize: Int) async throws
        -> (path: String, messages: Int)
    {
        let (_, listing) = try await session.listing(of: folder)
        let uids = listing.map(\.uid)
        var plan: [String] = []
        for start in stride(from: 0, to: uids.count, by: batchSize) {
            let batch = Array(uids[start..<min(start + batchSize, uids.count)])
            let summaries = try await session.summaries(in: folder, uids: UIDSet(uids: batch))
            let groups = Dictionary(grouping: summaries, by: { textSection($0.structure) })
                .map { "\($0.key)=\(UIDSet(uids: $0.value.map(\.uid)))" }.sorted().joined(separator: ";")
            plan.append("\(UIDSet(uids: batch))\t\(groups)")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("benchmark-plan-\(UUID().uuidString).txt")
        try plan.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        return (file.path, uids.count)
    }

    /// `imap_reference.py` over a plan: (messages, seconds, body bytes).
    public static func reference(plan: String, folder: IMAPMailboxName) throws -> (messages: Double, seconds: Double, bytes: Double) {
        let fields = try run("python3", ["Benchmarks/UpstreamBenchmark/imap_reference.py", envPath, folder.wireName, plan])
            .split(separator: " ").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 }
        guard fields.count >= 3 else { throw NSError(domain: "Benchmark", code: 1) }
        return (fields[0], fields[1], fields[2])
    }

    /// The current commit, short.
    public static var commit: String {
        (try? run("git", ["rev-parse", "--short", "HEAD"]))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
    }

    /// Today, `YYYY-MM-DD`.
    public static var date: String { String(ISO8601DateFormatter().string(from: Date()).prefix(10)) }

    /// Median and 99th percentile of durations in milliseconds.
    public static func percentiles(_ values: [Double]) -> (median: Double, p99: Double) {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return (0, 0) }
        return (sorted[sorted.count / 2], sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))])
    }

    public static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
