import AirgateTestSupport
import EASClient
import Foundation
import MailUpstreamEtPan
import Testing

/// `/healthz` and `/readyz` over real HTTP: ready with the stack's Dovecot and store; unready,
/// quickly, when the IMAP server is gone; ready again when it is back.
@Suite struct HealthTests {
    @Test func readinessFollowsTheIMAPServer() async throws {
        guard Stack.available() else { return }
        let ready = try await RunningGateway.start()
        defer { Task { await ready.stop() } }
        let client = ready.device().exchange
        let live = try await client.send(method: .GET, path: "/healthz", headers: [], body: [])
        #expect(live.status == 200)
        let fine = try await client.send(method: .GET, path: "/readyz", headers: [], body: [])
        #expect(fine.status == 200)
        #expect(String(decoding: fine.body, as: UTF8.self) == "imap: ok\nstate store: ok\n")

        // An IMAP port where nothing listens yet.
        let port = try await Stack.python("""
            import socket
            s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
            """)
        let gone = try await RunningGateway.start { configuration in
            configuration.imap = ServerEndpoint(host: "127.0.0.1", port: Int(port) ?? 1, security: .plain)
        }
        defer { Task { await gone.stop() } }
        let goneClient = gone.device().exchange
        let started = ContinuousClock.now
        let down = try await goneClient.send(method: .GET, path: "/readyz", headers: [], body: [])
        #expect(down.status == 503)
        #expect(down.header("Retry-After") != nil)
        #expect(String(decoding: down.body, as: UTF8.self).contains("imap: down"))
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(try await goneClient.send(method: .GET, path: "/healthz", headers: [], body: []).status == 200)

        // The server comes back (a stand-in that greets like Dovecot): ready again.
        let greeter = Task {
            try await Stack.python("""
                import socket, sys
                s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4); s.settimeout(30)
                c, _ = s.accept(); c.sendall(b"* OK [CAPABILITY IMAP4rev1] ready\\r\\n"); c.recv(100); c.close(); s.close()
                """, [port])
        }
        var back = 0
        for _ in 0..<50 {
            back = try await goneClient.send(method: .GET, path: "/readyz", headers: [], body: []).status
            if back == 200 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(back == 200)
        greeter.cancel()
    }
}
