import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import Gateway
import Logging
import Synchronization
import Testing

/// Every line logged while a request is answered says which request, user, device and command
/// it belongs to; a device's protocol trace, switched on from the CLI, logs the decoded
/// exchange; passwords appear nowhere.
@Suite struct LoggingTests {
    /// Keeps every line with its metadata (the handler's, the logger's provider's and the call's).
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
    }

    struct Capture: LogHandler {
        let lines: Lines
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata call: Logger.Metadata?, source: String, file: String,
                 function: String, line: UInt) {
            var all = metadata.merging(metadataProvider?.get() ?? [:]) { $1 }
            all.merge(call ?? [:]) { $1 }
            let text = "\(level) \(message) " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            lines.lines.withLock { $0.append(text) }
        }
    }

    @Test func requestLinesCarryWhoAndTheTraceShowsTheExchange() async throws {
        guard Stack.available(), FileManager.default.isExecutableFile(atPath: DevicesCommandTests.binary) else { return }
        let lines = Lines()
        let logger = Logger(label: "airgate.test", factory: { _ in Capture(lines: lines, metadataProvider: RequestLog.provider) })
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-log-\(UUID().uuidString).sqlite").path
        let gateway = try await RunningGateway.start(logger: logger) { $0.store = .sqlite(path: store) }
        defer { Task { await gateway.stop() } }
        var device = gateway.device(type: "WindowsOutlook15")
        let folderSync = EASElement(EASTag.FolderHierarchy.folderSync, children: [EASElement(EASTag.FolderHierarchy.syncKey, text: "0")])
        #expect(try await device.send("FolderSync", folderSync).status == 200)
        let on = try await LocalStack.run(DevicesCommandTests.binary, [
            "devices", "trace", "on", "--user", device.user, "--device", device.deviceId, "--sqlite", store,
        ])
        #expect(on.status == 0)
        #expect(try await device.send("FolderSync", folderSync).status == 200)
        let trace = try #require(lines.all.first { $0.hasPrefix("info trace ") })
        #expect(trace.contains("request_xml=<?xml") && trace.contains("<FolderSync xmlns=\"FolderHierarchy:\">"))
        #expect(trace.contains("response_xml=") && trace.contains("<Status>1</Status>"))
        #expect(trace.contains("user=\(device.user)") && trace.contains("device=\(device.deviceId)") && trace.contains("command=FolderSync"))
        #expect(trace.contains("request="))
        // Off again: no more trace lines.
        _ = try await LocalStack.run(DevicesCommandTests.binary, [
            "devices", "trace", "off", "--user", device.user, "--device", device.deviceId, "--sqlite", store,
        ])
        let before = lines.all.filter { $0.hasPrefix("info trace ") }.count
        #expect(try await device.send("FolderSync", folderSync).status == 200)
        #expect(lines.all.filter { $0.hasPrefix("info trace ") }.count == before)

        // A failing login logs who tried, and never the password.
        var wrong = gateway.device(type: "iPhone")
        wrong.password = "Sekr1t-\(UUID().uuidString)"
        #expect(try await wrong.send("FolderSync", folderSync).status == 401)
        #expect(!lines.all.contains { $0.contains(wrong.password) || $0.contains(Stack["DEMO_PASSWORD"]) })
    }
}
