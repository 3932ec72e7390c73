import Foundation
import Metrics
import Postgres
import Prometheus

/// Every metric the services export, in one place: their names and labels, and the process's registry that
/// `/metrics` (on the health port, `HealthListener`) prints in Prometheus's text format. Code counts through the
/// swift-metrics API (so Hummingbird's own request metrics land in the same registry); the helpers below keep the
/// names and label sets consistent. Labels are bounded sets (queues, message types, channels, outcomes): never a
/// refund id, an order id or anything a buyer typed.
public enum StageMetrics {
    public static let registry = PrometheusCollectorRegistry()

    private static let bootstrapped: Void = {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000]
            .map { Duration.milliseconds($0) }
        factory.defaultValueHistogramBuckets = [1, 2, 5, 10, 20, 50, 100, 200]
        factory.nameAndLabelSanitizer = { name, labels in
            (httpNames[name] ?? name, labels.map { (httpLabels[$0.0] ?? $0.0, $0.1) })
        }
        MetricsSystem.bootstrap(factory)
    }()

    /// Hummingbird's request metrics (its `MetricsMiddleware`), under this platform's names.
    private static let httpNames = [
        "hb.requests": "refunds_http_requests_total",
        "http.server.request.duration": "refunds_http_request_duration_seconds",
        "hb.request.errors": "refunds_http_request_errors_total",
        "http.server.active_requests": "refunds_http_active_requests",
    ]
    private static let httpLabels = [
        "http.route": "route", "http.request.method": "method", "http.response.status_code": "status",
        "error.type": "status",
    ]

    /// Installs the Prometheus registry as the process's metrics backend (once; later calls do nothing).
    public static func bootstrap() { _ = bootstrapped }

    /// The text exposition of everything counted so far.
    static func exposition() -> [UInt8] { registry.emitToBuffer() }

    // MARK: - The stage runtime

    /// A message a stage's consumer finished with: `handled`, `duplicate` or `dead_lettered`.
    static func message(queue: String, type: String, outcome: String) {
        Counter(label: "refunds_messages_total", dimensions: [("queue", queue), ("type", type), ("outcome", outcome)])
            .increment()
    }

    /// A dead letter, by why: `forged`, `too_large`, `undecodable`, `handler` (its handler refused it for good),
    /// `delivery_limit` (it crashed or stalled its consumer).
    static func deadLetter(queue: String, reason: String) {
        Counter(label: "refunds_dead_letters_total", dimensions: [("queue", queue), ("reason", reason)]).increment()
    }

    /// A window's transaction from its first statement to its commit, and how many deliveries it held.
    static func window(queue: String, nanoseconds: UInt64, size: Int) {
        Timer(label: "refunds_window_seconds", dimensions: [("queue", queue)]).recordNanoseconds(Int64(nanoseconds))
        Recorder(label: "refunds_window_messages", dimensions: [("queue", queue)]).record(size)
    }

    /// One handler run (inside its window's transaction; counted once the window committed).
    static func handler(type: String, nanoseconds: UInt64) {
        Timer(label: "refunds_handler_seconds", dimensions: [("type", type)]).recordNanoseconds(Int64(nanoseconds))
    }

    /// What the sampler reads from a service's schema every few seconds (`RuntimeSQL.sample`).
    static func sampled(schema: String, _ row: PostgresRow) throws {
        func gauge(_ name: String, _ value: Double) {
            Gauge(label: name, dimensions: [("schema", schema)]).record(value)
        }
        gauge("refunds_outbox_depth", Double(try row.int64("outbox_depth")))
        gauge("refunds_outbox_oldest_age_seconds", Double(try row.int64("outbox_age_ms")) / 1000)
        gauge("refunds_timer_lag_seconds", Double(try row.int64("timer_lag_ms")) / 1000)
        gauge("refunds_timers_parked", Double(try row.int64("timers_parked")))
        gauge("refunds_dead_letters_held", Double(try row.int64("dead_letters_held")))
    }

    // MARK: - The services' own

    /// A payment channel's answer to a refund or query call: `accepted`, `processing`, `refused`, `unknown`…
    public static func channelCall(channel: String, outcome: String, seconds: Double) {
        Counter(label: "refunds_channel_calls_total", dimensions: [("channel", channel), ("outcome", outcome)])
            .increment()
        Timer(label: "refunds_channel_call_seconds", dimensions: [("channel", channel)])
            .recordNanoseconds(Int64(seconds * 1_000_000_000))
    }

    /// A notification handed to its gateway (`sent`), to be tried again (`retry`) or given up (`failed`).
    public static func notification(medium: String, outcome: String) {
        Counter(label: "refunds_notifications_total", dimensions: [("medium", medium), ("outcome", outcome)])
            .increment()
    }

    /// Money that may have moved where it should not (payout: `possible_double_payment`).
    public static func incident(kind: String) {
        Counter(label: "refunds_incidents_total", dimensions: [("kind", kind)]).increment()
    }

    /// A product or supplier whose refund rate rose abnormally (intake's `RefundRates`).
    public static func rateFlagged(dimension: String) {
        Counter(label: "refunds_rate_flags_total", dimensions: [("dimension", dimension)]).increment()
    }

    /// A refund raised as stuck (intake's sweep), by the step it was stuck in.
    public static func stuckRaised(step: String) {
        Counter(label: "refunds_stuck_raised_total", dimensions: [("step", step)]).increment()
    }
}

/// Reads the runtime's tables every `METRICS_SAMPLE_SECONDS` into gauges: the outbox's depth and oldest age (a relay
/// that cannot publish shows here first), how late the oldest due timer is, parked timers, held dead letters.
struct MetricsSampler: BackgroundWork {
    let name = "metrics-sampler"
    let everySeconds: Double
    let sql: RuntimeSQL

    func run(_ context: WorkContext) {
        context.everyRound(seconds: everySeconds, what: "metrics sample") { db in
            if let row = try db.query(sql.sample).first { try StageMetrics.sampled(schema: sql.schema, row) }
        }
    }
}
