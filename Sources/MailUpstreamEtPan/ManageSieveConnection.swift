internal import CEtPan
import MailUpstream

#if canImport(Glibc)
import Glibc
#endif

/// One ManageSieve session ([RFC 5804]) over the project's libetpan stream (poll, deadlines,
/// verified TLS). Blocks: run it on the adapter's threads, one caller at a time.
final class ManageSieveConnection: @unchecked Sendable {
    /// Largest string (a script, a message) read from the server.
    static let maxLiteralBytes = 1 << 20
    /// Longest response (lines) read before giving up on a server that never says OK.
    static let maxResponseLines = 10_000

    private let stream: UnsafeMutablePointer<mailstream>
    private let line: UnsafeMutablePointer<MMAPString>
    let endpoint: ServerEndpoint
    private(set) var capabilities: [String: String] = [:]
    private var closed = false

    /// What the server answered: the status word, its text, the data lines before it.
    struct Response {
        var status: String
        var code: String?
        var text: String
        var data: [[String]]
    }

    private init(stream: UnsafeMutablePointer<mailstream>, endpoint: ServerEndpoint) {
        self.stream = stream
        self.endpoint = endpoint
        line = mmap_string_new("")
    }

    deinit {
        if !closed { mailstream_close(stream) }
        mmap_string_free(line)
    }

    private var place: String { "ManageSieve \(endpoint.host):\(endpoint.port)" }

    /// Connects, protects the session as the endpoint says, and logs in with AUTHENTICATE PLAIN.
    static func open(_ endpoint: ServerEndpoint, user: String, password: String) throws -> ManageSieveConnection {
        let connection = try connect(endpoint)
        try connection.logIn(user: user, password: password)
        return connection
    }

    /// Connects and protects the session as the endpoint says, without logging in.
    static func connect(_ endpoint: ServerEndpoint) throws -> ManageSieveConnection {
        let stream = try IMAPConnection.openStream(endpoint, implicitTLS: endpoint.security == .implicitTLS,
                                                   service: "ManageSieve")
        let connection = ManageSieveConnection(stream: stream, endpoint: endpoint)
        try connection.readCapabilities()
        if endpoint.security == .startTLS {
            guard connection.capabilities["STARTTLS"] != nil else {
                throw UpstreamError(.tlsFailed, "\(connection.place) does not offer STARTTLS")
            }
            try connection.expectOK(try connection.command("STARTTLS"), "STARTTLS")
            guard let low = mailstream_get_low(stream) else { throw UpstreamError(.unavailable, "\(connection.place): no stream") }
            try IMAPConnection.startTLS(on: low, endpoint, connection.place)
            // [RFC 5804] 2.2: the server sends its capabilities again, now trustworthy.
            try connection.readCapabilities()
        }
        return connection
    }

    /// AUTHENTICATE PLAIN.
    private func logIn(user: String, password: String) throws {
        guard capabilities["SASL"]?.uppercased().split(separator: " ").contains("PLAIN") == true else {
            throw UpstreamError(.authenticationFailed, "\(place) does not offer SASL PLAIN")
        }
        let token = Base64.encode(Array("\0\(user)\0\(password)".utf8))
        let answer = try command("AUTHENTICATE \"PLAIN\" \(Self.quoted(token))")
        switch answer.status {
        case "OK": break
        case "NO" where answer.code?.uppercased().hasPrefix("TRYLATER") == true:
            throw UpstreamError(.unavailable, "\(place): login for now refused: \(answer.text)", retryAfter: .seconds(30))
        default:
            throw UpstreamError(.authenticationFailed, "\(place): login for \(user) refused: \(answer.text)")
        }
    }

    func listScripts() throws -> [(name: String, active: Bool)] {
        let answer = try command("LISTSCRIPTS")
        try expectOK(answer, "LISTSCRIPTS")
        return answer.data.compactMap { words in
            guard let name = words.first else { return nil }
            return (name, words.dropFirst().first?.uppercased() == "ACTIVE")
        }
    }

    func getScript(_ name: String) throws -> String? {
        let answer = try command("GETSCRIPT \(try Self.checkedName(name))")
        if answer.status == "NO", answer.code?.uppercased().hasPrefix("NONEXISTENT") == true { return nil }
        try expectOK(answer, "GETSCRIPT")
        return answer.data.first?.first
    }

