import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Where Dovecot's push notification plugin ("ox" driver) announces new mail: a PUT of a small
/// JSON object naming the user (as the gateway registered it in METADATA) and the mailbox. The
/// gateway then reads the change at once instead of waiting for IDLE, which Dovecot delays by
/// half a second. Only with `push.dovecot_secret`; the request must carry it as the Basic
/// password, and comes from a trusted network address like any client (loopback, or the
/// plain-HTTP rule).
enum MailPushEndpoint {
    static let path = "/airgate/push/dovecot"
    /// The JSON is a few hundred bytes (user, folder, UIDs, From, Subject, a snippet).
    static let maxBodyBytes = 64 * 1024
    /// The name wrong secrets are counted under with the failed logins (not a possible login).
    static let throttleUser = "(dovecot push)"

    /// The fields the gateway uses.
    struct Notice: Decodable {
        var user: String
        var event: String?
        var folder: String
    }
}

extension GatewayResponder {
    func mailPush(_ request: Request, context: Context, secret: String) async -> Response {
        guard request.method == .put || request.method == .post else {
            var response = Self.plain(.methodNotAllowed)
            response.headers[.allow] = "PUT, POST"
            return response
        }
        // Compared as digests: no early exit that would tell how much of a guess was right.
        let presented = Self.basicCredentials(request.headers[.authorization])?.password
        let right = presented.map { SHA256.hash(data: Data($0.utf8)) == SHA256.hash(data: Data(secret.utf8)) } ?? false
        // Wrong secrets count with the failed logins of their address: a guesser is cut off
        // like one guessing passwords, and from that address even the right secret waits.
        let origin = origin(request, context)
        if let (reason, wait) = await throttle.loginRefusal(user: MailPushEndpoint.throttleUser, address: origin.address,
                                                            proven: right) {
            return throttled(reason, wait)
        }
        guard right else {
            if presented != nil { await throttle.loginFailed(user: MailPushEndpoint.throttleUser, address: origin.address) }
            return Self.unauthorized()
        }
        if refusesClearTextCredentials(from: origin) { return Self.plain(.forbidden) }
        guard let body = try? await request.body.collect(upTo: MailPushEndpoint.maxBodyBytes),
              let notice = try? JSONDecoder().decode(MailPushEndpoint.Notice.self, from: Data(buffer: body))
        else { return Self.plain(.badRequest) }
        guard notice.event == nil || notice.event == "messageNew" else { return Self.plain(.noContent) }
        let handled = await gateway.mailArrived(user: notice.user, mailbox: notice.folder)
        logger.debug("mail push", metadata: ["user": "\(notice.user)", "folder": "\(notice.folder)", "handled": "\(handled)"])
        return Self.plain(.noContent)
    }
}
