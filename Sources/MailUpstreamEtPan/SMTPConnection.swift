internal import CEtPan
import MailUpstream

#if canImport(Glibc)
import Glibc
#endif

/// How the gateway authenticates to the submission server.
public enum SMTPCredentials: Sendable, Hashable {
    /// No AUTH (a trusted relay on loopback).
    case none
    /// AUTH PLAIN ([RFC 4616]); Dovecot-backed submission also takes `user*master` here.
    case plain(user: String, password: String)
    /// AUTH LOGIN, for servers that offer nothing else.
    case login(user: String, password: String)
}

/// One SMTP submission session through libetpan ([RFC 5321], [RFC 6409]). Blocks: run it on
/// the adapter's threads. Commands whose parameters libetpan cannot write (BODY=8BITMIME,
/// SMTPUTF8, AUTH PLAIN without Cyrus SASL) are sent raw through libetpan's stream.
final class SMTPConnection {
    private let session: UnsafeMutablePointer<mailsmtp>
    let endpoint: ServerEndpoint
    private(set) var extensions: Set<String> = []
    /// The server's SIZE limit, 0 if none.
    private(set) var sizeLimit = 0
    private var closed = false

    private init(session: UnsafeMutablePointer<mailsmtp>, endpoint: ServerEndpoint) {
        self.session = session
        self.endpoint = endpoint
    }

    deinit { close() }

    static func open(_ endpoint: ServerEndpoint, _ credentials: SMTPCredentials) throws -> SMTPConnection {
        let session = mailsmtp_new(0, nil)!
        mailsmtp_set_timeout(session, time_t(max(1, endpoint.timeoutMilliseconds / 1000)))
        let stream: UnsafeMutablePointer<mailstream>
        do {
            stream = try IMAPConnection.openStream(endpoint, implicitTLS: endpoint.security == .implicitTLS, service: "SMTP")
        } catch {
            mailsmtp_free(session)
            throw error
        }
        let greeting = mailsmtp_connect(session, stream)
        guard greeting == MAILSMTP_NO_ERROR else {
            mailsmtp_free(session)
            throw UpstreamError(.unavailable, "SMTP \(endpoint.host):\(endpoint.port): no greeting (\(greeting))")
        }
        let connection = SMTPConnection(session: session, endpoint: endpoint)
        try connection.hello()
        if endpoint.security == .startTLS {
            guard connection.extensions.contains("STARTTLS") else {
                throw UpstreamError(.tlsFailed, "SMTP \(endpoint.host):\(endpoint.port) does not offer STARTTLS")
            }
            let code = try connection.command("STARTTLS")
            guard code == 220, let low = mailstream_get_low(session.pointee.stream) else {
                throw UpstreamError(.tlsFailed, "SMTP STARTTLS refused: \(connection.reply)")
            }
            try IMAPConnection.startTLS(on: low, endpoint, "SMTP \(endpoint.host):\(endpoint.port)")
            // What the server said before TLS cannot be trusted ([RFC 3207] 4.2).
            try connection.hello()
        }
        try connection.authenticate(credentials)
        return connection
    }

    /// The last reply's text.
    var reply: String { string(session.pointee.response) ?? "" }

    /// Sends one command line and returns the reply code.
    @discardableResult
    func command(_ line: String) throws -> Int {
        guard !line.utf8.contains(where: { $0 == 13 || $0 == 10 }) else {
            throw UpstreamError(.refused, "a line break inside an SMTP command")
        }
        let sent = (line + "\r\n").withCString { mailsmtp_send_command(session, UnsafeMutablePointer(mutating: $0)) }
        guard sent == 0 else { throw UpstreamError(.unavailable, "SMTP \(endpoint.host): connection lost") }
        let code = mailsmtp_read_response(session)
        guard code > 0 else { throw UpstreamError(.unavailable, "SMTP \(endpoint.host): no reply") }
        return Int(code)
    }

    private func hello() throws {
        let code = try command("EHLO airgate.localhost")
        guard code == 250 else { throw UpstreamError(.refused, "SMTP EHLO refused: \(reply)") }
        // The reply text holds one extension per line after the greeting line.
        var names = Set<String>()
        sizeLimit = 0
        for line in reply.split(whereSeparator: \.isNewline).dropFirst() {
            let words = line.split(separator: " ")
            guard let keyword = words.first?.uppercased() else { continue }
            names.insert(keyword)
            if keyword == "AUTH" { for mechanism in words.dropFirst() { names.insert("AUTH=" + mechanism.uppercased()) } }
            if keyword == "SIZE", words.count > 1, let limit = Int(words[1]) { sizeLimit = limit }
        }
        extensions = names
    }

