import Gateway
import HTTPTypes
import Hummingbird
import NIOCore

/// Autodiscover for mobile sync ([MS-ASCMD] 2.2.1.1, the
/// `mobilesync/responseschema/2006` schema): tells a phone which URL serves EAS for an address,
/// after checking the caller's credentials.
extension GatewayResponder {
    static let mobileSyncResponseSchema = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
    /// Largest Autodiscover request read.
    static let maxAutodiscoverBytes = 64 * 1024

    func autodiscover(_ request: Request, context: Context) async -> Response {
        guard let credentials = Self.basicCredentials(request.headers[.authorization]) else { return Self.unauthorized() }
        if !configuration.isTLS, !configuration.allowPlainHTTPBasicAuth, !Self.isLoopback(context.remoteAddress) {
            return Self.plain(.forbidden)
        }
        let text: String
        do {
            let buffer = try await request.body.collect(upTo: Self.maxAutodiscoverBytes)
            text = String(decoding: buffer.readableBytesView, as: UTF8.self)
        } catch {
            return Self.plain(.contentTooLarge)
        }
        do {
            if await cache.account(user: credentials.user, password: credentials.password) == nil {
                let account = try await authenticator.account(user: credentials.user, password: credentials.password)
                await cache.remember(account, user: credentials.user, password: credentials.password)
            }
        } catch {
            return failure(error)
        }
        let address = Self.element("EMailAddress", in: text) ?? credentials.user
        guard let schema = Self.element("AcceptableResponseSchema", in: text), schema == Self.mobileSyncResponseSchema else {
            return Self.autodiscoverXML(Self.autodiscoverError(code: 600, message: "Invalid Request"))
        }
        let host = request.head.authority ?? "localhost"
        let url = configuration.publicURL ?? "\(configuration.isTLS ? "https" : "http")://\(host)/Microsoft-Server-ActiveSync"
        return Self.autodiscoverXML("""
            <?xml version="1.0" encoding="utf-8"?>
            <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
              <Response xmlns="\(Self.mobileSyncResponseSchema)">
                <Culture>en:us</Culture>
                <User>
                  <DisplayName>\(Self.escaped(address))</DisplayName>
                  <EMailAddress>\(Self.escaped(address))</EMailAddress>
                </User>
                <Action>
                  <Settings>
                    <Server>
                      <Type>MobileSync</Type>
                      <Url>\(Self.escaped(url))</Url>
                      <Name>\(Self.escaped(url))</Name>
                    </Server>
                  </Settings>
                </Action>
              </Response>
            </Autodiscover>

            """)
    }

    static func autodiscoverError(code: Int, message: String) -> String {
        """
        <?xml version="1.0" encoding="utf-8"?>
        <Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
          <Response xmlns="\(mobileSyncResponseSchema)">
            <Culture>en:us</Culture>
            <Action>
              <Error>
                <Status>2</Status>
                <Message>\(escaped(message))</Message>
                <DebugData>\(code)</DebugData>
              </Error>
            </Action>
          </Response>
        </Autodiscover>

        """
    }

    static func autodiscoverXML(_ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/xml; charset=utf-8"
        headers[.contentLength] = String(text.utf8.count)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// The text of the first `<name>…</name>` (any namespace prefix), unescaped.
    static func element(_ name: String, in xml: String) -> String? {
        guard let open = xml.firstRange(of: name + ">") else { return nil }
        let rest = xml[open.upperBound...]
        guard let close = rest.firstRange(of: "</") else { return nil }
        let value = rest[..<close.lowerBound]
        return String(value).replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
            .replacing("&apos;", with: "'").replacing("&amp;", with: "&").filter { !$0.isWhitespace }
    }

    static func escaped(_ text: String) -> String {
        MarkupEscaping.escaped(text)
    }
}
