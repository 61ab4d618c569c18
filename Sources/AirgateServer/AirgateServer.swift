import EASProtocol
import Gateway
import GatewayHTTP
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOSSL
import Prometheus
import Logging
import MailUpstream
import MailUpstreamEtPan
import SyncState
import SyncStatePostgres
import SyncStateSQL
import SyncStateSQLite

/// Everything `airgate serve` needs to know.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The mail servers: per domain, and the fallback for other logins.
    public var routes: MailRoutes
    public var store: Store
    public var gateway: GatewayConfiguration
    public var http: GatewayHTTPConfiguration
    public var imapThreads: Int
    public var imapLimits: IMAPPoolLimits
    /// Failed-login, request-rate and concurrency limits.
    public var limits = ThrottleLimits()
    /// PEM certificate chain and private key: serve HTTPS (TLS 1.2 and later) instead of HTTP.
    public var tls: (certificateFile: String, keyFile: String)?
    /// How often the certificate files are looked at for a renewal; nil: only on SIGHUP.
    public var tlsReloadInterval: Duration? = .seconds(60)
    /// A connection without a request in progress that sends nothing for this long is closed:
    /// keep-alive connections left open, and clients that stall mid-header or mid-body
    /// (slow-loris). Held Pings are not affected (their request was read in full).
    public var idleTimeout: Duration = .seconds(60)
    /// Request bodies must average at least this many bytes per second once `uploadGrace` has
    /// passed, or the connection is closed (slow-loris uploads); 0: no minimum.
    public var minimumUploadRate = 1024
    /// How long a request body may take before `minimumUploadRate` applies.
    public var uploadGrace: Duration = .seconds(30)

    public enum Store: Sendable {
        case sqlite(path: String)
        case postgres(url: String)
        case memory
    }

    public init(host: String = "127.0.0.1", port: Int = 8080, routes: MailRoutes, store: Store,
                gateway: GatewayConfiguration = GatewayConfiguration(), http: GatewayHTTPConfiguration = GatewayHTTPConfiguration(),
                imapThreads: Int = 16, imapLimits: IMAPPoolLimits = IMAPPoolLimits()) {
        self.host = host
        self.port = port
        self.routes = routes
        self.store = store
        self.gateway = gateway
        self.http = http
        self.imapThreads = imapThreads
        self.imapLimits = imapLimits
    }

    /// One IMAP server (and its SMTP and ManageSieve) for every login.
    public init(host: String = "127.0.0.1", port: Int = 8080, imap: ServerEndpoint, smtp: ServerEndpoint? = nil,
                sieve: ServerEndpoint? = nil, store: Store,
                gateway: GatewayConfiguration = GatewayConfiguration(), http: GatewayHTTPConfiguration = GatewayHTTPConfiguration(),
                defaultDomain: String? = nil, imapThreads: Int = 16, imapLimits: IMAPPoolLimits = IMAPPoolLimits()) {
        var gateway = gateway
        gateway.defaultDomain = gateway.defaultDomain ?? defaultDomain?.lowercased()
        self.init(host: host, port: port,
                  routes: MailRoutes(fallback: MailRoute(imap: imap, smtp: smtp, sieve: sieve), defaultDomain: defaultDomain),
                  store: store, gateway: gateway, http: http, imapThreads: imapThreads, imapLimits: imapLimits)
    }
}

