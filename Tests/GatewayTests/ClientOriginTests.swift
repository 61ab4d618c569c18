import GatewayHTTP
import Testing

/// Which address a request is counted and logged under, behind trusted proxies or not.
@Suite struct ClientOriginTests {
    static let proxies = [IPNetwork("127.0.0.1")!, IPNetwork("10.0.0.0/8")!, IPNetwork("fd00::/8")!]

    @Test func networksParseAndMatch() {
        #expect(IPNetwork("192.0.2.0/24")?.description == "192.0.2.0/24")
        #expect(IPNetwork("2001:db8::/32")?.description == "2001:db8::/32")
        #expect(IPNetwork("::1")?.description == "::1")
        for bad in ["", "example.net", "192.0.2.0/33", "192.0.2.1/", "::/129", "1.2.3", "10.0.0.0/8/8", "10.0.0.0/-1"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
    }

    @Test func headersCountOnlyFromATrustedProxy() {
        func origin(_ peer: String, _ forwarded: [String], proto: [String] = [], tls: Bool = false) -> ClientOrigin {
            ClientOrigin(peer: peer, forwardedFor: forwarded, forwardedProto: proto, connectionIsTLS: tls, trusted: Self.proxies)
        }
        // A client talking to us directly cannot choose its address or scheme.
        #expect(origin("198.51.100.7", ["203.0.113.5"], proto: ["https"]) == ClientOrigin(
            peer: "198.51.100.7", forwardedFor: [], forwardedProto: [], connectionIsTLS: false, trusted: []))
        #expect(origin("198.51.100.7", ["203.0.113.5"]).address == "198.51.100.7")
        #expect(!origin("198.51.100.7", [], proto: ["https"]).isTLS)
        // Behind the proxy: the client it names, and the scheme it was reached by.
        let behind = origin("127.0.0.1", ["203.0.113.5"], proto: ["https"])
        #expect(behind.address == "203.0.113.5" && behind.isTLS && !behind.isLoopback)
        #expect(!origin("127.0.0.1", ["203.0.113.5"], proto: ["http"]).isTLS)
        // A client's own X-Forwarded-For is on the left; the rightmost untrusted hop counts.
        #expect(origin("127.0.0.1", ["6.6.6.6, 203.0.113.5, 10.1.2.3"]).address == "203.0.113.5")
        #expect(origin("127.0.0.1", ["6.6.6.6", "203.0.113.5"]).address == "203.0.113.5")
        // Every hop trusted: the first one; garbage: the last good hop.
        #expect(origin("127.0.0.1", ["10.9.9.9, 10.1.1.1"]).address == "10.9.9.9")
        #expect(origin("127.0.0.1", ["203.0.113.5, <script>"]).address == "127.0.0.1")
        // Ports and brackets as some proxies write them; IPv4-mapped peers.
        #expect(origin("127.0.0.1", ["[2001:db8::7]:443"]).address == "2001:db8::7")
        #expect(origin("127.0.0.1", ["203.0.113.5:5123"]).address == "203.0.113.5")
        #expect(origin("::ffff:127.0.0.1", ["203.0.113.5"]).address == "203.0.113.5")
        #expect(origin("fd12::1", ["2001:db8::9"]).address == "2001:db8::9")
        // No header: the proxy itself.
        #expect(origin("127.0.0.1", []).address == "127.0.0.1")
        #expect(origin("127.0.0.1", []).isLoopback)
        #expect(origin("::1", [], tls: true).isTLS)
    }
}
