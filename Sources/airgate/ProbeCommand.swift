import ArgumentParser
import EASClient
import EASProbe
import EASProtocol
import Foundation

/// `airgate probe URL --user U`: what a new device does, against any EAS server, with every
/// answer held to the protocol's rules.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Run a client's first steps against an EAS server and report protocol violations.",
        discussion: """
            Runs Autodiscover, OPTIONS, Provision, FolderSync, a Sync of one folder (and the same \
            request again, as a client does when an answer is lost), an ItemOperations fetch and a \
            Ping, against this gateway, Exchange, Z-Push or any other EAS server. The password is \
            read from AIRGATE_PASSWORD, else asked for. The probe registers a device called \
            AirgateProbe on the server (remove it afterwards) and changes no mail.
            Exit status: 0 no violation, 1 violations found, 2 the probe could not finish.
            """
    )

    @Argument(help: "The server: https://host[:port][/Microsoft-Server-ActiveSync].")
    var url: String

    @Option(help: "The login.") var user: String
    @Option(help: "EAS version to speak (default: the highest offered, up to 16.1).") var easVersion: String?
    @Option(help: "Folder to Sync, by display name (default: the Inbox).") var folder: String?
    @Option(help: "WindowSize of the Sync.") var window: Int = 25
    @Option(help: "Ping HeartbeatInterval in seconds; 0: no Ping.") var pingSeconds: Int = 60
    @Flag(help: "Skip Autodiscover.") var noAutodiscover = false
    @Option(help: "Trust this CA (PEM) for the server's certificate.") var caFile: String?
    @Flag(help: "Do not check the server's certificate (testing only).") var insecure = false
    @Flag(help: "Print each request and answer decoded to XML.") var xml = false
    @Option(help: "Write each answer's raw bytes and XML into this directory.") var trace: String?

    func run() async throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "https" || scheme == "http", let host = components.host, !host.isEmpty
        else { throw ValidationError("the URL is https://host[:port][/Microsoft-Server-ActiveSync]") }
        guard (1...512).contains(window) else { throw ValidationError("--window is 1 to 512") }
        guard (0...3540).contains(pingSeconds) else { throw ValidationError("--ping-seconds is 0 to 3540") }
        var version: EASProtocolVersion?
        if let easVersion {
            guard let parsed = EASProtocolVersion(headerValue: easVersion) else {
                throw ValidationError("--eas-version is one of 12.0, 12.1, 14.0, 14.1, 16.0, 16.1")
            }
            version = parsed
        }
        let password = try Self.password()
        let tls = scheme == "https" ? HTTPExchangeTLS(caFile: caFile, verifyCertificate: !insecure) : nil
        var options = ProbeOptions(host: host, port: components.port ?? (tls == nil ? 80 : 443), tls: tls, user: user,
                                   password: password)
        options.version = version
        options.folder = folder
        options.windowSize = window
        options.pingSeconds = pingSeconds == 0 ? nil : pingSeconds
        options.autodiscover = !noAutodiscover

        print("airgate probe \(url) as \(user)")
        let report = await Probe(options).run()
        if let trace { try write(report, to: trace) }
        print(Self.render(report, xml: xml), terminator: "")
        if report.violations > 0 { throw ExitCode(1) }
        if !report.completed { throw ExitCode(2) }
    }

    static func password() throws -> String {
        if let value = ProcessInfo.processInfo.environment["AIRGATE_PASSWORD"], !value.isEmpty { return value }
        guard let typed = getpass("Password: ") else { throw ValidationError("no password (set AIRGATE_PASSWORD)") }
        let password = String(cString: typed)
        guard !password.isEmpty else { throw ValidationError("no password (set AIRGATE_PASSWORD)") }
        return password
    }

    /// The readable report: a line per step with its time and outcome, its findings under it.
    static func render(_ report: ProbeReport, xml: Bool) -> String {
        var out = report.version.map { "EAS \($0)\n" } ?? ""
        let width = report.steps.map(\.name.count).max() ?? 0
        for step in report.steps {
            let worst = step.findings.map(\.severity).max()
            let mark = worst == .violation ? "FAIL" : worst == .warning ? "warn" : "ok  "
            let milliseconds = step.duration.components.seconds * 1000 + step.duration.components.attoseconds / 1_000_000_000_000_000
            out += "\(mark) \(step.name.padding(toLength: width, withPad: " ", startingAt: 0))  "
                + "\(String(milliseconds).leftPadded(to: 6)) ms  \(step.summary)\n"
            for finding in step.findings { out += "       \(finding)\n" }
            if xml {
                if let request = step.request { out += indent("request:\n" + request.xml()) }
                if let response = step.response { out += indent("response:\n" + response.xml()) }
            }
        }
        let warnings = report.findings.filter { $0.severity == .warning }.count
        out += "\(report.violations) violation\(report.violations == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")"
        out += report.completed ? "\n" : "; the probe could not finish\n"
        return out
    }

    static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "       " + $0 }.joined(separator: "\n") + "\n"
    }

    /// `NN-step.wbxml` (the raw answer) and `NN-step.xml` (requests and answers decoded).
    func write(_ report: ProbeReport, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (index, step) in report.steps.enumerated() {
            let base = String(format: "%02d-", index + 1) + step.name.lowercased()
                .map { $0.isLetter || $0.isNumber ? $0 : "-" }.reduce(into: "") { $0.append($1) }
            let path = URL(fileURLWithPath: directory).appendingPathComponent(base)
            try Data(step.rawResponse).write(to: path.appendingPathExtension(step.response == nil ? "body" : "wbxml"))
            var text = ""
            if let request = step.request { text += "<!-- request -->\n" + request.xml() }
            if let response = step.response { text += "<!-- response -->\n" + response.xml() }
            if !text.isEmpty { try Data(text.utf8).write(to: path.appendingPathExtension("xml")) }
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
