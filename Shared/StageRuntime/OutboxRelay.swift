import AMQP
import Foundation
import Logging
import Postgres
import RefundModel

/// Publishes committed outbox rows with publisher confirms and `mandatory`, deleting each row only after the
/// broker's ack. Woken by `NOTIFY outbox_<schema>` (sent at commit by the stage), and every second regardless.
///
/// A crash anywhere re-sends, never loses: rows are deleted in the same transaction that claimed them, after the
/// confirms. So a consumer may see a message twice, and every consumer dedupes by message id (the inbox).
/// A returned (unroutable) or nacked row stays, with `last_error`, and is retried with a growing pause.
final class OutboxRelay {
    let settings: StageSettings
    let sql: RuntimeSQL
    let stop: StopSignal
    let logger: Logger
    let health: StageHealth
    private var lastAgeCheck = Date.distantPast
    /// Whether the broker nacked any publish of the last round (see `run`).
    private var nackedLastRound = false
    /// Rows still to publish one per round after the broker refused a round (see `refused`); 0: whole batches.
    private var singleRowsLeft = 0
    /// The row of the current one-row round.
    private var singleRowId: Int64?
    private var db: PostgresConnection?
    private var amqp: AMQPConnection?

    init(settings: StageSettings, sql: RuntimeSQL, stop: StopSignal, logger: Logger, health: StageHealth) {
        self.health = health
        self.settings = settings
        self.sql = sql
        self.stop = stop
        var l = logger
        l[metadataKey: "component"] = "outbox-relay"
        self.logger = l
    }

    /// Runs until stopped, then drains what is left (bounded) so a graceful shutdown leaves nothing unsent.
    func run(declare: @escaping (AMQPConnection) throws -> Void) {
        while !stop.isStopped {
            do {
                try ensureConnected(declare: declare)
                let published = try relayOnce()
                if nackedLastRound {
                    // Seen in the three-node cluster test: after the node a relay published to was killed, its next
                    // connection (opened within the same second) had every publish nacked for minutes, a stale view
                    // of a quorum queue's leader, we think. A fresh connection does not keep it; the nacked rows
                    // wait their pause and go again.
                    logger.warning("the broker nacked publishes: reopening the connection")
                    drop()
                    stop.sleep(millis: 500)
                    continue
                }
                if published < settings.relayBatchSize {
                    _ = try db!.waitForNotifications(timeoutMillis: 1000)
                    try amqp!.serviceHeartbeat()
                }
                try reportHealth()
            } catch {
                logger.warning("relay cycle failed, reconnecting", metadata: ["error": "\(error)"])
                health.relay(connected: false)
                drop()
                refused(error)
                stop.sleep(millis: 200)
            }
        }
        drain(declare: declare)
        drop()
    }

    private func drain(declare: @escaping (AMQPConnection) throws -> Void) {
        let deadline = Date().addingTimeInterval(10)
        let drainStop = StopSignal()
        while Date() < deadline {
            do {
                if db == nil || amqp == nil {
                    // Connect without honouring the (raised) stop flag, but give up at the deadline.
                    db = Connections.postgres(settings.databaseURL, schema: sql.schema, name: "relay", stop: drainStop,
                                              logger: logger)
                    amqp = try AMQPConnection(url: settings.amqpURL, heartbeatSeconds: 30)
                    try declare(amqp!)
                    try amqp!.enableConfirms()
                }
                let n = try relayOnce()
                if n == 0 { return }
            } catch {
                logger.warning("relay drain failed", metadata: ["error": "\(error)"])
                drop()
                if !StageError.isTransient(error) { break }
                usleep(200_000)
            }
        }
        logger.error("relay drain gave up; unsent rows stay in the outbox for the next start")
    }

    private func ensureConnected(declare: @escaping (AMQPConnection) throws -> Void) throws {
        if db == nil || !(db!.isHealthy) {
            health.relay(connected: false)
            guard let c = Connections.postgres(settings.databaseURL, schema: sql.schema, name: "relay", stop: stop,
                                               logger: logger) else { throw StageError.transient("stopping") }
            try c.listen(sql.notifyChannel)
            db = c
        }
        if amqp == nil || !(amqp!.isOpen) {
            health.relay(connected: false)
            guard let c = Connections.amqp(settings.amqpURL, heartbeat: settings.heartbeatSeconds, stop: stop,
                                           logger: logger, setup: { c in
                                               try declare(c)
                                               try c.enableConfirms()
                                           }) else { throw StageError.transient("stopping") }
            amqp = c
        }
    }

