/// An account's automatic replies, in the terms EAS uses ([MS-ASCMD] 2.2.3.119 Oof): off, on,
/// or on between two times, with one reply for senders of the account's own domain and one for
/// everyone else.
public struct OutOfOffice: Sendable, Equatable {
    public enum State: Int, Sendable {
        case off = 0
        case on = 1
        /// On from `start` until `end`.
        case scheduled = 2
    }

    public var state: State
    /// Milliseconds since 1970 (UTC); used when `state` is `.scheduled`.
    public var start: Int64?
    public var end: Int64?
    /// The reply to senders of the account's domain; nil sends them none.
    public var internalReply: String?
    /// The reply to everyone else; nil sends them none.
    public var externalReply: String?
    /// Whether the replies are HTML rather than plain text.
    public var isHTML: Bool

    public init(state: State = .off, start: Int64? = nil, end: Int64? = nil, internalReply: String? = nil,
                externalReply: String? = nil, isHTML: Bool = false) {
        self.state = state
        self.start = start
        self.end = end
        self.internalReply = internalReply
        self.externalReply = externalReply
        self.isHTML = isHTML
    }

    /// Longest reply text kept (Sieve servers limit script size; Dovecot's default is 1 MB).
    public static let maxReplyBytes = 64 * 1024
}

/// Reads and sets an account's automatic replies.
public protocol OutOfOfficeService: Sendable {
    func current() async throws -> OutOfOffice
    func set(_ settings: OutOfOffice) async throws
}

/// Where an account's Sieve scripts live ([RFC 5804] ManageSieve, or an in-memory stand-in).
public protocol SieveScriptStore: Sendable {
    /// Every script's name and whether it is the active one.
    func scripts() async throws -> [(name: String, active: Bool)]
    func script(named name: String) async throws -> String?
    /// Stores (creates or replaces) a script; the server checks it compiles.
    func put(_ script: String, named name: String) async throws
    /// Makes a script the active one; nil leaves none active.
    func activate(_ name: String?) async throws
}

/// Out-of-office kept as a Sieve script with a vacation action ([RFC 5230]), written so that
/// the user's own filters keep working: the script that was active before is included from
/// ours, and made active again when the replies are turned off.
public struct SieveOutOfOffice: OutOfOfficeService {
    /// The name of the script this gateway writes.
    public static let scriptName = "airgate-oof"

    let scripts: any SieveScriptStore
    /// The account's address: vacation answers only mail sent to it; its domain tells
    /// internal senders from external ones.
    let address: String

    public init(scripts: any SieveScriptStore, address: String) {
        self.scripts = scripts
        self.address = address
    }

    /// The replies as last set, and whether they are on (our script is the active one).
    public func current() async throws -> OutOfOffice {
        let list = try await scripts.scripts()
        guard list.contains(where: { $0.name == Self.scriptName }),
              let text = try await scripts.script(named: Self.scriptName),
              var settings = SieveVacationScript.settings(in: text)
        else { return OutOfOffice() }
        if !list.contains(where: { $0.name == Self.scriptName && $0.active }) { settings.state = .off }
        return settings
    }

    public func set(_ settings: OutOfOffice) async throws {
        let list = try await scripts.scripts()
        let activeName = list.first(where: \.active)?.name
        var previous: String?
        if activeName == Self.scriptName {
            previous = try await scripts.script(named: Self.scriptName).flatMap(SieveVacationScript.previousScript(in:))
        } else {
            previous = activeName
        }
        if let name = previous, !list.contains(where: { $0.name == name }) { previous = nil }
        let script = SieveVacationScript.render(settings, address: address, previousScript: previous)
        try await scripts.put(script, named: Self.scriptName)
        if settings.state == .off {
            if activeName == Self.scriptName { try await scripts.activate(previous) }
        } else {
            try await scripts.activate(Self.scriptName)
        }
    }
}

/// The Sieve text of an out-of-office setting and the way back. The settings are kept in
/// comment lines at the top so that reading them back does not depend on parsing Sieve.
public enum SieveVacationScript {
    static let marker = "# airgate-out-of-office: 1"

