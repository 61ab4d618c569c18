/// A mailbox name as IMAP sends it (modified UTF-7, [RFC 3501] 5.1.3), and as people read it.
///
/// The wire form is what every IMAP command takes; `displayName` is what EAS shows. Converting
/// is ours to do: libetpan passes names through unchanged.
public struct IMAPMailboxName: Hashable, Sendable, CustomStringConvertible {
    /// The name exactly as the server sends it.
    public let wireName: String

    /// A name received from the server.
    public init(wire wireName: String) {
        self.wireName = wireName
    }

    /// The name for a mailbox called `displayName`, encoded for the wire.
    public init(display displayName: String) {
        self.wireName = ModifiedUTF7.encode(displayName)
    }

    /// The name decoded for people; a malformed encoding is shown as it was sent.
    public var displayName: String { ModifiedUTF7.decode(wireName) ?? wireName }

    /// INBOX is case-insensitive ([RFC 3501] 5.1).
    public var isInbox: Bool { wireName.uppercased() == "INBOX" }

    /// The last component, split at the server's hierarchy delimiter.
    public func leafName(delimiter: Character?) -> String {
        guard let delimiter, let last = displayName.split(separator: delimiter, omittingEmptySubsequences: false).last
        else { return displayName }
        return String(last)
    }

    public var description: String { wireName }
}

/// IMAP's modified UTF-7 ([RFC 3501] 5.1.3): printable ASCII except `&` stands for itself,
/// `&` is `&-`, anything else is UTF-16 in modified base64 (`,` for `/`, no padding) between
/// `&` and `-`.
public enum ModifiedUTF7 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
        return table
    }()

    /// Encodes a name for the wire.
    public static func encode(_ text: String) -> String {
        var output = ""
        var pending: [UInt16] = []
        func flush() {
            guard !pending.isEmpty else { return }
            var bytes: [UInt8] = []
            for unit in pending { bytes += [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
            output += "&"
            var index = 0
            while index < bytes.count {
                let chunk = bytes[index..<min(index + 3, bytes.count)]
                let group = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
                let characters = chunk.count + 1
                for position in 0..<characters {
                    output.unicodeScalars.append(Unicode.Scalar(alphabet[Int(group >> (18 - 6 * UInt32(position)) & 0x3F)]))
                }
                index += 3
            }
            output += "-"
            pending = []
        }
        for scalar in text.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value <= 0x7E {
                flush()
                output += scalar == "&" ? "&-" : String(scalar)
            } else {
                pending += Array(String(scalar).utf16)
            }
        }
        flush()
        return output
    }

    /// Decodes a wire name; `nil` if it is not valid modified UTF-7.
    public static func decode(_ wire: String) -> String? {
        var output = ""
        var bytes = Array(wire.utf8)[...]
        while let byte = bytes.popFirst() {
            guard byte >= 0x20 && byte <= 0x7E else { return nil }
            guard byte == UInt8(ascii: "&") else {
                output.unicodeScalars.append(Unicode.Scalar(byte))
                continue
            }
            guard let end = bytes.firstIndex(of: UInt8(ascii: "-")) else { return nil }
            let encoded = bytes[..<end]
            bytes = bytes[(end + 1)...]
            if encoded.isEmpty {
                output += "&"
                continue
            }
            var units: [UInt16] = []
            var buffer: UInt32 = 0
            var bits = 0
            var octets: [UInt8] = []
            for character in encoded {
                let value = values[Int(character)]
                guard value != 0xFF else { return nil }
                buffer = buffer << 6 | UInt32(value)
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    octets.append(UInt8(buffer >> UInt32(bits) & 0xFF))
                }
            }
            guard octets.count % 2 == 0 else { return nil }
            for index in stride(from: 0, to: octets.count, by: 2) {
                units.append(UInt16(octets[index]) << 8 | UInt16(octets[index + 1]))
            }
            guard let decoded = String(validating: units, as: UTF16.self) else { return nil }
            // A shift sequence must not encode what could have been written as ASCII.
            guard !decoded.unicodeScalars.contains(where: { $0.value >= 0x20 && $0.value <= 0x7E }) else { return nil }
            output += decoded
        }
        return output
    }
}
