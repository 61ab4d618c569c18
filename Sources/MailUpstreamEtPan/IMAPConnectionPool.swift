internal import CEtPan
import Logging
import MailUpstream
import NIOPosix

/// Limits of the IMAP connection pools.
public struct IMAPPoolLimits: Sendable, Hashable {
    /// Connections one account may hold at once (Dovecot's `mail_max_userip_connections`
    /// defaults to 10 per user and address; stay well below).
    public var perAccount: Int
    /// Connections all accounts together may hold.
    public var global: Int
    /// An unused connection is logged out after this long.
    public var idleTimeout: Duration
    /// An unused connection older than this is checked with NOOP before it is lent again.
    public var healthCheckAfter: Duration
    /// The longest wait before trying a server that failed again; the wait doubles from one
    /// second up to this.
    public var maxBackoff: Duration

    public init(perAccount: Int = 4, global: Int = 2000, idleTimeout: Duration = .seconds(300),
                healthCheckAfter: Duration = .seconds(30), maxBackoff: Duration = .seconds(30)) {
        self.perAccount = max(1, perAccount)
        self.global = max(1, global)
        self.idleTimeout = idleTimeout
        self.healthCheckAfter = healthCheckAfter
        self.maxBackoff = maxBackoff
    }
}

/// What all pools share: the threads libetpan's blocking calls run on and the global budget.
public final class IMAPAdapter: Sendable {
    let threads: NIOThreadPool
    let budget: ConnectionBudget
    let monitor = ReadinessMonitor()
    public let limits: IMAPPoolLimits
    let logger: Logger

    /// Starts `threads` threads for blocking IMAP and SMTP calls. Each call in flight holds one;
    /// connections waiting in a pool hold none.
    public init(threads: Int = 16, limits: IMAPPoolLimits = IMAPPoolLimits(), logger: Logger = Logger(label: "airgate.imap")) {
        self.threads = NIOThreadPool(numberOfThreads: max(1, threads))
        self.threads.start()
        self.budget = ConnectionBudget(limit: limits.global)
        self.limits = limits
        self.logger = logger
    }

    /// IMAP connections open now (in use or idle in a pool), against `limits.global`.
    public func connectionsOpen() async -> Int {
        await budget.used
    }

    /// A pool of connections for one account.
    public func pool(endpoint: ServerEndpoint, credentials: IMAPCredentials, options: IMAPOptions = IMAPOptions())
        -> IMAPConnectionPool
    {
        IMAPConnectionPool(adapter: self, endpoint: endpoint, credentials: credentials, options: options)
    }

    /// An IDLE watcher for one account, on a connection of its own.
    public func watcher(endpoint: ServerEndpoint, credentials: IMAPCredentials, options: IMAPOptions = IMAPOptions())
        -> IMAPMailboxWatcher
    {
        IMAPMailboxWatcher(adapter: self, endpoint: endpoint, credentials: credentials, options: options)
    }

    /// Runs a blocking call on the adapter's threads.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await threads.runIfActive(body)
        } catch let error as UpstreamError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw UpstreamError(.unavailable, "the IMAP adapter is shutting down (\(error))")
        }
    }

    /// Runs a blocking call on the adapter's threads even if the calling task is cancelled
    /// meanwhile: for the steps that put a connection back into a known state (IDLE's DONE).
    func runToCompletion<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            threads.submit { state in
                guard case .active = state else {
                    continuation.resume(throwing: UpstreamError(.unavailable, "the IMAP adapter is shutting down"))
                    return
                }
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Stops the threads; pools must be drained first.
    public func shutdown() async throws {
        monitor.shutdown()
        try await threads.shutdownGracefully()
    }
}

/// The number of upstream connections all accounts hold together.
actor ConnectionBudget {
    let limit: Int
    private(set) var used = 0

    init(limit: Int) { self.limit = limit }

    func take() -> Bool {
        guard used < limit else { return false }
        used += 1
        return true
    }

    func give() { used = max(0, used - 1) }
}

