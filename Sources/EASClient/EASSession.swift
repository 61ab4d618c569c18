import EASProtocol
import NIOCore
import NIOHTTP1

/// One device talking EAS to a server: the identity it sends with every request, its policy
/// key, and helpers that encode requests and decode answers. The tests' client, and the
/// core of `airgate probe`.
public struct EASDevice: Sendable {
    public var exchange: HTTPExchange
    public var user: String
    public var password: String
    public var deviceId: String
    public var deviceType: String
    public var version: EASProtocolVersion
    public var policyKey: String?
    public var userAgent: String

    public init(exchange: HTTPExchange, user: String, password: String, deviceId: String, deviceType: String = "iPhone",
                version: EASProtocolVersion = .v14_1, userAgent: String = "Apple-iPhone15C2/2101.123") {
        self.exchange = exchange
        self.user = user
        self.password = password
        self.deviceId = deviceId
        self.deviceType = deviceType
        self.version = version
        self.userAgent = userAgent
    }

    /// An answer: the raw HTTP response and, for a WBXML body, its decoding.
    public struct Answer: Sendable {
        public var http: HTTPExchangeResponse
        public var element: EASElement?

        public var status: Int { http.status }
    }

    public var path: String { "/Microsoft-Server-ActiveSync" }

    public func query(_ command: String) -> String {
        "\(path)?Cmd=\(command)&User=\(user)&DeviceId=\(deviceId)&DeviceType=\(deviceType)"
    }

    public func options() async throws -> HTTPExchangeResponse {
        try await exchange.send(method: .OPTIONS, path: path, headers: authorization(), body: [])
    }

    /// POSTs `body` (nil: an empty body) as `command`.
    public func send(_ command: String, _ body: EASElement?, extraHeaders: [(String, String)] = []) async throws -> Answer {
        let response = try await post(command, body, extraHeaders: extraHeaders)
        var element: EASElement?
        if response.status == 200, !response.body.isEmpty,
           response.header("Content-Type")?.lowercased().contains("wbxml") == true
        {
            element = try EASDecoder.decode(ByteBuffer(bytes: response.body))
        }
        return Answer(http: response, element: element)
    }

    /// POSTs `body` as `command` and returns the response undecoded.
    public func post(_ command: String, _ body: EASElement?, extraHeaders: [(String, String)] = []) async throws
        -> HTTPExchangeResponse
    {
        var bytes: [UInt8] = []
        if let body {
            var buffer = try body.wbxml()
            bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        }
        return try await post(command, bytes: bytes, extraHeaders: extraHeaders)
    }

    /// POSTs an encoded body as `command`.
    public func post(_ command: String, bytes: [UInt8], extraHeaders: [(String, String)] = []) async throws
        -> HTTPExchangeResponse
    {
        var headers = authorization() + [
            ("MS-ASProtocolVersion", version.rawValue), ("Content-Type", "application/vnd.ms-sync.wbxml"),
            ("User-Agent", userAgent),
        ] + extraHeaders
        // [MS-ASHTTP]: no policy key with Ping.
        if let policyKey, command != "Ping" { headers.append(("X-MS-PolicyKey", policyKey)) }
        return try await exchange.send(method: .POST, path: query(command), headers: headers, body: bytes)
    }

    /// [MS-ASCMD] 2.2.1.1: the mobile-sync Autodiscover request for `address`.
    public static func autodiscoverRequest(for address: String) -> [UInt8] {
        let escaped = address.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
        return Array("""
            <?xml version="1.0" encoding="utf-8"?>
            <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006">
            <Request><EMailAddress>\(escaped)</EMailAddress>
            <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema>
            </Request></Autodiscover>
            """.utf8)
    }

    /// The `Authorization` header for this device's credentials.
    public var basicAuthorization: [(String, String)] { authorization() }

    func authorization() -> [(String, String)] {
        let token = Array("\(user):\(password)".utf8)
        return [("Authorization", "Basic " + Base64.encode(token))]
    }

    /// Runs Provision twice (policy, then acknowledgement) and keeps the final key.
    public mutating func provision() async throws {
        let first = try await send("Provision", EASRequests.provision())
        guard let temporary = EASRequests.policyKey(in: first.element) else {
            throw EASClientError("Provision gave no temporary key (HTTP \(first.status))")
        }
        policyKey = temporary
        let second = try await send("Provision", EASRequests.provision(acknowledging: temporary))
        guard let final = EASRequests.policyKey(in: second.element) else {
            throw EASClientError("Provision gave no final key (HTTP \(second.status))")
        }
        policyKey = final
    }
}

public struct EASClientError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
