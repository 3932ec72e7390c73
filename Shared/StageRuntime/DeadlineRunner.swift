import Foundation
import Logging
import Postgres
import RefundModel

/// Fires due rows of the service's `deadlines` table. Rows are claimed (leased, their try counted) with
/// `FOR UPDATE SKIP LOCKED` in a short transaction of their own, so several instances share the work without firing
/// a timer twice; a fired row is deleted in the transaction that handled it (the handler may schedule it again); a
/// failing one is retried with a growing pause and parked after `TIMER_MAX_ATTEMPTS`, never dropped.
final class DeadlineRunner {
    let definition: StageDefinition
    let settings: StageSettings
    let sql: RuntimeSQL
    let stop: StopSignal
    let logger: Logger
    private var db: PostgresConnection?

    init(definition: StageDefinition, settings: StageSettings, sql: RuntimeSQL, stop: StopSignal, logger: Logger) {
        self.definition = definition
        self.settings = settings
        self.sql = sql
        self.stop = stop
        var l = logger
        l[metadataKey: "component"] = "deadlines"
        self.logger = l
    }

    func run() {
        while !stop.isStopped {
            if db == nil || !(db!.isHealthy) {
                db = Connections.postgres(settings.databaseURL, schema: sql.schema, name: "deadlines", stop: stop,
                                          logger: logger)
                guard db != nil else { break }
            }
            do {
                let fired = try fireDue()
                if fired == 0 { stop.sleep(millis: settings.deadlinePollMillis) }
            } catch {
                logger.warning("deadline cycle failed", metadata: ["error": "\(error)"])
                db?.close()
                db = nil
                stop.sleep(millis: settings.deadlinePollMillis)
            }
        }
        db?.close()
    }

    func fireDue() throws -> Int {
        guard let db else { return 0 }
        let claimed = try db.transaction { db in
            try db.query(sql.claimDeadlines, [100, String(settings.timerLeaseSeconds)])
        }
        if claimed.isEmpty { return 0 }
        try db.transaction { db in
            let tx = StageTransaction(db: db, sql: sql, logger: logger)
            for row in claimed {
                let id = try row.int64("id"), attempts = try row.int("attempts")
                let d = Deadline(kind: try row.string("kind"), key: try row.string("key"), dueAt: try row.date("due_at"),
                                 payload: try row.string("payload"))
                var log = logger
                log[metadataKey: "deadline.kind"] = "\(d.kind)"
                log[metadataKey: "deadline.key"] = "\(d.key)"
                tx.logger = log
                if attempts > settings.timerMaxAttempts {
                    // Claimed this often and never completed: its handler crashes the process. Parked, not fired.
                    try db.query(sql.retryDeadline, [id, "claimed \(attempts) times without completing (a crash?)",
                                                     settings.timerMaxAttempts])
                    log.error("timer parked: its handler never completed")
                    continue
                }
                do {
                    try tx.isolated { db in
                        // Done with it unless the handler sets it again; gone already if it was moved meanwhile.
                        guard try db.execute(sql.completeDeadline, [id, attempts]) == 1 else { return }
                        try definition.handler.fire(d, in: tx)
                    }
                } catch {
                    if StageError.isTransient(error) { throw error }
                    // Never dropped: retried with a growing pause, parked after `TIMER_MAX_ATTEMPTS` with its error.
                    try db.query(sql.retryDeadline, [id, PersonalData.mask(String(StageError.describe(error).prefix(500))),
                                                     settings.timerMaxAttempts])
                    log.log(level: attempts >= settings.timerMaxAttempts ? .error : .warning,
                            attempts >= settings.timerMaxAttempts ? "timer parked after failing" : "timer failed; retrying",
                            metadata: ["error": "\(error)", "attempts": "\(attempts)"])
                }
            }
            try tx.finish()
        }
        return claimed.count
    }
}
