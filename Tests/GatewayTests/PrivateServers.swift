import AirgateTestSupport
import EASClient
import Foundation
import MailUpstreamEtPan
import Testing

/// Mail and database servers a test starts, stops and restarts on its own (the stack's are
/// shared by every suite running in parallel): a Dovecot made from the stack's second
/// instance's configuration, and a PostgreSQL cluster.
enum PrivateServers {
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
        func stop() async {
            guard let process, process.isRunning else { return }
            process.terminate()
            // Polled: Foundation's waitUntilExit spins a core on Linux.
            for _ in 0..<200 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        }

        /// SIGTERM without waiting (for `defer`).
        func terminate() {
            if let process, process.isRunning { process.terminate() }
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
            # Up to 30 s: on a loaded machine the last session processes take a while to go.
            for _ in range(600):
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
    /// name, state, log, mail directory and IMAP port, IMAP only. With `seed`, the Inbox of
    /// `BETA_USER` starts with that many unread messages, written straight into the Maildir
    /// (subjects `fault-00000 …`, every tenth with a small attachment).
    static func dovecot(seed: Int = 0) async throws -> (server: ChildServer, port: Int, directory: String) {
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
            # One login process per connection, as Dovecot defaults to: long-lived ones keep
            # proxying open TLS connections for a while after the master stopped, and an
            # outage must take the whole server away.
            text = re.sub(r"(?m)^\\s*(service_count = 0|process_min_avail = 2|client_limit = 2000)\\s*$", "", text)
            text = re.sub(r"home=\\S+", "home=" + directory + "/mail/%n", text)
            text = re.sub(r"(?m)^(\\s*port = )" + imap_port + "$", r"\\g<1>" + port, text)
            text = re.sub(r"(?m)^(\\s*port = )(?!" + port + "$)\\d+$", r"\\g<1>0", text)
            text = re.sub(r"(?ms)^service auth \\{.*?^\\}", "", text)
            open(directory + "/dovecot.conf", "w").write(text)
            seed, user = int(sys.argv[5]), sys.argv[6]
            if seed:
                maildir = directory + "/mail/" + user + "/Maildir"
                for sub in ("cur", "new", "tmp"):
                    os.makedirs(maildir + "/" + sub, exist_ok=True)
                for n in range(seed):
                    body = "From: Sender %d <sender%d@example.net>\\r\\nTo: %s@beta.test\\r\\nSubject: fault-%05d end\\r\\n" % (n, n, user, n)
                    body += "Date: Mon, 23 Nov 2026 10:00:00 +0000\\r\\nMessage-ID: <fault-%d@example.net>\\r\\nMIME-Version: 1.0\\r\\n" % n
                    if n % 10 == 0:
                        body += ('Content-Type: multipart/mixed; boundary="b"\\r\\n\\r\\n--b\\r\\nContent-Type: text/plain\\r\\n\\r\\n'
                                 "message %d\\r\\n--b\\r\\nContent-Type: application/octet-stream; name=a.bin\\r\\n"
                                 "Content-Transfer-Encoding: base64\\r\\n\\r\\nAAECAwQFBgcICQ==\\r\\n--b--\\r\\n" % n)
                    else:
                        body += "Content-Type: text/plain; charset=utf-8\\r\\n\\r\\nmessage %d, grüße\\r\\n" % n
                    open("%s/cur/1700000000.%d.airgate:2," % (maildir, n), "w").write(body)
                for root, dirs, files in os.walk(directory + "/mail"):
                    for name in dirs + files:
                        os.chown(os.path.join(root, name), uid, gid)
            print(directory + "/dovecot.conf")
            """, [Stack["BETA_DOVECOT_CONFIG"], directory, String(port), Stack["BETA_IMAP_PORT"], String(seed), Stack["BETA_USER"]])
        let server = ChildServer(["/usr/sbin/dovecot", "-F", "-c", config])
        try server.start()
        try await waitForPort(port)
        return (server, port, directory)
    }

    static func endpoint(port: Int, timeout: Duration = .seconds(5)) -> ServerEndpoint {
        ServerEndpoint(host: "127.0.0.1", port: port, security: .startTLS, caFile: Stack["TLS_CA_FILE"], serverName: "localhost",
                       timeout: timeout)
    }

    /// A PostgreSQL cluster of this test's own on a free port (trust authentication, loopback).
    static func postgres() async throws -> (url: String, control: String, data: String, directory: String) {
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


    /// Stops the cluster at once, without waiting on Swift concurrency (for `defer`).
    static func pgStop(_ control: String, _ data: String) {
        let stop = Process()
        stop.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        stop.arguments = ["-u", "postgres", "--", control, "-D", data, "-m", "immediate", "stop"]
        stop.currentDirectoryURL = URL(fileURLWithPath: "/")
        stop.standardOutput = FileHandle.nullDevice
        stop.standardError = FileHandle.nullDevice
        try? stop.run()
        for _ in 0..<200 where stop.isRunning { usleep(50_000) }
    }
}
