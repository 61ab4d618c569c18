/// A request body that does not have the shape a command needs: the gateway answers it with
/// the command's "protocol error" status (or HTTP 400), never with a crash or a 500.
public struct EASRequestError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

extension EASElement {
    /// The text of child `tag`, trimmed; nil if absent.
    func text(of tag: EASTag) -> String? {
        child(tag)?.text
    }

    /// The id in child `tag` (CollectionId, ServerId, ClientId, …): at most 64 characters in
    /// every [MS-ASCMD] schema. A longer one is refused here, so that no answer echoes it.
    func id(of tag: EASTag) throws(EASRequestError) -> String? {
        guard let text = text(of: tag) else { return nil }
        guard text.utf8.count <= 64 else { throw EASRequestError("\(tag) longer than 64 characters") }
        return text
    }

    /// The integer in child `tag`; nil if absent, an error if not a number.
    func integer(of tag: EASTag) throws(EASRequestError) -> Int? {
        guard let text = text(of: tag) else { return nil }
        guard let value = Int(trimmed(text)) else {
            throw EASRequestError("\(tag) is not a number: \(text.prefix(40))")
        }
        return value
    }

    func expect(_ tag: EASTag) throws(EASRequestError) {
        guard self.tag == tag else { throw EASRequestError("expected \(tag), got \(self.tag)") }
    }
}

/// `text` without surrounding spaces, tabs and line breaks.
func trimmed(_ text: String) -> String {
    var characters = Substring(text)
    while let first = characters.first, first == " " || first == "\t" || first == "\n" || first == "\r" {
        characters.removeFirst()
    }
    while let last = characters.last, last == " " || last == "\t" || last == "\n" || last == "\r" {
        characters.removeLast()
    }
    return String(characters)
}
