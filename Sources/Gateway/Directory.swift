import MailUpstream

/// Who the gateway can name when a phone looks someone up (GAL search, ResolveRecipients):
/// the account itself and an address book the operator provides. An LDAP directory would be
/// another implementation of this protocol.
public protocol RecipientDirectory: Sendable {
    /// Entries whose name or address contains `query` (case-insensitive), at most `limit`.
    func find(_ query: String, limit: Int) -> [MailAddress]
}

/// An address book kept in memory, read from a file of `Name <address>` or `address` lines
/// (`#` starts a comment).
public struct AddressBook: RecipientDirectory {
    public let entries: [MailAddress]

    /// Most entries read from a file.
    public static let maxEntries = 100_000

    public init(entries: [MailAddress]) {
        self.entries = Array(entries.prefix(Self.maxEntries))
    }

    /// Parses the file's text; lines that are not an address are skipped.
    public init(text: String) {
        var entries: [MailAddress] = []
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = String(raw).trimmingCharacters(in: [" ", "\t"])
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            if let open = line.lastIndex(of: "<"), let close = line.lastIndex(of: ">"), open < close {
                let address = String(line[line.index(after: open)..<close])
                let name = String(line[..<open]).trimmingCharacters(in: [" ", "\t", "\""])
                if address.contains("@") { entries.append(MailAddress(name: name.isEmpty ? nil : name, address: address)) }
            } else if line.contains("@"), !line.contains(" ") {
                entries.append(MailAddress(address: line))
            }
        }
        self.init(entries: entries)
    }

    public func find(_ query: String, limit: Int) -> [MailAddress] {
        let needle = query.lowercased()
        guard !needle.isEmpty else { return [] }
        return Array(entries.filter {
            $0.address.lowercased().contains(needle) || ($0.name?.lowercased().contains(needle) ?? false)
        }.prefix(limit))
    }
}

extension Gateway {
    /// The directory for one account: its own address first, then the configured book.
    func directory(for account: MailAccount) -> AddressBook {
        var entries = [MailAddress(name: nil, address: account.emailAddress)]
        entries += configuration.addressBook.entries.filter { $0.address.lowercased() != account.emailAddress.lowercased() }
        return AddressBook(entries: entries)
    }
}
