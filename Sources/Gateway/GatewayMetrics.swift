import CoreMetrics

/// What the gateway counts, through swift-metrics: `airgate serve` hands in a Prometheus
/// factory and serves the numbers at `/metrics`; without one nothing is recorded. Labels only
/// ever take values from small fixed sets (command names, statuses, configured domains), never
/// user input.
public struct GatewayMetrics: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
    }

    /// One answered request of a user of a configured domain (the domain's own name, never
    /// an alias: one series per domain).
    public func domainRequest(domain: String, status: Int) {
        Counter(label: "airgate_domain_requests_total", dimensions: [("domain", domain), ("status", String(status))], factory: factory)
            .increment()
    }

    /// One HTTP request: its EAS command (or `none`), HTTP status and time taken.
    public func request(command: String, status: Int, duration: Duration) {
        Counter(label: "airgate_requests_total", dimensions: [("command", command), ("status", String(status))], factory: factory)
            .increment()
        Timer(label: "airgate_request_duration_seconds", dimensions: [("command", command)], factory: factory)
            .recordNanoseconds(duration.nanoseconds)
    }

    /// Items (adds, changes, deletes) one Sync response carries, and its estimated bytes.
    func syncSent(items: Int, bytes: Int) {
        guard items > 0 else { return }
        Counter(label: "airgate_sync_items_total", factory: factory).increment(by: items)
        Counter(label: "airgate_sync_bytes_total", factory: factory).increment(by: bytes)
    }

    /// Pings held now.
    func pingHeld(_ delta: Int) {
        let meter = Meter(label: "airgate_pings_held", factory: factory)
        if delta > 0 { meter.increment(by: Double(delta)) } else { meter.decrement(by: Double(-delta)) }
    }

    /// Accounts whose tracker (IDLE and polling) runs on this node.
    func trackersRunning(_ delta: Int) {
        let meter = Meter(label: "airgate_trackers_running", factory: factory)
        if delta > 0 { meter.increment(by: Double(delta)) } else { meter.decrement(by: Double(-delta)) }
    }

    /// From a change entering the log to a held Ping answering it.
    func pushLatency(_ duration: Duration) {
        Timer(label: "airgate_push_latency_seconds", factory: factory).recordNanoseconds(duration.nanoseconds)
    }

    /// One state-store transaction or statement (`kind`), lock and connection waits included.
    public func storeOperation(_ kind: String, _ duration: Duration) {
        Timer(label: "airgate_store_seconds", dimensions: [("kind", kind)], factory: factory).recordNanoseconds(duration.nanoseconds)
    }

    /// A request refused by a throttle, by reason.
    public func throttled(_ reason: String) {
        Counter(label: "airgate_throttled_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    /// A push notification from the mail server, and whether this node acted on it.
    public func mailPush(handled: Bool) {
        Counter(label: "airgate_mail_push_total", dimensions: [("handled", handled ? "yes" : "no")], factory: factory).increment()
    }

    /// An upstream (IMAP, SMTP, store) failure that became a 503 or an error status.
    public func upstreamError(_ kind: String) {
        Counter(label: "airgate_upstream_errors_total", dimensions: [("kind", kind)], factory: factory).increment()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