/// One account's IMAP connections: lent to one task at a time, reused, checked, retired when
/// idle, and not retried against a failing server faster than the back-off allows.
public actor IMAPConnectionPool {
    private let adapter: IMAPAdapter
    let endpoint: ServerEndpoint
    private let credentials: IMAPCredentials
    private let options: IMAPOptions
    private var idle: [(connection: IMAPConnection, since: ContinuousClock.Instant)] = []
    private var open = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var consecutiveFailures = 0
    private var retryAt: ContinuousClock.Instant?
    private var slowModeLogged = false
    private var closed = false

    init(adapter: IMAPAdapter, endpoint: ServerEndpoint, credentials: IMAPCredentials, options: IMAPOptions) {
        self.adapter = adapter
        self.endpoint = endpoint
        self.credentials = credentials
        self.options = options
    }

    /// Connections open now (lent and idle).
    public var openConnections: Int { open }

    /// Lends a connection to `body` on an adapter thread. If a reused connection turns out to
    /// be dead and `idempotent` is true, `body` runs once more on a new connection.
    nonisolated func withConnection<T: Sendable>(idempotent: Bool = true,
                                                 _ body: @escaping @Sendable (IMAPConnection) throws -> T) async throws -> T
    {
        var attempts = 0
        while true {
            attempts += 1
            let (connection, reused) = try await acquire()
            do {
                let result = try await adapter.run { try body(connection) }
                await release(connection)
                return result
            } catch let error as UpstreamError {
                await release(connection)
                if error.code == .unavailable, connection.broken, reused, idempotent, attempts == 1 { continue }
                throw error
            } catch {
                await release(connection)
                throw error
            }
        }
    }

    private func acquire() async throws -> (IMAPConnection, reused: Bool) {
        while true {
            guard !closed else { throw UpstreamError(.unavailable, "the IMAP pool is closed") }
            retireIdle()
            if let entry = idle.popLast() {
                if ContinuousClock.now - entry.since > adapter.limits.healthCheckAfter {
                    let connection = entry.connection
                    let alive = (try? await adapter.run { connection.isAlive() }) ?? false
                    if !alive {
                        discard(connection)
                        continue
                    }
                }
                return (entry.connection, true)
            }
            if open < adapter.limits.perAccount {
                if let retryAt, retryAt > .now {
                    throw UpstreamError(.unavailable, "IMAP \(endpoint.host):\(endpoint.port) failed recently",
                                        retryAfter: retryAt - .now)
                }
                guard await adapter.budget.take() else {
                    throw UpstreamError(.unavailable, "the gateway's upstream connection limit is reached",
                                        retryAfter: .seconds(5))
                }
                open += 1
                let endpoint = endpoint
                let credentials = credentials
                let options = options
                do {
                    let connection = try await adapter.run { try IMAPConnection.open(endpoint, credentials, options: options) }
                    consecutiveFailures = 0
                    retryAt = nil
                    noteSlowMode(connection)
                    return (connection, false)
                } catch {
                    open -= 1
                    await adapter.budget.give()
                    wakeOne()
                    throw noteFailure(error)
                }
            }
            await withCheckedContinuation { waiters.append($0) }
        }
    }

    private func release(_ connection: IMAPConnection) {
        if connection.broken || closed {
            discard(connection)
        } else {
            idle.append((connection, .now))
        }
        wakeOne()
    }

    private func discard(_ connection: IMAPConnection) {
        open -= 1
        let budget = adapter.budget
        let threads = adapter.threads
        // LOGOUT blocks; nobody waits for it.
        threads.submit { _ in connection.close() }
        Task { await budget.give() }
        wakeOne()
    }

    private func wakeOne() {
        if !waiters.isEmpty { waiters.removeFirst().resume() }
    }

    private func retireIdle() {
        let now = ContinuousClock.now
        let expired = idle.filter { now - $0.since > adapter.limits.idleTimeout }
        guard !expired.isEmpty else { return }
        idle.removeAll { now - $0.since > adapter.limits.idleTimeout }
        for entry in expired { discard(entry.connection) }
    }

    private func noteFailure(_ error: any Error) -> any Error {
        guard let upstream = error as? UpstreamError, upstream.code == .unavailable || upstream.code == .tlsFailed else {
            return error
        }
        consecutiveFailures += 1
        let seconds = min(Double(1 << min(consecutiveFailures - 1, 16)), Double(adapter.limits.maxBackoff.components.seconds))
        let wait = Duration.milliseconds(Int64(seconds * 1000))
        retryAt = .now + wait
        adapter.logger.warning("IMAP upstream failing", metadata: [
            "upstream": "\(endpoint.host):\(endpoint.port)", "error": "\(upstream)", "retry_in_s": "\(seconds)",
        ])
        var withRetry = upstream
        withRetry.retryAfter = wait
        return withRetry
    }

    private func noteSlowMode(_ connection: IMAPConnection) {
        guard !slowModeLogged, !connection.qresyncEnabled else { return }
        slowModeLogged = true
        adapter.logger.notice("IMAP server lacks QRESYNC: changes are found by comparing UIDs and flags (slower)", metadata: [
            "upstream": "\(endpoint.host):\(endpoint.port)",
        ])
    }

    /// Logs out every idle connection; lent ones are closed when returned.
    public func close() {
        closed = true
        for entry in idle { discard(entry.connection) }
        idle.removeAll()
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }
}

extension IMAPAdapter {
    /// Whether an IMAP server answers at all: connects (with TLS for implicit-TLS endpoints)
    /// and reads the greeting, without logging in. For readiness checks; throws
    /// `UpstreamError(.unavailable)` when the server cannot be reached or does not greet.
    public func checkReachable(_ endpoint: ServerEndpoint) async throws {
        try await run {
            let stream = try IMAPConnection.openStream(endpoint, implicitTLS: endpoint.security == .implicitTLS, service: "IMAP")
            defer { mailstream_close(stream) }
            let line = mmap_string_new("")
            defer { mmap_string_free(line) }
            guard let read = mailstream_read_line_remove_eol(stream, line), let greeting = string(read),
                  greeting.hasPrefix("* OK") || greeting.hasPrefix("* PREAUTH")
            else { throw UpstreamError(.unavailable, "IMAP \(endpoint.host):\(endpoint.port) did not greet") }
        }
    }
}