    func putScript(_ script: String, named name: String) throws {
        let bytes = Array(script.utf8)
        let answer = try command("PUTSCRIPT \(try Self.checkedName(name)) {\(bytes.count)+}", literal: bytes)
        try expectOK(answer, "PUTSCRIPT")
    }

    func setActive(_ name: String?) throws {
        try expectOK(try command("SETACTIVE \(try Self.checkedName(name ?? ""))"), "SETACTIVE")
    }

    func close() {
        guard !closed else { return }
        _ = try? command("LOGOUT")
        closed = true
        mailstream_close(stream)
    }

    // MARK: - Wire

    private func readCapabilities() throws {
        let greeting = try readResponse()
        try expectOK(greeting, "greeting")
        var found: [String: String] = [:]
        for words in greeting.data {
            guard let name = words.first?.uppercased() else { continue }
            found[name] = words.dropFirst().first ?? ""
        }
        capabilities = found
    }

    /// Sends a command line (and a non-synchronising literal after it) and reads the answer.
    func command(_ text: String, literal: [UInt8]? = nil) throws -> Response {
        guard !text.utf8.contains(where: { $0 == 13 || $0 == 10 }) else {
            throw UpstreamError(.refused, "a line break inside a ManageSieve command")
        }
        var bytes = Array((text + "\r\n").utf8)
        if let literal { bytes += literal + [13, 10] }
        let written = bytes.withUnsafeBytes { mailstream_write(stream, $0.baseAddress, $0.count) }
        guard written == bytes.count, mailstream_flush(stream) == 0 else {
            throw UpstreamError(.unavailable, "\(place): connection lost")
        }
        return try readResponse()
    }

    private func expectOK(_ response: Response, _ step: String) throws {
        switch response.status {
        case "OK":
            return
        case "BYE":
            throw UpstreamError(.unavailable, "\(place) ended the session at \(step): \(response.text)")
        default:
            throw UpstreamError(.refused, "\(place) refused \(step): \(response.text)")
        }
    }

    /// Reads data lines up to the OK / NO / BYE that ends a response.
    private func readResponse() throws -> Response {
        var data: [[String]] = []
        for _ in 0..<Self.maxResponseLines {
            let words = try readWords()
            guard let first = words.first else { continue }
            if let status = ["OK", "NO", "BYE"].first(where: { $0 == first.uppercased() }), !words.isEmpty,
               !Self.wasQuoted(first) {
                var rest = words.dropFirst()
                var code: String?
                if let next = rest.first, next.hasPrefix("(") {
                    code = String(next.dropFirst().dropLast())
                    rest = rest.dropFirst()
                }
                return Response(status: status, code: code, text: rest.first.map(Self.unmarked) ?? "", data: data)
            }
            data.append(words.map(Self.unmarked))
        }
        throw UpstreamError(.unavailable, "\(place): a response without end")
    }

    // Quoted strings and literals are marked with a leading NUL while a line is parsed, so that
    // a script named "OK" is not taken for the status word.
    private static func wasQuoted(_ word: String) -> Bool { word.hasPrefix("\0") }
    private static func unmarked(_ word: String) -> String { word.hasPrefix("\0") ? String(word.dropFirst()) : word }

