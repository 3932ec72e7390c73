import AMQP
import Foundation

/// A setting that is missing or malformed. The service prints one line naming it and exits with status 2.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let setting: String
    public let problem: String
    public init(setting: String, problem: String) {
        self.setting = setting
        self.problem = problem
    }
    public var description: String { "\(setting): \(problem)" }
}

/// Reads settings from the environment. Every read names its variable, so an error can say which one is wrong.
public struct SettingsSource: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) { self.values = values }

    public func string(_ name: String, default value: String? = nil) throws -> String {
        if let v = values[name], !v.isEmpty { return v }
        if let value { return value }
        throw ConfigurationError(setting: name, problem: "is required and not set")
    }

    public func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw = values[name], !raw.isEmpty else { return value }
        guard let v = Int(raw), range.contains(v) else {
            throw ConfigurationError(setting: name, problem: "must be an integer in \(range), got \"\(raw)\"")
        }
        return v
    }

    /// A duration in seconds (fractions allowed, so a test can make 48 hours two seconds).
    public func seconds(_ name: String, default value: Double) throws -> Double {
        guard let raw = values[name], !raw.isEmpty else { return value }
        guard let v = Double(raw), v >= 0, v.isFinite else {
            throw ConfigurationError(setting: name, problem: "must be a non-negative number of seconds, got \"\(raw)\"")
        }
        return v
    }

    public func amqpURL(_ name: String = "AMQP_URL") throws -> AMQPURL {
        let raw = try string(name)
        do { return try AMQPURL(parsing: raw) } catch let e as AMQPError {
            throw ConfigurationError(setting: name, problem: "\(e.message) (expected amqp://user:pass@host:port/vhost)")
        }
    }

    public func postgresURL(_ name: String = "DATABASE_URL") throws -> String {
        let raw = try string(name)
        guard raw.hasPrefix("postgres://") || raw.hasPrefix("postgresql://"), raw.contains("@") else {
            throw ConfigurationError(setting: name, problem: "expected postgres://user:pass@host:port/database")
        }
        return raw
    }
}

/// The settings every stage shares. Each service adds its own on top.
public struct StageSettings: Sendable {
    public var amqpURL: AMQPURL
    public var databaseURL: String
    /// Unacked deliveries the broker may push ahead (per consumer).
    public var prefetch: Int
    /// Deliveries handled in one database transaction.
    public var batchSize: Int
    /// Under load (the last window held more than one delivery), how long a window waits for more deliveries
    /// before its transaction: one commit then serves many messages. Idle, a lone delivery is handled at once.
    public var windowLingerMillis: Int
    /// Outbox rows published per confirm round.
    public var relayBatchSize: Int
    /// Broker-side poison guard: deliveries before a message is dead-lettered.
    public var deliveryLimit: Int
    /// How often due deadlines are looked for.
    public var deadlinePollMillis: Int
    public var heartbeatSeconds: Int
    /// Where `/ready` and `/live` are served (`HealthListener`); no listener when the port is unset.
    public var healthHost: String
    public var healthPort: Int?
    /// Larger deliveries are dead-lettered before they are decoded.
    public var maxMessageBytes: Int
    /// Tries before a failing (or crashing) timer is parked for an operator.
    public var timerMaxAttempts: Int
    /// How long a claimed timer is held before another instance may take it (its handler died).
    public var timerLeaseSeconds: Double
    /// How long a handled message's id is kept to recognise it again. A message comes back only while unacked
    /// (seconds to minutes) or when a producer sends it again (its outbox after a crash; a marketplace's replay):
    /// 14 days by default, far beyond either.
    public var inboxRetentionSeconds: Double
    /// How often retention sweeps run (`RETENTION_SWEEP_SECONDS`, an hour by default).
    public var retentionSweepSeconds: Double
    /// How often the outbox, timer and dead-letter gauges of `/metrics` are read from the schema.
    public var metricsSampleSeconds: Double

    public init(_ env: SettingsSource) throws {
        amqpURL = try env.amqpURL()
        databaseURL = try env.postgresURL()
        prefetch = try env.int("PREFETCH", default: 200, range: 1...5000)
        batchSize = try env.int("BATCH_SIZE", default: 100, range: 1...1000)
        windowLingerMillis = try env.int("WINDOW_LINGER_MS", default: 5, range: 0...1000)
        relayBatchSize = try env.int("RELAY_BATCH_SIZE", default: 200, range: 1...5000)
        deliveryLimit = try env.int("DELIVERY_LIMIT", default: 5, range: 1...100)
        deadlinePollMillis = try env.int("DEADLINE_POLL_MS", default: 500, range: 10...60_000)
        heartbeatSeconds = try env.int("AMQP_HEARTBEAT_SECONDS", default: 30, range: 0...600)
        healthHost = try env.string("HEALTH_HOST", default: "127.0.0.1")
        healthPort = env.values["HEALTH_PORT"].flatMap { $0.isEmpty ? nil : $0 } == nil
            ? nil : try env.int("HEALTH_PORT", default: 0, range: 1...65_535)
        maxMessageBytes = try env.int("MAX_MESSAGE_BYTES", default: 262_144, range: 1_024...16_777_216)
        timerMaxAttempts = try env.int("TIMER_MAX_ATTEMPTS", default: 10, range: 1...1_000)
        timerLeaseSeconds = try env.seconds("TIMER_LEASE_SECONDS", default: 30)
        inboxRetentionSeconds = try env.seconds("INBOX_RETENTION_SECONDS", default: 14 * 86_400)
        retentionSweepSeconds = try RetentionSweep.settings(env).everySeconds
        metricsSampleSeconds = max(0.5, try env.seconds("METRICS_SAMPLE_SECONDS", default: 5))
    }
}

/// Runs `body`, and on a configuration error prints one line naming the setting and exits 2: no stack trace.
public func loadConfiguration<T>(service: String, _ body: () throws -> T) -> T {
    do {
        return try body()
    } catch {
        let line = "\(service): configuration error: \(error)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        exit(2)
    }
}
