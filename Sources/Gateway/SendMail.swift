import EASProtocol
import MailUpstream
import SyncState

/// [MS-ASCMD] 2.2.1.17 SendMail: the client's MIME goes out over SMTP submission with the
/// envelope from its To/Cc/Bcc (Bcc removed from what is sent), once per ClientId, and a copy
/// lands in Sent when asked.
extension Gateway {
    typealias CM = EASTag.ComposeMail

    /// [MS-ASCMD] 2.2.3.177.1 common Status values SendMail uses.
    enum SendStatus {
        static let invalidMIME = "107"
        static let serverError = "110"
        static let retryLater = "111"
        static let recipientUnresolved = "116"
        static let noRecipient = "119"
        static let submissionFailed = "120"
        static let tooLarge = "122"
    }

    func sendMail(_ context: RequestContext) async throws -> EASResponse {
        let request: SendMailRequest
        if let raw = context.request.rawBody {
            request = SendMailRequest(clientId: nil, saveInSentItems: context.request.parameters["SaveInSent"]?.uppercased() == "T",
                                      mime: raw)
        } else if let body = context.request.body, let parsed = try? SendMailRequest(body) {
            request = parsed
        } else {
            return Self.sendFailure(SendStatus.invalidMIME, context)
        }
        // A request the client repeats because it never saw the answer goes out once.
        if let clientId = request.clientId,
           try await store.serverId(context.deviceRef, scope: "sendmail", clientId: clientId) != nil
        {
            return .empty
        }
        return try await submit(OutgoingMessage.completed(request.mime, from: context.account.emailAddress),
                                clientId: request.clientId, scope: "sendmail", saveInSent: request.saveInSentItems,
                                context: context) ?? .empty
    }

    /// Submits `message`, records its ClientId and files the Sent copy. Returns the failure
    /// answer, or nil when the message went out.
    func submit(_ message: [UInt8], clientId: String?, scope: String, saveInSent: Bool, context: RequestContext) async throws
        -> EASResponse?
    {
        guard let submitter = context.account.submitter else {
            logger.error("sending without a configured submission server")
            return Self.sendFailure(SendStatus.serverError, context)
        }
        let submission: Submission
        do {
            submission = try SubmissionBuilder.submission(from: message, sender: context.account.emailAddress, codec: codec)
        } catch .noRecipients {
            return Self.sendFailure(SendStatus.noRecipient, context)
        } catch {
            logger.notice("unreadable message to send", metadata: ["error": "\(error)"])
            return Self.sendFailure(SendStatus.invalidMIME, context)
        }
        do {
            let result = try await submitter.submit(submission)
            if !result.rejected.isEmpty {
                logger.notice("some recipients refused", metadata: [
                    "refused": "\(result.rejected.map { "\($0.recipient) \($0.code)" })",
                ])
            }
        } catch let error as UpstreamError {
            logger.warning("submission failed", metadata: ["error": "\(error)"])
            switch error.code {
            case .messageTooLarge: return Self.sendFailure(SendStatus.tooLarge, context)
            case .unavailable, .tlsFailed: return Self.sendFailure(SendStatus.retryLater, context)
            case .refused: return Self.sendFailure(SendStatus.recipientUnresolved, context)
            default: return Self.sendFailure(SendStatus.submissionFailed, context)
            }
        }
        if let clientId {
            _ = try await store.recordClientId(context.deviceRef, scope: scope, clientId: clientId, serverId: "sent")
        }
        if saveInSent {
            // The sender's own copy keeps its Bcc line, as Exchange's does. Asked of the server,
            // not the store: a 12.x client may send before its first FolderSync.
            let sent = try? await context.session.listMailboxes().first { $0.specialUse == .sent }?.name
            if let sent {
                do {
                    _ = try await context.session.append(to: sent, message: message, flags: ["\\Seen"],
                                                         internalDate: Self.wallClockMilliseconds())
                } catch {
                    // The message went out; a missing Sent copy is not worth failing the send.
                    logger.warning("sent, but the copy for Sent failed", metadata: ["error": "\(error)"])
                }
            }
        }
        return nil
    }

    /// From 14.0 a SendMail error is a WBXML body with the status; before, an HTTP status.
    static func sendFailure(_ status: String, _ context: RequestContext) -> EASResponse {
        guard context.version >= .v14_0 else {
            return status == SendStatus.retryLater ? .unavailable(after: 60) : EASResponse(httpStatus: 400)
        }
        return .ok(EASElement(CM.sendMail, children: [EASElement(CM.status, text: status)]))
    }
}

/// What the gateway adds to a client's message before it goes out.
enum OutgoingMessage {
    /// Adds Date and Message-ID when the client left them out ([RFC 5322] 3.6), and From when
    /// missing; the rest is sent as the client wrote it.
    static func completed(_ message: [UInt8], from address: String) -> [UInt8] {
        guard let end = SubmissionBuilder.endOfHeaders(message) else { return message }
        let header = String(decoding: message[..<end], as: UTF8.self).lowercased()
        func has(_ name: String) -> Bool { header.hasPrefix(name + ":") || header.contains("\n" + name + ":") }
        var added = ""
        if !has("date") { added += "Date: \(RFC5322Date.now())\r\n" }
        if !has("message-id") {
            var generator = SystemRandomNumberGenerator()
            let domain = address.split(separator: "@").last.map(String.init) ?? "airgate.invalid"
            added += "Message-ID: <\(String(generator.next(), radix: 36)).\(String(generator.next(), radix: 36))@\(domain)>\r\n"
        }
        if !has("from") { added += "From: \(address)\r\n" }
        return Array(added.utf8) + message
    }
}

/// Dates as mail headers write them: `Mon, 23 Nov 2026 10:00:00 +0000`.
enum RFC5322Date {
    static func now() -> String {
        let milliseconds = Gateway.wallClockMilliseconds()
        let seconds = milliseconds / 1000
        let days = seconds / 86_400
        let rest = seconds % 86_400
        let (year, month, day) = CivilDate.date(days: days)
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][Int(days % 7)]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekday), \(day) \(months[Int(month) - 1]) \(year) \(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60)) +0000"
    }
}

/// Header text as RFC 2047 encoded words when it is not plain ASCII.
enum HeaderEncoding {
    static func encoded(_ text: String) -> String {
        let clean = text.filter { !$0.isNewline }
        guard clean.utf8.contains(where: { $0 >= 0x80 }) else { return clean }
        // One encoded word per chunk of whole characters, each under 75 octets.
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in clean {
            let bytes = Array(String(character).utf8)
            if (chunk.count + bytes.count) * 4 / 3 + 12 > 75 {
                words.append("=?UTF-8?B?" + Base64.encode(chunk) + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?" + Base64.encode(chunk) + "?=") }
        return words.joined(separator: " ")
    }
}