    /// One logical line: atoms, quoted strings, literals (which continue on the next line) and
    /// a parenthesised response code kept whole.
    private func readWords() throws -> [String] {
        var words: [String] = []
        var bytes = try readLine()
        var index = 0
        while true {
            while index < bytes.count, bytes[index] == 32 { index += 1 }
            guard index < bytes.count else { return words }
            switch bytes[index] {
            case 34: // "
                var value: [UInt8] = []
                index += 1
                while index < bytes.count, bytes[index] != 34 {
                    if bytes[index] == 92, index + 1 < bytes.count { index += 1 }
                    value.append(bytes[index])
                    index += 1
                }
                index += 1
                words.append("\0" + String(decoding: value, as: UTF8.self))
            case 123 where bytes.last == 125: // {n} or {n+} ends the line: n bytes follow
                let digits = bytes[(index + 1)..<(bytes.count - 1)].filter { $0 != 43 }
                guard let count = Int(String(decoding: digits, as: UTF8.self)), count >= 0, count <= Self.maxLiteralBytes else {
                    throw UpstreamError(.unavailable, "\(place): a string too large or malformed")
                }
                words.append("\0" + String(decoding: try readExactly(count), as: UTF8.self))
                bytes = try readLine()
                index = 0
            case 40: // (
                let start = index
                var depth = 0
                while index < bytes.count {
                    if bytes[index] == 40 { depth += 1 }
                    if bytes[index] == 41 { depth -= 1; if depth == 0 { break } }
                    if bytes[index] == 34 { index += 1; while index < bytes.count, bytes[index] != 34 { index += 1 } }
                    index += 1
                }
                index = min(index + 1, bytes.count)
                words.append(String(decoding: bytes[start..<index], as: UTF8.self))
            default:
                let start = index
                while index < bytes.count, bytes[index] != 32 { index += 1 }
                words.append(String(decoding: bytes[start..<index], as: UTF8.self))
            }
        }
    }

    private func readLine() throws -> [UInt8] {
        guard let read = mailstream_read_line_remove_eol(stream, line) else {
            throw UpstreamError(.unavailable, "\(place): connection lost")
        }
        guard line.pointee.len <= Self.maxLiteralBytes else { throw UpstreamError(.unavailable, "\(place): a line too long") }
        return Array(UnsafeRawBufferPointer(start: read, count: line.pointee.len))
    }

    private func readExactly(_ count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = buffer.withUnsafeMutableBytes { mailstream_read(stream, $0.baseAddress! + filled, count - filled) }
            guard got > 0 else { throw UpstreamError(.unavailable, "\(place): connection lost") }
            filled += got
        }
        return buffer
    }

    /// A script name as a quoted string; names are short UTF-8 without control characters
    /// ([RFC 5804] 1.6).
    private static func checkedName(_ name: String) throws -> String {
        guard name.utf8.count <= 512, !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw UpstreamError(.refused, "not a valid Sieve script name")
        }
        return quoted(name)
    }

    static func quoted(_ text: String) -> String {
        "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }
}

/// Out-of-office through ManageSieve with the user's own credentials: one connection per
/// operation, closed at its end.
public struct ManageSieveOutOfOffice: OutOfOfficeService {
    let adapter: IMAPAdapter
    public let endpoint: ServerEndpoint
    let user: String
    let password: String
    let address: String

    public init(adapter: IMAPAdapter, endpoint: ServerEndpoint, user: String, password: String, address: String) {
        self.adapter = adapter
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.address = address
    }

    public func current() async throws -> OutOfOffice {
        try await withSession { try await SieveOutOfOffice(scripts: $0, address: address).current() }
    }

    public func set(_ settings: OutOfOffice) async throws {
        try await withSession { try await SieveOutOfOffice(scripts: $0, address: address).set(settings) }
    }

    private func withSession<T: Sendable>(_ body: (ManageSieveScripts) async throws -> T) async throws -> T {
        let endpoint = endpoint, user = user, password = password
        let connection = try await adapter.run { try ManageSieveConnection.open(endpoint, user: user, password: password) }
        let scripts = ManageSieveScripts(adapter: adapter, connection: connection)
        do {
            let result = try await body(scripts)
            _ = try? await adapter.runToCompletion { connection.close() }
            return result
        } catch {
            _ = try? await adapter.runToCompletion { connection.close() }
            throw error
        }
    }
}

/// The scripts of one open ManageSieve session; calls run one after another on the adapter's
/// threads.
struct ManageSieveScripts: SieveScriptStore {
    let adapter: IMAPAdapter
    let connection: ManageSieveConnection

    func scripts() async throws -> [(name: String, active: Bool)] {
        let connection = connection
        return try await adapter.run { try connection.listScripts() }
    }

    func script(named name: String) async throws -> String? {
        let connection = connection
        return try await adapter.run { try connection.getScript(name) }
    }

    func put(_ script: String, named name: String) async throws {
        let connection = connection
        try await adapter.run { try connection.putScript(script, named: name) }
    }

    func activate(_ name: String?) async throws {
        let connection = connection
        try await adapter.run { try connection.setActive(name) }
    }
}
