import Foundation
import Logging
import Postgres
import StageRuntime

/// Sends one medium's pending deliveries, on its own thread (`SENDERS_PER_MEDIUM` of them per medium), woken by a
/// new delivery's NOTIFY: a down or slow SMS gateway delays only SMS, and one slow answer only its own message. Each
/// delivery is claimed with `FOR UPDATE SKIP LOCKED` (several instances share the work without sending twice) and
/// its outcome committed with it; a failure waits with a doubling pause, a refusal is recorded and never retried.
struct Sender: BackgroundWork {
    let medium: Medium
    let gateway: Gateway
    let settings: NotificationSettings
    var index = 0
    var name: String { "\(medium.rawValue)-sender-\(index)" }

    func run(_ context: WorkContext) {
        var log = context.logger
        log[metadataKey: "medium"] = "\(medium.rawValue)"
        var db: PostgresConnection?
        while !context.stop.isStopped {
            do {
                if db == nil || !(db!.isHealthy) {
                    db = context.connect()
                    guard db != nil else { break }
                    try db!.listen(DeliveryRepository.wakeUp(medium))
                }
                // Idle: until a new delivery's NOTIFY, or the poll for retries that came due meanwhile.
                if try !sendOne(db!, log: log) { try waitForWork(db!, stop: context.stop) }
            } catch {
                log.warning("send cycle failed", metadata: ["error": "\(error)"])
                db?.close()
                db = nil
                context.stop.sleep(millis: settings.idlePollMillis)
            }
        }
        db?.close()
    }

    /// Returns on a new delivery's NOTIFY, after the poll interval, or soon after a stop (in slices of at most
    /// half a second, so a long poll never delays a shutdown).
    private func waitForWork(_ db: PostgresConnection, stop: StopSignal) throws {
        var left = settings.idlePollMillis
        while left > 0, !stop.isStopped {
            let slice = min(left, 500)
            if try !db.waitForNotifications(timeoutMillis: Int32(slice)).isEmpty { return }
            left -= slice
        }
    }

    /// Sends the next due delivery; false when none was due.
    private func sendOne(_ db: PostgresConnection, log: Logger) throws -> Bool {
        // The outcome is counted once its record is committed.
        let outcome: String? = try db.transaction { db in
            let repo = DeliveryRepository(db: db)
            guard let d = try repo.claimDue(medium) else { return nil }
            var log = log
            log[metadataKey: "refund.id"] = "\(d.refundId)"
            switch gateway.send(d) {
            case .sent:
                try repo.markSent(d)
                log.info("sent", metadata: ["to": "\(d.address)"])
                return "sent"
            case .refused(let why):
                try repo.refuse(d, reason: why)
                log.warning("address refused for good; not retried", metadata: ["to": "\(d.address)", "why": "\(why)"])
                return "refused"
            case .retry(let why) where d.attempts + 1 >= settings.maxAttempts:
                try repo.giveUp(d, error: why)
                log.error("gave up after \(d.attempts + 1) attempts", metadata: ["to": "\(d.address)", "why": "\(why)"])
                return "failed"
            case .retry(let why):
                let pause = min(settings.maxRetryMillis, settings.retryMillis << min(d.attempts, 16))
                try repo.retryLater(d, afterMillis: pause, error: why)
                log.warning("gateway failed; will retry", metadata: ["why": "\(why)", "retry.ms": "\(pause)"])
                return "retry"
            }
        }
        guard let outcome else { return false }
        StageMetrics.notification(medium: medium.rawValue, outcome: outcome)
        return true
    }
}
