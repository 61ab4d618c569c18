import HTTPTypes
import Hummingbird
import NIOCore

/// Autodiscover v2: `GET /autodiscover/autodiscover.json/v1.0/{email}?Protocol=ActiveSync`
/// (or `/autodiscover/autodiscover.json?Email=…&Protocol=…`) answers `{"Protocol":…,"Url":…}`
/// without credentials, as Exchange Online does. It names only this gateway's URLs.
extension GatewayResponder {
    /// The protocols v2 can name here and how their URL is made from the EAS URL.
    static let autodiscoverV2Protocols = ["ActiveSync", "AutodiscoverV1"]

    func autodiscoverJSON(_ request: Request) -> Response {
        let path = request.uri.path
        let lowered = path.lowercased()
        let prefix = "/autodiscover/autodiscover.json"
        var parameters: [String: String] = [:]
        for pair in (request.uri.query ?? "").split(separator: "&").prefix(16) {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            parameters[parts[0].lowercased()] = EASQuery.percentDecoded(Substring(parts[1])) ?? parts[1]
        }
        var email = parameters["email"]
        let rest = String(path.dropFirst(prefix.count))
        if lowered.dropFirst(prefix.count).hasPrefix("/v1.0/") {
            email = EASQuery.percentDecoded(rest.dropFirst("/v1.0/".count))
        } else if !rest.isEmpty, rest != "/" {
            return Self.plain(.notFound)
        }
        guard let email, email.utf8.count <= 320, email.contains("@") else {
            return Self.json(.badRequest, ["ErrorCode": "InvalidUser", "ErrorMessage": "A valid email address is required."])
        }
        guard let requested = parameters["protocol"],
              let name = Self.autodiscoverV2Protocols.first(where: { $0.lowercased() == requested.lowercased() })
        else {
            let supported = Self.autodiscoverV2Protocols.joined(separator: ",")
            return Self.json(.badRequest, [
                "ErrorCode": "InvalidProtocol",
                "ErrorMessage": "The given protocol value is invalid. Supported values are '\(supported)'.",
            ])
        }
        guard let served = servedDomain(of: email) else {
            return Self.json(.notFound, ["ErrorCode": "InvalidUser", "ErrorMessage": "No mailbox of this domain is served here."])
        }
        let eas = easURL(request, domain: served)
        let url: String
        if name == "ActiveSync" {
            url = eas
        } else {
            let origin = eas.firstRange(of: "/Microsoft-Server-ActiveSync").map { String(eas[..<$0.lowerBound]) } ?? eas
            url = origin + "/autodiscover/autodiscover.xml"
        }
        return Self.json(.ok, ["Protocol": name, "Url": url])
    }

    static func json(_ status: HTTPResponse.Status, _ fields: KeyValuePairs<String, String>) -> Response {
        let text = "{" + fields.map { "\(jsonString($0.key)):\(jsonString($0.value))" }.joined(separator: ",") + "}"
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.contentLength] = String(text.utf8.count)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// A JSON string literal ([RFC 8259] section 7).
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