    /// Both connections worked this cycle; every few seconds also how old the oldest unsent row is.
    private func reportHealth() throws {
        health.relay(connected: true)
        guard let db, Date().timeIntervalSince(lastAgeCheck) > 5 else { return }
        lastAgeCheck = Date()
        health.outbox(oldestSeconds: Double(try db.query(sql.oldestOutbox).first?.int64("age") ?? 0))
    }

    private func drop() {
        db?.close()
        db = nil
        amqp?.abort()
        amqp = nil
    }

    /// A row the broker refuses outright (a routing key this service's login may not publish: a deployment whose
    /// permissions are older than its code) closes the channel and voids the whole round, every round, blocking
    /// every row behind it. So after such a refusal the relay publishes one row per round for a batch's worth of
    /// rows; a one-row round refused again marks that row failed, with the broker's reason and a growing pause
    /// (`failOutbox`), and the others go on.
    private func refused(_ error: Error) {
        guard let e = error as? AMQPError, e.code == .channelClosed, e.replyCode != nil else { return }
        if let id = singleRowId {
            do {
                guard let db = Connections.postgres(settings.databaseURL, schema: sql.schema, name: "relay",
                                                    stop: stop, logger: logger) else { return }
                defer { db.close() }
                try db.execute(sql.failOutbox, [id, String("refused: \(e)".prefix(500))])
                logger.error("outbox message refused by the broker; kept, retried later",
                             metadata: ["outbox.id": "\(id)", "error": "\(e)"])
            } catch {
                logger.warning("could not mark a refused outbox row", metadata: ["error": "\(error)"])
            }
        } else {
            singleRowsLeft = settings.relayBatchSize
        }
    }

    /// Publishes one batch of due rows; returns how many were claimed.
    @discardableResult
    func relayOnce() throws -> Int {
        guard let db, let amqp else { return 0 }
        nackedLastRound = false
        singleRowId = nil
        let single = singleRowsLeft > 0
        return try db.transaction { tx in
            let rows = try tx.query(sql.claimOutbox, [single ? 1 : settings.relayBatchSize])
            if rows.isEmpty {
                singleRowsLeft = 0
                return 0
            }
            if single { singleRowId = try rows[0].int64("id") }
            var idBySeq: [UInt64: Int64] = [:]
            for row in rows {
                let headers = (try? JSONSerialization.jsonObject(with: Data(try row.string("headers").utf8)))
                    as? [String: String] ?? [:]
                let m = OutgoingMessage(
                    exchange: try row.string("exchange"), routingKey: try row.string("routing_key"),
                    messageId: try row.string("message_id"), type: try row.string("type"),
                    correlationId: try row.optionalString("correlation_id"),
                    // The broker checks user_id against our login: consumers know who published it.
                    userId: settings.amqpURL.user, headers: headers,
                    body: try row.bytes("body"), timestamp: try row.int64("created"))
                idBySeq[try amqp.publish(m, mandatory: true)] = try row.int64("id")
            }
            let outcomes = try amqp.waitForConfirms(timeoutMillis: 15_000)
            var done: [Int64] = []
            for (seq, id) in idBySeq {
                switch outcomes[seq] {
                case .confirmed?:
                    done.append(id)
                case .returned(let code, let text)?:
                    logger.error("outbox message unroutable; kept for retry",
                                 metadata: ["outbox.id": "\(id)", "amqp.reply": "\(code) \(text)"])
                    try tx.query(sql.failOutbox, [id, "returned \(code) \(text)"])
                case .nacked?, nil:
                    logger.warning("outbox message nacked; kept for retry", metadata: ["outbox.id": "\(id)"])
                    nackedLastRound = true
                    try tx.query(sql.failOutbox, [id, "nacked"])
                }
            }
            if !done.isEmpty {
                try tx.deferred(sql.deleteOutbox, ["{" + done.map(String.init).joined(separator: ",") + "}"])
            }
            if single { singleRowsLeft -= 1 }
            singleRowId = nil
            return rows.count
        }
    }
}
