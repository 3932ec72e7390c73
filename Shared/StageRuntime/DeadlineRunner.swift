import Foundation
import Logging
import Postgres

/// Fires due rows of the service's `deadlines` table. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so several
/// instances share the work without firing a timer twice; a fired row is deleted in the transaction that handled
/// it (the handler may schedule it again).
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
        return try db.transaction { db in
            let rows = try db.query(sql.claimDeadlines, [100])
            let tx = StageTransaction(db: db, sql: sql)
            for row in rows {
                let d = Deadline(kind: try row.string("kind"), key: try row.string("key"), dueAt: try row.date("due_at"),
                                 payload: try row.string("payload"))
                try db.query("DELETE FROM \(sql.schema).deadlines WHERE id = $1::bigint", [try row.int64("id")])
                do {
                    try db.savepoint { _ in try definition.handler.fire(d, in: tx) }
                } catch {
                    if StageError.isTransient(error) { throw error }
                    // A timer whose handler fails for good is dropped with a loud log rather than fired forever.
                    logger.error("deadline handler failed; timer dropped",
                                 metadata: ["deadline.kind": "\(d.kind)", "deadline.key": "\(d.key)",
                                            "error": "\(error)"])
                }
            }
            if tx.outboxCount > 0 { try db.notify(sql.notifyChannel) }
            return rows.count
        }
    }
}
