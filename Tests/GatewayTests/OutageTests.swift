import AirgateServer
import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import MailUpstream
import MailUpstreamEtPan
import Testing

/// The gateway's own upstreams really stop and start again: a private Dovecot (made from the
/// stack's second instance's configuration, with its own ports, state and mail) and a private
/// PostgreSQL (its own cluster). Meanwhile requests get 503 with Retry-After within the
/// configured timeouts, held Pings end cleanly, and service resumes by itself with the same
/// sync state: nothing lost, nothing repeated.
@Suite(.serialized) struct OutageTests {
    typealias AS = EASTag.AirSync
    typealias FH = EASTag.FolderHierarchy

    /// A child server process this test starts and stops; killed at the end whatever happens.
    final class ChildServer: @unchecked Sendable {
        // @unchecked: used from one test task at a time.
        let arguments: [String]
        private var process: Process?

        init(_ arguments: [String]) { self.arguments = arguments }

        func start() throws {
            let process = Process()
            // Through Python, which clears the signal mask first: a child inherits the blocked
            // signals of the test's thread (SIGTERM among them), and Dovecot does not unblock
            // them itself, so it would never stop.
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])"]
                + arguments
            // Not the test's own output: `swift test` would wait for the child to close it.
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            self.process = process
        }

        /// SIGTERM, then the exit (SIGKILL after 10 s).
        func stop() {
            guard let process, process.isRunning else { return }
            process.terminate()
            // Polled: Foundation's waitUntilExit spins a core on Linux.
            for _ in 0..<200 where process.isRunning { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            for _ in 0..<100 where process.isRunning { usleep(50_000) }
        }

        deinit {
            if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// Waits (bounded) until something accepts connections on the port.
    static func waitForPort(_ port: Int) async throws {
        try await Stack.python("""
            import socket, sys, time
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
                    sys.exit(0)
                except OSError:
                    time.sleep(0.05)
            sys.exit("nothing listens on " + sys.argv[1])
            """, [String(port)])
    }

    /// Waits (bounded) until no process's command line names `instance` (Dovecot's processes
    /// carry their instance name): the master is gone and so are the sessions it served.
    static func waitUntilGone(_ instance: String) async throws {
        try await Stack.python("""
            import glob, os, sys, time
            for _ in range(200):
                alive = False
                for path in glob.glob("/proc/[0-9]*/cmdline"):
                    if path == "/proc/%d/cmdline" % os.getpid():
                        continue
                    try:
                        if sys.argv[1].encode() in open(path, "rb").read():
                            alive = True
                            break
                    except OSError:
                        pass
                if not alive:
                    sys.exit(0)
                time.sleep(0.05)
            sys.exit(sys.argv[1] + " still runs")
            """, [instance])
    }

    /// A Dovecot of this test's own: the stack's second instance's configuration with another
    /// name, state, log, mail directory and IMAP port, IMAP only.
    static func privateDovecot() async throws -> (server: ChildServer, port: Int, directory: String) {
        let port = try await MultiNodeTests.freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-outage-\(UUID().uuidString)").path
        let config = try await Stack.python("""
            import os, re, sys
            source, directory, port, imap_port = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
            text = open(source).read()
            for sub in ("run", "state", "mail"):
                os.makedirs(directory + "/" + sub, exist_ok=True)
            uid = int(re.search(r"uid=(\\d+)", text).group(1)); gid = int(re.search(r"gid=(\\d+)", text).group(1))
            os.chmod(directory, 0o755)
            os.chown(directory + "/mail", uid, gid)
            text = re.sub(r"(?m)^instance_name = .*$", "instance_name = airgate-outage-" + port, text)
            text = re.sub(r"(?m)^base_dir = .*$", "base_dir = " + directory + "/run", text)
            text = re.sub(r"(?m)^state_dir = .*$", "state_dir = " + directory + "/state", text)
            text = re.sub(r"(?m)^log_path = .*$", "log_path = " + directory + "/dovecot.log", text)
            text = re.sub(r"(?m)^protocols = .*$", "protocols = imap", text)
            text = re.sub(r"home=\\S+", "home=" + directory + "/mail/%n", text)
            text = re.sub(r"(?m)^(\\s*port = )" + imap_port + "$", r"\\g<1>" + port, text)
            text = re.sub(r"(?m)^(\\s*port = )(?!" + port + "$)\\d+$", r"\\g<1>0", text)
            text = re.sub(r"(?ms)^service auth \\{.*?^\\}", "", text)
            open(directory + "/dovecot.conf", "w").write(text)
            print(directory + "/dovecot.conf")
            """, [Stack["BETA_DOVECOT_CONFIG"], directory, String(port), Stack["BETA_IMAP_PORT"]])
        let server = ChildServer(["/usr/sbin/dovecot", "-F", "-c", config])
        try server.start()
        try await waitForPort(port)
        return (server, port, directory)
    }

    static func endpoint(port: Int, timeout: Duration = .seconds(5)) -> ServerEndpoint {
        ServerEndpoint(host: "127.0.0.1", port: port, security: .startTLS, caFile: Stack["TLS_CA_FILE"], serverName: "localhost",
                       timeout: timeout)
    }

    /// Syncs the collection from `key` until nothing more is available; the ServerIds added.
    static func drain(_ device: EASDevice, _ folderId: String, from key: String) async throws -> (key: String, added: [String]) {
        var key = key
        var added: [String] = []
        for _ in 0..<20 {
            let answer = try await device.send("Sync", SyncEndToEndTests.syncRequest(key, collection: folderId, window: 100))
            #expect(answer.status == 200)
            guard let collection = SyncEndToEndTests.collection(answer) else { break }
            #expect(collection.child(AS.status)?.text == "1")
            added += (collection.child(AS.commands)?.children(AS.add) ?? []).compactMap { $0.child(AS.serverId)?.text }
            key = try #require(collection.child(AS.syncKey)?.text)
            if collection.child(AS.moreAvailable) == nil { break }
        }
        return (key, added)
    }

    /// Appends over the side session; after an outage its pooled connection is found dead on
    /// first use, so that one failure is retried.
    static func append(_ session: IMAPMailSession, _ subject: String) async throws {
        for attempt in 1...3 {
            do {
                _ = try await session.append(to: IMAPMailboxName(wire: "INBOX"), message: Array(
                    "From: someone@example.net\r\nSubject: \(subject)\r\n\r\n\(subject)\r\n".utf8), flags: [], internalDate: nil)
                return
            } catch let error as UpstreamError where error.code == .unavailable && attempt < 3 {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    @Test func whileDovecotIsDownRequestsGet503AndServiceResumesByItself() async throws {
        guard Stack.available(), !Stack["BETA_DOVECOT_CONFIG"].isEmpty, FileManager.default.isExecutableFile(atPath: "/usr/sbin/dovecot")
        else { return }
        let (dovecot, port, directory) = try await Self.privateDovecot()
        defer {
            dovecot.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let gateway = try await RunningGateway.start { configuration in
            configuration.gateway.heartbeatBounds = 5...3540
            configuration.routes.fallback?.imap = Self.endpoint(port: port)
            configuration.routes.fallback?.smtp = nil
            configuration.routes.fallback?.sieve = nil
        }
        defer { Task { await gateway.stop() } }
        let user = Stack["BETA_USER"], password = Stack["BETA_PASSWORD"]
        let side = IMAPMailSession(pool: Stack.sideAdapter.pool(endpoint: Self.endpoint(port: port), credentials: .login(
            user: user, password: password)))
        for index in 0..<3 { try await Self.append(side, "before \(index)") }

        var device = gateway.device(version: .v14_1, user: user, password: password)
        try await device.provision()
        let folders = try await device.send("FolderSync", EASRequests.folderSync(key: "0"))
        let inbox = try #require(folders.element?.child(FH.changes)?.children(FH.add)
            .first { $0.child(FH.type)?.text == "2" }?.child(FH.serverId)?.text)
        let first = try await device.send("Sync", SyncEndToEndTests.syncRequest("0", collection: inbox))
        var (key, held) = try await Self.drain(device, inbox, from: try #require(SyncEndToEndTests.collection(first)?.child(AS.syncKey)?.text))
        #expect(held.count == 3)

        // A Ping is held; then Dovecot stops (SIGTERM, all its processes gone).
        let pinger = device
        let ping = Task { try await pinger.send("Ping", EASRequests.ping(folders: [inbox], heartbeat: 8)) }
        try await Task.sleep(for: .milliseconds(500))
        dovecot.stop()
        try await Self.waitUntilGone("airgate-outage-\(port)")

        // Requests that need IMAP: 503 with Retry-After, within the 5 s IMAP timeout; a login
        // the gateway has not seen yet is 503 too, never 401 (which would ask for the password).
        var started = ContinuousClock.now
        let folderSync = try await device.send("FolderSync", EASRequests.folderSync(key: "0"))
        #expect(folderSync.status == 503)
        #expect(Int(folderSync.http.header("Retry-After") ?? "") ?? 0 > 0)
        #expect(ContinuousClock.now - started < .seconds(15))
        // A Sync may be answered from the gateway's own state ("no changes"), or 503.
        started = ContinuousClock.now
        let sync = try await device.send("Sync", SyncEndToEndTests.syncRequest(key, collection: inbox, window: 100))
        #expect(sync.status == 503 ? sync.http.header("Retry-After") != nil : sync.status == 200)
        if sync.status == 200, let collection = SyncEndToEndTests.collection(sync) {
            #expect(collection.child(AS.status)?.text == "1")
            #expect(collection.child(AS.commands) == nil)
            key = try #require(collection.child(AS.syncKey)?.text)
        }
        #expect(ContinuousClock.now - started < .seconds(15))
        let newcomer = try await gateway.device(user: Stack["BETA_OTHER_USER"], password: Stack["BETA_OTHER_PASSWORD"])
            .send("FolderSync", EASRequests.folderSync(key: "0"))
        #expect(newcomer.status == 503)
        // The held Ping ends cleanly: a status, or 503 with Retry-After; never a 500 or a hang.
        let pinged = try await ping.value
        #expect(pinged.status == 200 || (pinged.status == 503 && pinged.http.header("Retry-After") != nil))

        // Dovecot comes back; nothing is restarted on the gateway's side.
        try dovecot.start()
        try await Self.waitForPort(port)
        try await Self.append(side, "after the outage")
        var resumed: (key: String, added: [String]) = (key, [])
        for _ in 0..<40 {
            let attempt = try await device.send("Sync", SyncEndToEndTests.syncRequest(key, collection: inbox, window: 100))
            if attempt.status == 503 {
                try await Task.sleep(for: .milliseconds(250))
                continue
            }
            let collection = try #require(SyncEndToEndTests.collection(attempt))
            #expect(collection.child(AS.status)?.text == "1")
            // This attempt may carry the new message already; the rest follows its key.
            let carried = (collection.child(AS.commands)?.children(AS.add) ?? []).compactMap { $0.child(AS.serverId)?.text }
            let rest = try await Self.drain(device, inbox, from: try #require(collection.child(AS.syncKey)?.text))
            resumed = (rest.key, carried + rest.added)
            if !resumed.added.isEmpty { break }
            key = rest.key
            try await Task.sleep(for: .milliseconds(250))
        }
        // The same sync state continues: only the new message, no Status 3, no repeat.
        #expect(resumed.added.count == 1)
        key = resumed.key
        held += resumed.added
        #expect(Set(held).count == 4)

        // Push works again: a Ping sees the next message.
        let nextPing = Task { try await pinger.send("Ping", EASRequests.ping(folders: [inbox], heartbeat: 60)) }
        try await Task.sleep(for: .milliseconds(500))
        try await Self.append(side, "pushed after the outage")
        let pushed = try await nextPing.value
        #expect(pushed.element?.child(EASTag.Ping.status)?.text == "2")
        #expect(try await Self.drain(device, inbox, from: key).added.count == 1)
    }

    /// A PostgreSQL cluster of this test's own on a free port (trust authentication, loopback).
    static func privatePostgres() async throws -> (url: String, control: String, data: String, directory: String) {
        let port = try await MultiNodeTests.freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-pg-outage-\(UUID().uuidString)").path
        let output = try await Stack.python("""
            import glob, os, pwd, subprocess, sys
            directory, port = sys.argv[1], sys.argv[2]
            bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
            if not bins:
                sys.exit("no PostgreSQL binaries")
            bin = bins[-1]
            postgres = pwd.getpwnam("postgres")
            os.makedirs(directory, exist_ok=True)
            os.chmod(directory, 0o755)
            os.chown(directory, postgres.pw_uid, postgres.pw_gid)
            data = directory + "/data"
            subprocess.run(["runuser", "-u", "postgres", "--", bin + "/initdb", "-D", data, "-U", "postgres", "--auth=trust",
                            "-E", "UTF8", "--no-locale"], check=True, capture_output=True, cwd="/")
            with open(data + "/postgresql.conf", "a") as conf:
                conf.write("listen_addresses = '127.0.0.1'\\nport = %s\\nunix_socket_directories = '%s'\\nfsync = off\\n" % (port, directory))
            print(bin + "/pg_ctl", data, sep="|")
            """, [directory, String(port)])
        let parts = output.split(separator: "|").map { String($0) }
        guard parts.count == 2 else { throw EASClientError("no private PostgreSQL: \(output)") }
        return ("postgres://postgres@127.0.0.1:\(port)/postgres", parts[0], parts[1], directory)
    }

    /// `pg_ctl start|stop` as the postgres user.
    static func pgControl(_ control: String, _ data: String, _ action: String) async throws {
        try await Stack.python("""
            import subprocess, sys
            control, data, action = sys.argv[1], sys.argv[2], sys.argv[3]
            command = ["runuser", "-u", "postgres", "--", control, "-D", data, "-w", "-l", data + "/../postgres.log"]
            command += ["start"] if action == "start" else ["-m", "immediate", "stop"]
            subprocess.run(command, check=True, capture_output=True, cwd="/", stdin=subprocess.DEVNULL)
            """, [control, data, action])
    }

    @Test func whilePostgreSQLIsDownRequestsGet503AndServiceResumesByItself() async throws {
        guard Stack.available(), FileManager.default.fileExists(atPath: "/usr/sbin/runuser") else { return }
        let (url, control, data, directory) = try await Self.privatePostgres()
        try await Self.pgControl(control, data, "start")
        defer {
            // Whatever happened above, the cluster does not outlive the test.
            let stop = Process()
            stop.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            stop.arguments = ["-u", "postgres", "--", control, "-D", data, "-m", "immediate", "stop"]
            stop.currentDirectoryURL = URL(fileURLWithPath: "/")
            stop.standardOutput = FileHandle.nullDevice
            stop.standardError = FileHandle.nullDevice
            try? stop.run()
            stop.waitUntilExit()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let gateway = try await RunningGateway.start { $0.store = .postgres(url: url) }
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device(version: .v14_1)
        try await device.provision()
        let (folderId, _, _) = try await SyncEndToEndTests.prepare(&device, log: log, count: 5)
        let first = try await device.send("Sync", SyncEndToEndTests.syncRequest("0", collection: folderId))
        let (key, held) = try await Self.drain(device, folderId, from: try #require(SyncEndToEndTests.collection(first)?.child(AS.syncKey)?.text))
        #expect(held.count == 5)

        // PostgreSQL stops as if it crashed (immediate shutdown).
        try await Self.pgControl(control, data, "stop")
        for request in [("Sync", SyncEndToEndTests.syncRequest(key, collection: folderId, window: 100)),
                        ("FolderSync", EASRequests.folderSync(key: "0")),
                        ("Ping", EASRequests.ping(folders: [folderId], heartbeat: 60))] {
            let started = ContinuousClock.now
            let answer = try await device.send(request.0, request.1)
            #expect(answer.status == 503, "\(request.0)")
            #expect(Int(answer.http.header("Retry-After") ?? "") ?? 0 > 0, "\(request.0)")
            // Bounded by the store's connect timeout (5 s), not hanging.
            #expect(ContinuousClock.now - started < .seconds(20), "\(request.0)")
        }
        // /readyz says so.
        let ready = try await device.exchange.send(method: .GET, path: "/readyz", headers: [], body: [])
        let readiness = String(decoding: ready.body, as: UTF8.self)
        #expect(ready.status == 503 && readiness.contains("state store:") && !readiness.contains("state store: ok"), "\(readiness)")

        // Back: the same SyncKey continues with nothing repeated.
        try await Self.pgControl(control, data, "start")
        var resumed: (key: String, added: [String])?
        for _ in 0..<80 {
            let attempt = try await device.send("Sync", SyncEndToEndTests.syncRequest(key, collection: folderId, window: 100))
            if attempt.status == 503 {
                try await Task.sleep(for: .milliseconds(250))
                continue
            }
            #expect(attempt.status == 200)
            #expect(SyncEndToEndTests.collection(attempt)?.child(AS.status)?.text ?? "1" == "1")
            resumed = (key, (SyncEndToEndTests.collection(attempt)?.child(AS.commands)?.children(AS.add) ?? [])
                .compactMap { $0.child(AS.serverId)?.text })
            break
        }
        #expect(resumed?.added == [])
        #expect(try await device.send("FolderSync", EASRequests.folderSync(key: "0")).status == 200)
    }
}
