import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import Testing

/// Hostile clients over HTTP: stalled headers and trickled bodies (slow-loris), deep nesting
/// and invalid UTF-8. Each gets a clear answer or a closed connection within bounds, while
/// other clients keep being served and held Pings are not cut.
@Suite struct SlowClientTests {
    static func start() async throws -> RunningGateway {
        try await RunningGateway.start { configuration in
            configuration.idleTimeout = .seconds(2)
            configuration.uploadGrace = .seconds(2)
            configuration.minimumUploadRate = 1024
            configuration.gateway.heartbeatBounds = 4...3540
        }
    }

    static var authorization: String {
        "Basic " + Base64.encode(Array("\(Stack["DEMO_USER"]):\(Stack["DEMO_PASSWORD"])".utf8))
    }

    @Test func stalledHeadersAndTrickledBodiesAreCutWhileOthersAreServed() async throws {
        guard Stack.available() else { return }
        let gateway = try await Self.start()
        defer { Task { await gateway.stop() } }
        // 40 connections stall mid-header, two trickle a body at 20 bytes/s; meanwhile a normal
        // client is answered at once. Python reports when and
        // how each ended.
        let output = try await Stack.python("""
            import socket, sys, time, threading, http.client
            port, auth = int(sys.argv[1]), sys.argv[2]
            start = time.monotonic()
            stalled = []
            for _ in range(40):
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(b"POST /Microsoft-Server-ActiveSync?Cmd=Ping&User=x&DeviceId=SLOW1&DeviceType=x HTTP/1.1\\r\\nHost: x\\r\\n")
                s.settimeout(15)
                stalled.append(s)
            def trickle(authorization):
                # 20 bytes/s of a declared 100 kB body, until the server closes the connection.
                t0 = time.monotonic()
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(("POST /Microsoft-Server-ActiveSync?Cmd=FolderSync&User=demo&DeviceId=SLOW2&DeviceType=x HTTP/1.1\\r\\n"
                           "Host: x\\r\\nAuthorization: " + authorization + "\\r\\nContent-Type: application/vnd.ms-sync.wbxml\\r\\n"
                           "MS-ASProtocolVersion: 14.1\\r\\nContent-Length: 100000\\r\\n\\r\\n").encode())
                s.settimeout(0.05)
                answer = b""
                for _ in range(600):
                    try:
                        s.sendall(b"x")
                    except OSError:
                        break
                    try:
                        data = s.recv(4096)
                        if not data:
                            break
                        answer += data
                    except socket.timeout:
                        pass
                    except OSError:
                        break
                status = answer.split(b"\\r\\n")[0].decode() if answer else "no answer"
                return status + "/%.1f" % (time.monotonic() - t0)
            results = []
            threads = [threading.Thread(target=lambda a=a: results.append(trickle(a))) for a in (auth, "Basic bm9ib2R5Ondyb25n")]
            for t in threads: t.start()
            for t in threads: t.join()
            trickle_status = ",".join(sorted(results))
            trickle_time = time.monotonic() - start
            normal = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            normal.request("OPTIONS", "/Microsoft-Server-ActiveSync")
            normal_status = normal.getresponse().status
            closed = 0
            for s in stalled:
                try:
                    if s.recv(100) == b"":
                        closed += 1
                except socket.timeout:
                    pass
                except OSError:
                    closed += 1
            print(trickle_status, "%.1f" % trickle_time, normal_status, closed, "%.1f" % (time.monotonic() - start), sep="|")
            """, [String(gateway.port), Self.authorization])
        let fields = output.split(separator: "|").map { String($0) }
        guard fields.count == 5 else { Issue.record("unexpected output: \(output)"); return }
        // Both trickles (one with the user's password, whose body the gateway reads; one with a
        // wrong one, whose body it never reads) are cut soon after the grace period (2 s), not
        // after 100 kB at 20 bytes/s.
        let trickles = fields[0].split(separator: ",").map { $0.split(separator: "/") }
        #expect(trickles.count == 2, "\(output)")
        for trickle in trickles {
            let seconds = Double(trickle.last ?? "") ?? 99
            #expect(seconds >= 2 && seconds < 8, "\(output)")
        }
        #expect(fields[2] == "200" && fields[3] == "40", "\(output)")
        // All stalled connections were closed by the idle timeout (2 s), within seconds.
        #expect((Double(fields[4]) ?? 99) < 12, "\(output)")
    }

    @Test func aPingHeldLongerThanTheIdleTimeoutIsNotCut() async throws {
        guard Stack.available() else { return }
        let gateway = try await Self.start()
        defer { Task { await gateway.stop() } }
        var device = gateway.device(version: .v14_1)
        try await device.provision()
        let folders = try await device.send("FolderSync", EASRequests.folderSync(key: "0"))
        let inbox = try #require(folders.addedFolder(type: "2"))
        let started = ContinuousClock.now
        let ping = try await device.send("Ping", EASRequests.ping(folders: [inbox], heartbeat: 5))
        // Held 5 s against an idle timeout of 2 s, then answered "no changes" (or "changes" if
        // another suite's message landed meanwhile), never cut.
        #expect(ping.status == 200)
        #expect(["1", "2"].contains(ping.element?.child(EASTag.Ping.status)?.text))
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func deepNestingAndInvalidUTF8GetClearAnswers() async throws {
        guard Stack.available() else { return }
        let gateway = try await Self.start()
        defer { Task { await gateway.stop() } }
        var device = gateway.device(version: .v14_1)
        try await device.provision()
        // WBXML 1.3, public id 1, UTF-8, no string table, then 100,000 nested Sync elements.
        let deep = [0x03, 0x01, 0x6A, 0x00] + [UInt8](repeating: 0x45, count: 100_000)
        #expect(try await device.post("Sync", bytes: deep).status == 400)
        // A folder name whose bytes are not UTF-8: refused or answered with a status, never a
        // 500 (the name is encoded as "ZZZZ", then those bytes are replaced).
        typealias FH = EASTag.FolderHierarchy
        var encoded = try EASElement(FH.folderCreate, children: [
            EASElement(FH.syncKey, text: "0"), EASElement(FH.parentId, text: "0"), EASElement(FH.displayName, text: "ZZZZ"),
            EASElement(FH.type, text: "1"),
        ]).wbxml()
        var bytes = encoded.readBytes(length: encoded.readableBytes) ?? []
        let at = try #require(bytes.indices.first { bytes[$0...].starts(with: Array("ZZZZ".utf8)) })
        bytes.replaceSubrange(at..<(at + 4), with: [0xFF, 0xFE, 0xC0, 0x80])
        #expect(try await device.post("FolderCreate", bytes: bytes).status < 500)
        // The device still works.
        #expect(try await device.send("FolderSync", EASRequests.folderSync(key: "0")).status == 200)
    }
}
