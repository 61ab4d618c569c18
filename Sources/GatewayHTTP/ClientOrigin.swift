import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IP address range, `192.0.2.0/24`, `2001:db8::/32`, or one address.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    let bytes: [UInt8]
    let prefixLength: Int

    /// Parses `ADDRESS` or `ADDRESS/PREFIX`; nil when it is neither.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let bytes = IPNetwork.address(String(parts[0])) else { return nil }
        let bits = bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        self.bytes = bytes
    }

    public var description: String {
        (IPNetwork.text(bytes) ?? "?") + (prefixLength == bytes.count * 8 ? "" : "/\(prefixLength)")
    }

    /// Whether `address` (4 or 16 bytes) lies in this range.
    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == bytes.count else { return false }
        var remaining = prefixLength
        for (ours, theirs) in zip(bytes, address) where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if ours & mask != theirs & mask { return false }
            remaining -= 8
        }
        return true
    }

    /// The address's bytes: 4 for IPv4 (also when written IPv4-mapped, `::ffff:192.0.2.1`),
    /// 16 for IPv6; nil when `text` is not an address.
    static func address(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count < 64 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }

    /// The canonical text of 4 or 16 address bytes.
    static func text(_ bytes: [UInt8]) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let done = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) }
        guard done != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Where a request comes from: the TCP peer, or, when the peer is a trusted reverse proxy,
/// the client the proxy names in `X-Forwarded-For` (and the scheme in `X-Forwarded-Proto`).
/// Headers from anyone else are ignored: a client cannot pick its own address.
public struct ClientOrigin: Sendable, Equatable {
    /// The client's address, canonical text; nil when the peer's is unknown.
    public var address: String?
    /// Whether the client's connection was TLS: to us, or to the trusted proxy.
    public var isTLS: Bool

    /// Whether the client is this machine.
    public var isLoopback: Bool {
        guard let address, let bytes = IPNetwork.address(address) else { return false }
        return bytes.count == 4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// Most `X-Forwarded-For` entries looked at.
    static let maxForwardedEntries = 32

    /// - Parameters:
    ///   - peer: the TCP peer's address text.
    ///   - forwardedFor: the `X-Forwarded-For` values in order (several headers are joined).
    ///   - forwardedProto: the `X-Forwarded-Proto` values.
    ///   - connectionIsTLS: whether the connection to us is TLS.
    ///   - trusted: the proxies whose forwarding headers count.
    public init(peer: String?, forwardedFor: [String], forwardedProto: [String], connectionIsTLS: Bool,
                trusted: [IPNetwork]) {
        let peerBytes = peer.flatMap(IPNetwork.address)
        address = peerBytes.flatMap(IPNetwork.text) ?? peer
        isTLS = connectionIsTLS
        func isTrusted(_ bytes: [UInt8]) -> Bool { trusted.contains { $0.contains(bytes) } }
        guard let peerBytes, isTrusted(peerBytes) else { return }

        // Right to left: each trusted hop appended the address it saw; the first one not
        // trusted is the client. Garbage stops the walk at the last good hop.
        let entries = forwardedFor.flatMap { $0.split(separator: ",") }.suffix(Self.maxForwardedEntries)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        for entry in entries.reversed() {
            guard let bytes = IPNetwork.address(Self.strippingPort(entry)) else { break }
            address = IPNetwork.text(bytes)
            if !isTrusted(bytes) { break }
        }
        if let scheme = forwardedProto.flatMap({ $0.split(separator: ",") }).last {
            isTLS = scheme.trimmingCharacters(in: .whitespaces).lowercased() == "https"
        }
    }

    /// `[2001:db8::1]:443` and `192.0.2.1:443` as some proxies write them, without the port.
    static func strippingPort(_ entry: String) -> String {
        if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {
            return String(entry[entry.index(after: entry.startIndex)..<close])
        }
        if entry.filter({ $0 == ":" }).count == 1, let colon = entry.firstIndex(of: ":") {
            return String(entry[..<colon])
        }
        return entry
    }
}
