/// [MS-ASCMD] 2.2.1.2 Find (16.1): a free-text search of the mailbox (optionally one folder and
/// its subfolders) or of the global address list.
public struct FindRequest: Hashable, Sendable {
    public enum Target: Hashable, Sendable {
        /// `MailBoxSearchCriterion`: the folder to search, and whether its subfolders count.
        case mailbox(collectionId: String?, deepTraversal: Bool)
        /// `GALSearchCriterion`.
        case gal
    }

    public var searchId: String
    public var target: Target
    public var text: String
    public var range: ClosedRange<Int>

    public init(_ element: EASElement) throws(EASRequestError) {
        typealias F = EASTag.Find
        try element.expect(F.find)
        guard let searchId = element.text(of: F.searchId), !searchId.isEmpty, searchId.utf8.count <= 128 else {
            throw EASRequestError("Find without a SearchId")
        }
        self.searchId = searchId
        guard let execute = element.child(F.executeSearch) else { throw EASRequestError("Find without ExecuteSearch") }
        let criterion: EASElement
        if let mailbox = execute.child(F.mailBoxSearchCriterion) {
            criterion = mailbox
            let options = mailbox.child(F.options)
            target = .mailbox(collectionId: mailbox.child(F.query)?.text(of: EASTag.AirSync.collectionId),
                              deepTraversal: options?.child(F.deepTraversal) != nil)
            if let kind = mailbox.child(F.query)?.text(of: EASTag.AirSync.class), kind != "Email" {
                throw EASRequestError("Find of class \(kind.prefix(20)) is not supported")
            }
        } else if let gal = execute.child(F.galSearchCriterion) {
            criterion = gal
            target = .gal
        } else {
            throw EASRequestError("Find without a search criterion")
        }
        let query = criterion.child(F.query)
        // The GAL query is the Query text itself; the mailbox query has FreeText inside.
        guard let text = query?.text(of: F.freeText) ?? query?.text, !text.isEmpty, text.utf8.count <= 1024 else {
            throw EASRequestError("Find without query text, or too long")
        }
        self.text = text
        if let rangeText = criterion.child(F.options)?.text(of: F.range) {
            range = try SearchRequest.range(rangeText)
        } else {
            range = 0...(SearchRequest.maxRangeLength - 1)
        }
    }
}
