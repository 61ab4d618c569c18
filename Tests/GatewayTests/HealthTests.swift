import AirgateTestSupport
import EASClient
import Foundation
import EASProtocol
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
            configuration.routes.fallback?.imap = ServerEndpoint(host: "127.0.0.1", port: Int(port) ?? 1, security: .plain)
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

/// `/metrics` read by Prometheus's own text-format parser (Python's prometheus_client).
@Suite struct MetricsTests {
    @Test func requestsAreCountedByCommandAndStatus() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        var device = gateway.device()
        try await device.provision()
        let folderSync = EASElement(EASTag.FolderHierarchy.folderSync, children: [EASElement(EASTag.FolderHierarchy.syncKey, text: "0")])
        #expect(try await device.send("FolderSync", folderSync).status == 200)
        #expect(try await device.send("FolderSync", folderSync).status == 200)
        #expect(try await device.send("Frobnicate", nil).status == 400)
        let text = String(decoding: try await device.exchange.send(method: .GET, path: "/metrics", headers: [], body: []).body,
                          as: UTF8.self)
        let samples = try await Self.samples(text)
        #expect(samples["airgate_requests_total{command=FolderSync,status=200}"] == 2)
        #expect(samples["airgate_requests_total{command=Provision,status=200}"] == 2)
        #expect(samples["airgate_requests_total{command=unknown,status=400}"] == 1)
        #expect(samples["airgate_request_duration_seconds_count{command=FolderSync}"] == 2)
        #expect(samples.keys.contains { $0.hasPrefix("airgate_request_duration_seconds_bucket{command=FolderSync,le=") })
        // The FolderSyncs logged in to IMAP: at least that connection is open (or idle in its pool).
        #expect((samples["airgate_imap_connections{}"] ?? 0) >= 1)
        // The state store's work is timed (the FolderSyncs wrote hierarchy keys).
        #expect((samples["airgate_store_seconds_count{kind=transaction}"] ?? 0) >= 2)
        #expect((samples["airgate_store_seconds_count{kind=query}"] ?? 0) >= 1)
    }

    /// The samples of a `/metrics` text as Prometheus's parser reads them, keyed
    /// `name{label=value,…}` with labels sorted.
    static func samples(_ text: String) async throws -> [String: Double] {
        let parsed = try await Stack.python("""
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(sys.argv[1]):
                for sample in family.samples:
                    labels = ",".join("%s=%s" % item for item in sorted(sample.labels.items()))
                    print("%s{%s} %g" % (sample.name, labels, sample.value))
            """, [text])
        return Dictionary(parsed.split(separator: "\n").compactMap { line -> (String, Double)? in
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
            return (String(line[..<space]), value)
        }, uniquingKeysWith: { first, _ in first })
    }
}
