import EASProtocol
import Gateway

/// The request line's parameters ([MS-ASHTTP] 2.2.1.1.1): the plain form
/// (`?Cmd=Sync&User=…&DeviceId=…&DeviceType=…`) or the base64-encoded binary form.
public struct EASQuery: Hashable, Sendable {
    public var command: String
    public var user: String?
    public var deviceId: String
    public var deviceType: String
    /// Only the base64 form carries these; the plain form uses headers.
    public var version: EASProtocolVersion?
    public var policyKey: String?
    public var parameters: [String: String]

    /// Longest query read.
    public static let maxLength = 2048
    /// [MS-ASHTTP] 2.2.1.1.1.1.3: DeviceId is at most 32 characters; letters and digits.
    public static let maxDeviceIdLength = 32
    public static let maxDeviceTypeLength = 64

    public init?(_ query: String) {
        guard !query.isEmpty, query.utf8.count <= Self.maxLength else { return nil }
        if query.lowercased().contains("cmd=") {
            self.init(plain: query)
        } else {
            self.init(base64: query)
        }
    }

    /// The plain form's names of what `EASQuery` has fields for (lowercased).
    static let plainIdentity: Set<String> = ["cmd", "user", "deviceid", "devicetype"]
    /// The other parameters of the plain form (lowercased) under the names the base64 form
    /// gives them.
    static let canonicalNames = [
        "saveinsent": "SaveInSent", "itemid": "ItemId", "collectionid": "CollectionId", "longid": "LongId",
        "attachmentname": "AttachmentName", "occurrence": "Occurrence", "acceptmultipart": "AcceptMultiPart",
    ]

    init?(plain query: String) {
        var values: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = parts.first, let decoded = Self.percentDecoded(parts.count > 1 ? parts[1] : "") else { return nil }
            values[name.lowercased()] = decoded
        }
        guard let command = values["cmd"], let deviceId = values["deviceid"], let deviceType = values["devicetype"] else {
            return nil
        }
        self.command = command
        self.user = values["user"]
        self.deviceId = deviceId
        self.deviceType = deviceType
        self.version = nil
        self.policyKey = nil
        var parameters: [String: String] = [:]
        for (name, value) in values where !Self.plainIdentity.contains(name) {
            parameters[Self.canonicalNames[name] ?? name] = value
        }
        self.parameters = parameters
        guard valid else { return nil }
    }

    /// [MS-ASHTTP] 2.2.1.1.1.1: version, command code, locale, device id, policy key, device
    /// type, then tagged parameters.
    init?(base64 query: String) {
        // Some clients leave out the padding.
        guard let decodedText = Self.percentDecoded(Substring(query)).map({ $0 + String(repeating: "=", count: (4 - $0.utf8.count % 4) % 4) }),
              let bytes = Base64.decode(decodedText),
              bytes.count >= 7
        else { return nil }
        var reader = ByteReader(bytes)
        guard let versionByte = reader.byte(), let code = reader.byte(), reader.skip(2),
              let idLength = reader.byte(), let id = reader.bytes(Int(idLength)),
              let keyLength = reader.byte()
        else { return nil }
        var policyKey: String?
        if keyLength == 4 {
            guard let key = reader.bytes(4) else { return nil }
            let value = UInt32(key[0]) | UInt32(key[1]) << 8 | UInt32(key[2]) << 16 | UInt32(key[3]) << 24
            policyKey = String(value)
        } else if keyLength != 0 {
            return nil
        }
        guard let typeLength = reader.byte(), let type = reader.bytes(Int(typeLength)) else { return nil }
        var parameters: [String: String] = [:]
        var user: String?
        while !reader.isAtEnd {
            guard let tag = reader.byte(), let length = reader.byte(), let value = reader.bytes(Int(length)) else { return nil }
            let text = String(decoding: value, as: UTF8.self)
            switch tag {
            case 0: parameters["AttachmentName"] = text
            case 1: parameters["CollectionId"] = text
            case 3: parameters["ItemId"] = text
            case 4: parameters["LongId"] = text
            case 6: parameters["Occurrence"] = text
            case 7:
                // Options: 0x01 SaveInSent, 0x02 AcceptMultiPart.
                let flags = value.first ?? 0
                if flags & 1 != 0 { parameters["SaveInSent"] = "T" }
                if flags & 2 != 0 { parameters["AcceptMultiPart"] = "T" }
            case 8: user = text
            default: break
            }
        }
        guard let command = EASCommand(code: code) else { return nil }
        self.command = command.rawValue
        self.user = user
        // The device id travels as bytes; hexadecimal keeps any value printable.
        self.deviceId = id.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) ? String(decoding: id, as: UTF8.self)
            : id.map { String($0, radix: 16) }.joined()
        self.deviceType = String(decoding: type, as: UTF8.self)
        self.version = EASProtocolVersion(headerValue: "\(versionByte / 10).\(versionByte % 10)")
        self.policyKey = policyKey
        self.parameters = parameters
        guard valid else { return nil }
    }

    var valid: Bool {
        !deviceId.isEmpty && deviceId.utf8.count <= Self.maxDeviceIdLength
            && deviceId.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
            && !deviceType.isEmpty && deviceType.utf8.count <= Self.maxDeviceTypeLength
            && deviceType.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
    }

    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard iterator.count >= 2, let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16) else {
                    return nil
                }
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

struct ByteReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { index >= bytes.count }

    mutating func byte() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func bytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, index + count <= bytes.count else { return nil }
        defer { index += count }
        return Array(bytes[index..<index + count])
    }

    mutating func skip(_ count: Int) -> Bool { bytes(count) != nil }
}
