import EASClient
import Foundation
import Synchronization

/// `airgate serve` (the binary built next to the running benchmark) as a child process on a
/// loopback port, with an SQLite store of its own, measured through /proc.
// Unchecked: a benchmark drives it from one place at a time (restart while others only read /proc).
public final class GatewayProcess: @unchecked Sendable {
    public let port: Int
    private var process = Process()
    private let binary: URL
    private let arguments: [String]
    private let environment: [String: String]
    let keepLog: Bool
    var logPath: String { store + ".log" }
    let store = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-benchmark-\(UUID().uuidString).sqlite").path

    /// - Parameter environment: settings over the benchmark defaults (`AIRGATE_…` variables).
    public init(port: Int, environment extra: [String: String] = [:]) throws {
        self.port = port
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("airgate")
        self.binary = binary
        arguments = ["serve", "--stack-env", BenchmarkSupport.envPath, "--sqlite", store, "--listen", "127.0.0.1:\(port)"]
        Self.stopChildrenOnSignals()
        var environment = ProcessInfo.processInfo.environment
        // AIRGATE_LOG_LEVEL set for the benchmark keeps the gateway's log (its path is printed).
        keepLog = environment["AIRGATE_LOG_LEVEL"] != nil
        environment["AIRGATE_LOG_LEVEL"] = environment["AIRGATE_LOG_LEVEL"] ?? "error"
        // One device sends hundreds of requests a minute here; the default budgets (300 per
        // device and minute) would answer 503 and measure the throttle instead.
        environment["AIRGATE_LIMITS_REQUESTS_PER_DEVICE_PER_MINUTE"] = "100000"
        environment["AIRGATE_LIMITS_REQUESTS_PER_USER_PER_MINUTE"] = "1000000"
        environment.merge(extra) { _, new in new }
        self.environment = environment
        FileManager.default.createFile(atPath: logPath, contents: nil)
        try launch()
        if keepLog { FileHandle.standardError.write(Data("gateway log: \(logPath)\n".utf8)) }
    }

    private func launch() throws {
        process = Process()
        // AIRGATE_BENCH_GATEWAY_WRAPPER runs the gateway under a tool, e.g. "heaptrack -o FILE"
        // (docs/performance.md).
        let wrapper = (environment["AIRGATE_BENCH_GATEWAY_WRAPPER"] ?? "").split(separator: " ").map(String.init)
        if let tool = wrapper.first {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [tool] + wrapper.dropFirst() + [binary.path] + arguments
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        process.environment = environment
        let log = FileHandle(forWritingAtPath: logPath)
        log?.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        Self.children.withLock { $0.insert(process.processIdentifier) }
    }

    // MARK: No gateway left behind

    private static let children = Mutex<Set<Int32>>([])
    private static let signalSources = Mutex<[any DispatchSourceSignal]>([])

    /// An interrupted benchmark (Ctrl-C, `timeout`) kills its gateways before it exits, so
    /// that none is left holding mail server connections.
    private static func stopChildrenOnSignals() {
        signalSources.withLock { sources in
            guard sources.isEmpty else { return }
            for number in [SIGINT, SIGTERM, SIGHUP] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    for pid in children.withLock({ $0 }) { kill(pid, SIGKILL) }
                    exit(128 + number)
                }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// SIGKILL, as a crash or the OOM killer would, then the same gateway again on the same
    /// store and port; returns once it answers.
    public func killAndRestart() async throws {
        kill(pid, SIGKILL)
        Self.children.withLock { _ = $0.remove(pid) }
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        try launch()
        try await waitUntilLive()
    }

    public var pid: Int32 { process.processIdentifier }

    public func waitUntilLive() async throws {
        for _ in 0..<300 {
            if let answer = try? await HTTPExchange(host: "127.0.0.1", port: port, timeout: .seconds(2))
                .send(method: .GET, path: "/healthz", headers: [], body: []), answer.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw EASClientError("the gateway did not start")
    }

    /// User plus system CPU seconds so far.
    public var cpuSeconds: Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // Fields 14 and 15 of the line (utime, stime): 12 and 13 after the command name.
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / ticks
    }

    /// Resident anonymous memory (the heap; not mapped files) now, in KiB.
    public var anonymousMemory: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        return status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
    }

    /// Resident memory now and at its highest, in KiB.
    public var memory: (rss: Int, peak: Int) {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Int {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    /// Threads of the process now.
    public var threads: Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? 0
    }

    /// The process's established TCP connections to `remotePort` on loopback (its IMAP
    /// connections, when that is the IMAP port): its socket inodes matched in /proc/net/tcp.
    public func connections(toPort remotePort: Int) -> Int {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        var inodes: Set<Substring> = []
        for fd in fds {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                  target.hasPrefix("socket:[")
            else { continue }
            inodes.insert(Substring(target.dropFirst(8).dropLast()))
        }
        var count = 0
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            // Read to the end: a plain file read stops after the first page of these tables.
            guard let data = FileHandle(forReadingAtPath: table)?.readDataToEndOfFile() else { continue }
            let text = String(decoding: data, as: UTF8.self)
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                // sl local rem st … inode (field 10); state 01 is ESTABLISHED.
                guard fields.count > 9, fields[3] == "01", inodes.contains(fields[9]),
                      let colon = fields[2].lastIndex(of: ":"), Int(fields[2][fields[2].index(after: colon)...], radix: 16) == remotePort
                else { continue }
                count += 1
            }
        }
        return count
    }

    /// One sample of a metric from `/metrics` (the first line of that name, labels and all).
    public func metric(_ name: String) async -> Double? {
        guard let answer = try? await HTTPExchange(host: "127.0.0.1", port: port, timeout: .seconds(10))
            .send(method: .GET, path: "/metrics", headers: [], body: []), answer.status == 200
        else { return nil }
        for line in String(decoding: answer.body, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name) {
            let rest = line.dropFirst(name.count)
            guard rest.first == " " || rest.first == "{" else { continue }
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }

    public func stop() {
        if process.isRunning { kill(pid, SIGKILL) }
        Self.children.withLock { _ = $0.remove(pid) }
        try? FileManager.default.removeItem(atPath: store)
        if !keepLog { try? FileManager.default.removeItem(atPath: logPath) }
    }
}