/// Assembles the gateway from its parts and runs it.
public enum AirgateServer {
    /// Runs until cancelled. `onListening` is called with the bound port.
    public static func run(_ configuration: ServerConfiguration, logger: Logger = Logger(label: "airgate"),
                           onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let adapter = IMAPAdapter(threads: configuration.imapThreads, limits: configuration.imapLimits, logger: logger)
        let notifier = InProcessChangeNotifier()
        // A registry per server, not the process-wide MetricsSystem: tests run several servers
        // in one process, and a library should not take the global bootstrap from its host.
        let registry = PrometheusCollectorRegistry()
        let metrics = GatewayMetrics(factory: PrometheusMetricsFactory(registry: registry))
        let timing: @Sendable (String, Duration) -> Void = { kind, duration in metrics.storeOperation(kind, duration) }
        switch configuration.store {
        case .memory:
            try await serve(configuration, store: InMemoryStateStore(notifier: notifier), notifier: notifier, adapter: adapter,
                            registry: registry, metrics: metrics, logger: logger, onListening: onListening)
        case .sqlite(let path):
            let store = try await SQLiteStateStore.open(path: path, notifier: notifier, timing: timing)
            do {
                try await serve(configuration, store: store, notifier: notifier, adapter: adapter, registry: registry,
                                metrics: metrics, logger: logger, onListening: onListening)
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        case .postgres(let url):
            // The PostgreSQL store brings its own notifier, fed by NOTIFY from other nodes.
            let postgres = try PostgresStateStore(url: url, timing: timing)
            try await postgres.withRunning { store in
                try await serve(configuration, store: store, notifier: postgres.notifier, adapter: adapter, registry: registry,
                                metrics: metrics, logger: logger, onListening: onListening)
            }
        }
        try? await adapter.shutdown()
    }

    static func serve(_ configuration: ServerConfiguration, store: any StateStore, notifier: any ChangeNotifier,
                      adapter: IMAPAdapter, registry: PrometheusCollectorRegistry, metrics: GatewayMetrics, logger: Logger,
                      onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let imapConnections = registry.makeGauge(name: "airgate_imap_connections",
                                                 help: "IMAP connections open now, in use or idle in a pool")
        let gateway = Gateway(configuration: configuration.gateway, store: store, notifier: notifier, codec: EtPanMIMECodec(),
                              metrics: metrics, logger: logger)
        let authenticator = IMAPAccountAuthenticator(adapter: adapter, routes: configuration.routes)
        var http = configuration.http
        let (rate, grace) = (configuration.minimumUploadRate, TimeAmount(configuration.uploadGrace))
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: rate > 0 ? [UploadRateHandler(minimumRate: rate, grace: grace)] : [],
            idleTimeout: TimeAmount(configuration.idleTimeout))
        var server = HTTPServerBuilder.http1(configuration: http1)
        var certificateWatch: Task<Void, Never>?
        if let tls = configuration.tls {
            let certificates = try TLSCertificateReloader(certificateFile: tls.certificateFile, keyFile: tls.keyFile, logger: logger)
            server = HTTPServerBuilder { responder in
                ReloadingTLSChannel(base: HTTP1Channel(responder: responder, configuration: http1), certificates: certificates)
            }
            http.isTLS = true
            certificateWatch = Task { [interval = configuration.tlsReloadInterval] in await certificates.watch(every: interval) }
        }
        defer { certificateWatch?.cancel() }
        var readiness = [ReadinessCheck(name: "state store") { _ = try await store.username(of: AccountID(0)) }]
        if var imapProbe = configuration.routes.fallback?.imap {
            imapProbe.timeout = .seconds(5)
            readiness.insert(ReadinessCheck(name: "imap") { [imapProbe] in try await adapter.checkReachable(imapProbe) }, at: 0)
        }
        // One customer's mail server being down must not take the node out of a load balancer
        // for all the others: domains' servers are not readiness checks, but are named in the
        // log at start (and `airgate domains check` tests them).
        for domain in configuration.routes.domains {
            var probe = domain.route.imap
            probe.timeout = .seconds(5)
            Task {
                do {
                    try await adapter.checkReachable(probe)
                } catch {
                    logger.warning("a domain's IMAP server does not answer", metadata: [
                        "domain": "\(domain.name)", "imap": "\(probe.host):\(probe.port)", "error": "\(error)",
                    ])
                }
            }
        }
        let responder = GatewayResponder(gateway: gateway, authenticator: authenticator, configuration: http,
                                         readinessChecks: readiness, metricsText: {
                                             // Sampled when scraped.
                                             imapConnections.set(to: Double(await adapter.connectionsOpen()))
                                             return registry.emitToString()
                                         },
                                         throttle: Throttle(limits: configuration.limits), logger: logger)
        let app = Application(
            responder: responder,
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port),
                                                    serverName: configuration.http.serverName),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
        do {
            try await app.runService()
        } catch {
            await gateway.shutdown()
            throw error
        }
        await gateway.shutdown()
    }
}
