import CancellableSleep
internal import CEtPan
internal import CEtPanStream
import MailUpstream

extension IMAPConnection {
    /// Selects `mailbox` read-only and enters IDLE ([RFC 2177]). Returns the descriptor to
    /// wait on, and whether the server has already said something (bytes buffered).
    func startIdle(in mailbox: String) throws -> (fd: Int32, alreadyReadable: Bool) {
        guard capabilities.contains("IDLE") else { throw UpstreamError(.refused, "the server has no IDLE") }
        try select(mailbox, forWriting: false)
        try check(mailimap_idle(rawSession), "IDLE")
        let fd = mailimap_idle_get_fd(rawSession)
        guard fd >= 0 else { throw broke("IDLE: no descriptor") }
        let ready = airgate_stream_wait_readable(rawSession.pointee.imap_stream, 0)
        guard ready >= 0 else { throw broke("IDLE: connection lost") }
        return (fd, ready == 1)
    }

    /// Sends DONE and reads what the server reported meanwhile and the tagged answer.
    func endIdle() throws {
        try check(mailimap_idle_done(rawSession), "IDLE DONE")
    }
}

/// Waits for activity in a mailbox with IDLE on a connection of its own (it counts against
/// the global connection budget). The wait holds no thread: the descriptor is watched by the
/// adapter's readiness monitor.
public actor IMAPMailboxWatcher: MailboxWatcher {
    private let adapter: IMAPAdapter
    private let endpoint: ServerEndpoint
    private let credentials: IMAPCredentials
    private let options: IMAPOptions
    private var connection: IMAPConnection?
    private var busy = false
    private var stopRequested = false

    /// IDLE is ended and restarted at least this often ([RFC 2177] 3: servers may drop a
    /// client idle for 30 minutes).
    public static let longestWait: Duration = .seconds(25 * 60)

    init(adapter: IMAPAdapter, endpoint: ServerEndpoint, credentials: IMAPCredentials, options: IMAPOptions) {
        self.adapter = adapter
        self.endpoint = endpoint
        self.credentials = credentials
        self.options = options
    }

    public func waitForActivity(in mailbox: IMAPMailboxName, timeout: Duration,
                                whenListening: @Sendable () async -> Void) async throws -> MailboxActivity {
        guard !busy else { throw UpstreamError(.refused, "this watcher is already waiting") }
        busy = true
        defer { busy = false }
        defer {
            // A stop() that came during the wait: the connection goes once nothing uses it.
            if stopRequested {
                stopRequested = false
                if let connection {
                    self.connection = nil
                    let budget = adapter.budget
                    adapter.threads.submit { _ in connection.close() }
                    Task { await budget.give() }
                }
            }
        }
        try Task.checkCancellation()
        let connection = try await connected()
        do {
            let (fd, alreadyReadable) = try await adapter.run { try connection.startIdle(in: mailbox.wireName) }
            // What the server says meanwhile waits in the socket and is seen below.
            await whenListening()
            var readable = alreadyReadable
            if !readable {
                let monitor = adapter.monitor
                let wait = min(timeout, Self.longestWait)
                readable = await withTaskGroup(of: Bool.self) { group in
                    group.addTask { await monitor.waitReadable(fd) }
                    group.addTask {
                        await sleepUnlessCancelled(for: wait)
                        return false
                    }
                    let first = await group.next() ?? false
                    group.cancelAll()
                    return first
                }
            }
            // DONE even when cancelled: the connection stays usable for the next wait.
            try await adapter.runToCompletion { try connection.endIdle() }
            try Task.checkCancellation()
            return readable ? .activity : .timedOut
        } catch {
            if connection.broken || !(error is CancellationError) { await drop() }
            throw error
        }
    }

    /// Ends the connection. During a wait the connection is only cancelled here (making the
    /// waiting call fail fast) and closed by that call when it is done with it: libetpan's
    /// session must never be used by two threads.
    public func stop() async {
        if busy {
            stopRequested = true
            connection?.cancel()
            return
        }
        await drop()
    }

    private func connected() async throws -> IMAPConnection {
        if let connection, !connection.broken { return connection }
        guard await adapter.budget.take() else {
            throw UpstreamError(.unavailable, "the gateway's upstream connection limit is reached", retryAfter: .seconds(5))
        }
        let endpoint = endpoint
        let credentials = credentials
        let options = options
        do {
            let opened = try await adapter.run { try IMAPConnection.open(endpoint, credentials, options: options) }
            connection = opened
            return opened
        } catch {
            await adapter.budget.give()
            throw error
        }
    }

    private func drop() async {
        guard let connection else { return }
        self.connection = nil
        adapter.threads.submit { _ in connection.close() }
        await adapter.budget.give()
    }
}
