import Foundation
import NIOCore

/// The project's shared reference material: Microsoft's token table, Exchange captures with
/// libwbxml's decodings, and the validator. It sits beside the repository as `../shared`, or
/// where `AIRGATE_SHARED_DIR` points.
enum SharedFixtures {
    static let directory: URL = {
        if let path = ProcessInfo.processInfo.environment["AIRGATE_SHARED_DIR"] {
            return URL(fileURLWithPath: path)
        }
        // Tests/EASProtocolTests/SharedFixtures.swift -> repository root -> ../shared
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared")
    }()

    static var captures: URL { directory.appendingPathComponent("fixtures/exchange-captures") }
    static var tokenTable: URL { directory.appendingPathComponent("fixtures/ms-aswbxml-tokens.tsv") }
    static var validator: URL { directory.appendingPathComponent("tools/eas-validate") }

    /// The names of the captured bodies, e.g. `response-151`.
    static let captureNames: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: captures.path)) ?? []
        return files.filter { $0.hasSuffix(".wbxml") }.map { String($0.dropLast(6)) }.sorted()
    }()

    static func bytes(_ url: URL) throws -> [UInt8] {
        Array(try Data(contentsOf: url))
    }
}

/// Runs a program and returns its exit status and standard output.
func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The path of a program on PATH, if installed.
func which(_ program: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/\(program)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// True when the run must fail rather than skip if an external checker is missing (CI sets it).
let externalToolsRequired = ProcessInfo.processInfo.environment["AIRGATE_REQUIRE_EXTERNAL_TOOLS"] == "1"

/// Whether tests that need `program` run: always when it is installed, and when it is required
/// but missing, so that the test fails and says what to install.
func externalTool(_ program: String) -> Bool {
    which(program) != nil || externalToolsRequired
}

func temporaryFile(_ name: String, _ bytes: some Sequence<UInt8>) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-tests-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}
