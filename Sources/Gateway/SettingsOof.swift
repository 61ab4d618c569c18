import EASProtocol
import MailUpstream

/// Settings Oof ([MS-ASCMD] 2.2.3.119): the automatic replies, read and set through the
/// account's `OutOfOfficeService`. EAS has three audiences; IMAP has no contacts to tell known
/// external senders from unknown ones, so both external audiences share one reply (the
/// unknown-senders text when given, else the known-senders text).
extension Gateway {
    /// [MS-ASCMD] 2.2.3.177.15 Status for Oof.
    enum OofStatus: String {
        case success = "1"
        case protocolError = "2"
        case serverUnavailable = "4"
        case invalidArguments = "5"
        case conflictingArguments = "6"
        case deniedByPolicy = "7"
    }

    func outOfOffice(_ element: EASElement, _ context: RequestContext) async -> EASElement {
        func answer(_ status: OofStatus, _ get: EASElement? = nil) -> EASElement {
            EASElement(ST.oof, children: [EASElement(ST.status, text: status.rawValue)] + (get.map { [$0] } ?? []))
        }
        guard let service = context.account.outOfOffice else { return answer(.deniedByPolicy) }
        do {
            if let get = element.child(ST.get) {
                let wantsHTML: Bool
                switch get.child(ST.bodyType)?.text?.uppercased() {
                case "HTML"?: wantsHTML = true
                case "TEXT"?, nil: wantsHTML = false
                default: return answer(.invalidArguments)
                }
                return answer(.success, Self.oofGet(try await service.current(), html: wantsHTML))
            }
            if let set = element.child(ST.set) {
                switch Self.oofSettings(from: set) {
                case .success(let settings):
                    try await service.set(settings)
                    return answer(.success)
                case .failure(let failure):
                    return answer(failure.status)
                }
            }
            return answer(.protocolError)
        } catch let error as UpstreamError {
            logger.warning("out-of-office store failed", metadata: ["error": "\(error)"])
            return answer(error.code == .refused ? .invalidArguments : .serverUnavailable)
        } catch {
            return answer(.serverUnavailable)
        }
    }

    struct OofFailure: Error {
        var status: OofStatus
    }

    static func oofSettings(from set: EASElement) -> Result<OutOfOffice, OofFailure> {
        guard let stateText = set.child(ST.oofState)?.text, let raw = Int(stateText),
              let state = OutOfOffice.State(rawValue: raw)
        else { return .failure(OofFailure(status: .invalidArguments)) }
        var settings = OutOfOffice(state: state)
        if state == .scheduled {
            guard let start = set.child(ST.startTime)?.text.flatMap(EASDate.milliseconds(iso:)),
                  let end = set.child(ST.endTime)?.text.flatMap(EASDate.milliseconds(iso:))
            else { return .failure(OofFailure(status: .invalidArguments)) }
            guard start < end else { return .failure(OofFailure(status: .conflictingArguments)) }
            settings.start = start
            settings.end = end
        }
        var externalKnown: String?
        var externalUnknown: String?
        for message in set.children(ST.oofMessage) {
            let enabled = message.child(ST.enabled)?.text == "1"
            let text = message.child(ST.replyMessage)?.text ?? ""
            guard text.utf8.count <= OutOfOffice.maxReplyBytes else { return .failure(OofFailure(status: .invalidArguments)) }
            switch message.child(ST.bodyType)?.text?.uppercased() {
            case "HTML"?: settings.isHTML = true
            case "TEXT"?, nil: break
            default: return .failure(OofFailure(status: .invalidArguments))
            }
            let reply = enabled ? text : nil
            if message.child(ST.appliesToInternal) != nil { settings.internalReply = reply }
            if message.child(ST.appliesToExternalKnown) != nil { externalKnown = reply }
            if message.child(ST.appliesToExternalUnknown) != nil { externalUnknown = reply }
        }
        settings.externalReply = externalUnknown ?? externalKnown
        return .success(settings)
    }

    static func oofGet(_ settings: OutOfOffice, html: Bool) -> EASElement {
        var children = [EASElement(ST.oofState, text: String(settings.state.rawValue))]
        if settings.state == .scheduled, let start = settings.start, let end = settings.end {
            children.append(EASElement(ST.startTime, text: EASDate.string(milliseconds: start)))
            children.append(EASElement(ST.endTime, text: EASDate.string(milliseconds: end)))
        }
        func message(_ audience: EASTag, _ reply: String?) -> EASElement {
            var text = reply ?? ""
            if html, !settings.isHTML { text = HTMLText.html(fromPlain: text) }
            if !html, settings.isHTML { text = HTMLText.plain(fromHTML: text) }
            return EASElement(ST.oofMessage, children: [
                EASElement(audience),
                EASElement(ST.enabled, text: reply == nil ? "0" : "1"),
                EASElement(ST.replyMessage, text: text),
                EASElement(ST.bodyType, text: html ? "HTML" : "Text"),
            ])
        }
        children.append(message(ST.appliesToInternal, settings.internalReply))
        children.append(message(ST.appliesToExternalKnown, settings.externalReply))
        children.append(message(ST.appliesToExternalUnknown, settings.externalReply))
        return EASElement(ST.get, children: children)
    }
}
