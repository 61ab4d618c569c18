import EASProtocol
import MailUpstream

/// [MS-ASCMD] 2.2.1.15 ResolveRecipients: each name or address the client typed, matched
/// against the directory (no certificates, availability or pictures).
extension Gateway {
    typealias RR = EASTag.ResolveRecipients

    /// Most `To` entries answered from one request.
    static let maxResolveQueries = 100

    func resolveRecipients(_ context: RequestContext) async throws -> EASResponse {
        guard let body = context.request.body, body.tag == RR.resolveRecipients else {
            return .ok(EASElement(RR.resolveRecipients, children: [EASElement(RR.status, text: "5")]))
        }
        let queries = body.children(RR.to).compactMap(\.text).prefix(Self.maxResolveQueries)
        let limit = (body.child(RR.options)?.child(RR.maxAmbiguousRecipients)?.text).flatMap(Int.init).map { max(0, min($0, 100)) } ?? 20
        let directory = directory(for: context.account)
        var responses: [EASElement] = []
        for query in queries {
            var matches = directory.find(query, limit: limit + 1)
            var status = "1"
            if matches.count > limit {
                // [MS-ASCMD] 2.2.3.177.13 Status 2: ambiguous, some suggestions returned.
                status = "2"
                matches = Array(matches.prefix(limit))
            } else if matches.isEmpty {
                if query.contains("@"), (try? codec.addresses(in: query))?.isEmpty == false {
                    // An address the directory does not know still resolves to itself.
                    matches = (try? codec.addresses(in: query)) ?? []
                } else {
                    status = "4"
                }
            }
            var children = [EASElement(RR.to, text: query), EASElement(RR.status, text: status),
                            EASElement(RR.recipientCount, text: String(matches.count))]
            for match in matches {
                children.append(EASElement(RR.recipient, children: [
                    EASElement(RR.type, text: "1"),
                    EASElement(RR.displayName, text: match.name ?? match.address),
                    EASElement(RR.emailAddress, text: match.address),
                ]))
            }
            responses.append(EASElement(RR.response, children: children))
        }
        return .ok(EASElement(RR.resolveRecipients, children: [EASElement(RR.status, text: "1")] + responses))
    }
}
