/// One node of a message's MIME structure, as the server's BODYSTRUCTURE describes it
/// ([RFC 3501] 7.4.2, [RFC 2045]–[RFC 2047], [RFC 2183] disposition). A Sync picks the body
/// part and the attachments from it and fetches only those sections.
public struct MIMEPart: Hashable, Sendable {
    /// The IMAP section number (`1`, `2.1`); the whole message's top node has `""` when it
    /// is multipart. A single-part message's body is section `1`.
    public var section: String
    /// Lower-case media type and subtype (`text`, `plain`).
    public var type: String
    public var subtype: String
    /// Content-Type parameters, names lower-cased (`charset`, `name`, `boundary`).
    public var parameters: [String: String]
    public var contentId: String?
    public var contentDescription: String?
    /// Lower-case Content-Transfer-Encoding (`7bit`, `base64`, `quoted-printable`).
    public var encoding: String
    /// Encoded size in bytes as the server reports it.
    public var size: Int
    /// Lower-case disposition (`inline`, `attachment`) and its parameters.
    public var disposition: String?
    public var dispositionParameters: [String: String]
    public var location: String?
    /// Children of a multipart, or the body of an attached message (`message/rfc822`).
    public var parts: [MIMEPart]
    /// For `message/rfc822`: the attached message's envelope.
    public var envelope: Envelope?

    public init(section: String, type: String, subtype: String, parameters: [String: String] = [:],
                contentId: String? = nil, contentDescription: String? = nil, encoding: String = "7bit", size: Int = 0,
                disposition: String? = nil, dispositionParameters: [String: String] = [:], location: String? = nil,
                parts: [MIMEPart] = [], envelope: Envelope? = nil) {
        self.section = section
        self.type = type.lowercased()
        self.subtype = subtype.lowercased()
        self.parameters = parameters
        self.contentId = contentId
        self.contentDescription = contentDescription
        self.encoding = encoding.lowercased()
        self.size = size
        self.disposition = disposition?.lowercased()
        self.dispositionParameters = dispositionParameters
        self.location = location
        self.parts = parts
        self.envelope = envelope
    }

    public var mediaType: String { "\(type)/\(subtype)" }
    public var isMultipart: Bool { type == "multipart" }
    public var charset: String? { parameters["charset"] }

    /// The file name from the disposition, else from Content-Type's `name`.
    public var fileName: String? { dispositionParameters["filename"] ?? parameters["name"] }

    /// Every node, depth first, this one included.
    public var allParts: [MIMEPart] {
        var all: [MIMEPart] = []
        forEachPart { all.append($0) }
        return all
    }

    /// Visits every node, depth first, this one included, without collecting them (an item of
    /// every synced message walks its tree several times).
    public func forEachPart(_ body: (MIMEPart) -> Void) {
        _ = firstPart { body($0); return false }
    }

    /// The first node, depth first, that `matches`.
    public func firstPart(where matches: (MIMEPart) -> Bool) -> MIMEPart? {
        if matches(self) { return self }
        for part in parts {
            if let found = part.firstPart(where: matches) { return found }
        }
        return nil
    }

    /// The node with this section number.
    public func part(_ section: String) -> MIMEPart? {
        firstPart { $0.section == section }
    }
}