    private func authenticate(_ credentials: SMTPCredentials) throws {
        switch credentials {
        case .none:
            return
        case .plain(let user, let password):
            guard extensions.contains("AUTH=PLAIN") else {
                throw UpstreamError(.authenticationFailed, "SMTP server does not offer AUTH PLAIN")
            }
            let code = try command("AUTH PLAIN " + Base64.encode(Array("\0\(user)\0\(password)".utf8)))
            try expectAuthenticated(code, user)
        case .login(let user, let password):
            guard extensions.contains("AUTH=LOGIN") else {
                throw UpstreamError(.authenticationFailed, "SMTP server does not offer AUTH LOGIN")
            }
            guard try command("AUTH LOGIN") == 334, try command(Base64.encode(Array(user.utf8))) == 334 else {
                throw UpstreamError(.authenticationFailed, "SMTP AUTH LOGIN refused: \(reply)")
            }
            try expectAuthenticated(try command(Base64.encode(Array(password.utf8))), user)
        }
    }

    private func expectAuthenticated(_ code: Int, _ user: String) throws {
        switch code {
        case 235: return
        case 400..<500: throw UpstreamError(.unavailable, "SMTP AUTH for \(user) failed for now: \(reply)", retryAfter: .seconds(30))
        default: throw UpstreamError(.authenticationFailed, "SMTP AUTH for \(user) refused: \(reply)")
        }
    }

    /// MAIL, RCPT for each recipient, DATA. Throws if nothing can be delivered.
    func send(_ submission: Submission) throws -> SubmissionResult {
        if sizeLimit > 0, submission.message.count > sizeLimit {
            throw UpstreamError(.messageTooLarge, "\(submission.message.count) bytes; the server takes at most \(sizeLimit)")
        }
        if submission.needsSMTPUTF8, !extensions.contains("SMTPUTF8") {
            throw UpstreamError(.refused, "the server cannot take non-ASCII addresses (no SMTPUTF8)")
        }
        for address in [submission.sender] + submission.recipients where !Self.isSafeAddress(address) {
            throw UpstreamError(.refused, "not a usable address: \(address.debugDescription)")
        }
        var mail = "MAIL FROM:<\(submission.sender)>"
        if extensions.contains("SIZE") { mail += " SIZE=\(submission.message.count)" }
        if submission.needs8Bit, extensions.contains("8BITMIME") { mail += " BODY=8BITMIME" }
        if submission.needsSMTPUTF8 { mail += " SMTPUTF8" }
        let mailCode = try command(mail)
        guard mailCode == 250 else { throw failure(mailCode, "MAIL FROM") }

        var accepted: [String] = []
        var rejected: [SubmissionResult.Rejection] = []
        for recipient in submission.recipients {
            let code = try command("RCPT TO:<\(recipient)>")
            if code == 250 || code == 251 {
                accepted.append(recipient)
            } else {
                rejected.append(.init(recipient: recipient, code: code, text: reply))
            }
        }
        guard !accepted.isEmpty else {
            _ = try? command("RSET")
            let detail = rejected.map { "\($0.recipient): \($0.code) \($0.text)" }.joined(separator: "; ")
            throw UpstreamError(.refused, "every recipient was refused: \(detail)")
        }
        let dataCode = try command("DATA")
        guard dataCode == 354 else { throw failure(dataCode, "DATA") }
        // libetpan dot-stuffs and ends the message with CRLF.CRLF.
        let result = submission.message.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { mailsmtp_data_message(session, $0.baseAddress, $0.count) }
        }
        switch Int(result) {
        case MAILSMTP_NO_ERROR:
            return SubmissionResult(accepted: accepted, rejected: rejected)
        case MAILSMTP_ERROR_STREAM:
            throw UpstreamError(.unavailable, "SMTP connection lost while sending the message")
        default:
            throw failure(Int(session.pointee.response_code), "end of DATA")
        }
    }

    private func failure(_ code: Int, _ step: String) -> UpstreamError {
        switch code {
        case 552: UpstreamError(.messageTooLarge, "\(step): \(code) \(reply)")
        case 400..<500: UpstreamError(.unavailable, "\(step): \(code) \(reply)", retryAfter: .seconds(60))
        default: UpstreamError(.refused, "\(step): \(code) \(reply)")
        }
    }

    /// Nothing that could end or extend an SMTP command line.
    static func isSafeAddress(_ address: String) -> Bool {
        !address.isEmpty && address.utf8.count <= 320 && !address.utf8.contains { $0 < 0x21 || $0 == 0x7F || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }
            && address.contains("@")
    }

    func close() {
        guard !closed else { return }
        closed = true
        _ = try? command("QUIT")
        mailsmtp_free(session)
    }
}

/// `MailSubmitter` over SMTP submission through libetpan: one connection per message.
public struct SMTPMailSubmitter: MailSubmitter {
    let adapter: IMAPAdapter
    public let endpoint: ServerEndpoint
    let credentials: SMTPCredentials

    public init(adapter: IMAPAdapter, endpoint: ServerEndpoint, credentials: SMTPCredentials) {
        self.adapter = adapter
        self.endpoint = endpoint
        self.credentials = credentials
    }

    public func submit(_ submission: Submission) async throws -> SubmissionResult {
        let endpoint = endpoint
        let credentials = credentials
        return try await adapter.run {
            let connection = try SMTPConnection.open(endpoint, credentials)
            defer { connection.close() }
            return try connection.send(submission)
        }
    }
}