    public static func render(_ settings: OutOfOffice, address: String, previousScript: String?) -> String {
        var lines = [
            marker,
            "# Automatic replies set from an Exchange ActiveSync device; changed there, this script is rewritten.",
            "# state: \(settings.state.rawValue)",
            "# html: \(settings.isHTML ? 1 : 0)",
        ]
        if let start = settings.start { lines.append("# start: \(start)") }
        if let end = settings.end { lines.append("# end: \(end)") }
        if let text = settings.internalReply { lines.append("# internal: " + commentEscaped(text)) }
        if let text = settings.externalReply { lines.append("# external: " + commentEscaped(text)) }
        if let previousScript { lines.append("# previous: " + commentEscaped(previousScript)) }

        var extensions = ["vacation"]
        let scheduled = settings.state == .scheduled && settings.start != nil && settings.end != nil
        if scheduled { extensions += ["date", "relational"] }
        if previousScript != nil { extensions.append("include") }
        lines.append("require [" + extensions.map(quoted).joined(separator: ", ") + "];")

        let domain = address.split(separator: "@").last.map(String.init) ?? address
        func vacation(_ text: String) -> String {
            var body = text.replacing("\r\n", with: "\n").replacing("\n", with: "\r\n")
            var mime = ""
            if settings.isHTML {
                mime = ":mime "
                body = "Content-Type: text/html; charset=utf-8\r\n\r\n" + body
            }
            return "vacation \(mime):addresses [\(quoted(address))] \(quoted(body));"
        }
        var actions: [String] = []
        switch (settings.internalReply, settings.externalReply) {
        case let (inside?, outside?):
            actions = ["if address :domain :is \"from\" \(quoted(domain)) {", "  " + vacation(inside), "} else {",
                       "  " + vacation(outside), "}"]
        case let (inside?, nil):
            actions = ["if address :domain :is \"from\" \(quoted(domain)) {", "  " + vacation(inside), "}"]
        case let (nil, outside?):
            actions = ["if not address :domain :is \"from\" \(quoted(domain)) {", "  " + vacation(outside), "}"]
        case (nil, nil):
            break
        }
        if scheduled, !actions.isEmpty, let start = settings.start, let end = settings.end {
            // Compared as text: the current UTC time in ISO 8601 against the bounds' prefix.
            actions = ["if allof(currentdate :zone \"+0000\" :value \"ge\" \"iso8601\" \(quoted(isoPrefix(start))),",
                       "          currentdate :zone \"+0000\" :value \"lt\" \"iso8601\" \(quoted(isoPrefix(end)))) {"]
                + actions.map { "  " + $0 } + ["}"]
        }
        lines += actions
        if let previousScript {
            // The user's own filters still run; a deleted script must not break delivery.
            lines.append("include :personal :optional \(quoted(previousScript));")
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// The settings a script of ours holds; nil for any other script.
    public static func settings(in script: String) -> OutOfOffice? {
        guard let fields = commentFields(script) else { return nil }
        var settings = OutOfOffice()
        settings.state = fields["state"].flatMap(Int.init).flatMap(OutOfOffice.State.init(rawValue:)) ?? .off
        settings.isHTML = fields["html"] == "1"
        settings.start = fields["start"].flatMap { Int64($0) }
        settings.end = fields["end"].flatMap { Int64($0) }
        settings.internalReply = fields["internal"].map(commentUnescaped)
        settings.externalReply = fields["external"].map(commentUnescaped)
        return settings
    }

    /// The script that was active before ours, which ours includes.
    public static func previousScript(in script: String) -> String? {
        commentFields(script)?["previous"].map(commentUnescaped)
    }

    static func commentFields(_ script: String) -> [String: String]? {
        let lines = script.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        guard lines.first == marker else { return nil }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard line.hasPrefix("# ") else { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[line.index(line.startIndex, offsetBy: 2)..<colon])
            let value = line[line.index(after: colon)...]
            fields[key] = String(value.hasPrefix(" ") ? value.dropFirst() : value)
        }
        return fields
    }

    /// A Sieve quoted string ([RFC 5228] 2.4.2): backslash and double quote escaped.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }

    static func commentEscaped(_ text: String) -> String {
        text.replacing("\\", with: "\\\\").replacing("\r", with: "\\r").replacing("\n", with: "\\n")
    }

    static func commentUnescaped(_ text: String) -> String {
        BackslashEscapes.unescaped(text, ["n": "\n", "r": "\r"])
    }

    /// `YYYY-MM-DDTHH:MM:SS` of a UTC time in milliseconds.
    static func isoPrefix(_ milliseconds: Int64) -> String {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let (year, month, day) = CivilDate.date(days: days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60))"
    }
}

/// Scripts kept in memory, for tests of what is built on `SieveScriptStore`.
public actor InMemorySieveScripts: SieveScriptStore {
    private var stored: [String: String] = [:]
    private var activeName: String?

    public init() {}

    public func scripts() -> [(name: String, active: Bool)] {
        stored.keys.sorted().map { ($0, $0 == activeName) }
    }

    public func script(named name: String) -> String? { stored[name] }

    public func put(_ script: String, named name: String) { stored[name] = script }

    public func activate(_ name: String?) throws {
        if let name, stored[name] == nil { throw UpstreamError(.refused, "no script \(name)") }
        activeName = name
    }
}
