import Foundation
import Logging
import Postgres

/// Erases what a service no longer needs, in small batches so no sweep holds locks for long: personal data of
/// finished refunds after `PERSONAL_DATA_RETENTION_SECONDS` (default 30 days), request records after their window,
/// every stage's inbox after `INBOX_RETENTION_SECONDS` (the runner adds that one).
/// Each statement takes the age in seconds as `$1` and affects at most one batch per execution; it is run until it
/// affects nothing, every `RETENTION_SWEEP_SECONDS` (default an hour).
public struct RetentionSweep: BackgroundWork {
    public struct Rule: Sendable {
        public let what: String
        public let olderThanSeconds: Double
        public let sql: String
        public init(what: String, olderThanSeconds: Double, sql: String) {
            self.what = what
            self.olderThanSeconds = olderThanSeconds
            self.sql = sql
        }
    }

    public let name: String
    public let rules: [Rule]
    public let everySeconds: Double

    public init(rules: [Rule], everySeconds: Double, name: String = "retention") {
        self.rules = rules
        self.everySeconds = everySeconds
        self.name = name
    }

    public func run(_ context: WorkContext) {
        context.everyRound(seconds: everySeconds, what: "retention sweep") { conn in
            for rule in rules {
                var total = 0
                while !context.stop.isStopped {
                    let n: Int
                    do { n = try conn.execute(rule.sql, [String(rule.olderThanSeconds)]) } catch {
                        throw SweepFailed(what: rule.what, error: error)
                    }
                    total += n
                    if n == 0 { break }
                    // A pause between batches: a long backlog is erased without crowding the stage's own work
                    // (and a sweep that kept finding rows could never spin a core).
                    _ = context.stop.sleep(millis: 20)
                }
                if total > 0 { context.logger.info("retention sweep", metadata: ["what": "\(rule.what)", "rows": "\(total)"]) }
            }
        }
    }

    /// Which rule failed, for the log.
    struct SweepFailed: Error, CustomStringConvertible {
        let what: String
        let error: Error
        var description: String { "\(what): \(error)" }
    }

    /// The two settings every service reads.
    public static func settings(_ env: SettingsSource) throws -> (personalDataSeconds: Double, everySeconds: Double) {
        (try env.seconds("PERSONAL_DATA_RETENTION_SECONDS", default: 30 * 86_400),
         try env.seconds("RETENTION_SWEEP_SECONDS", default: 3_600))
    }
}
