import AMQP
import Foundation
import Logging
import Postgres
import RefundModel

/// Consumes the stage's queue and handles deliveries in windows: up to `batchSize` deliveries in one transaction
/// (inbox dedupe + the handler's state change + outbox rows), commit, then one `multiple` ack for the window.
///
/// The order is the whole point: commit before ack. A crash between the two redelivers the window, and the inbox
/// turns each redelivery into a no-op. A delivery that cannot be decoded or whose handler fails permanently is
/// written to the outbox as a dead letter (with its reason, personal data masked) in the same transaction, so the
/// window still commits and the queue keeps moving. Savepoints (two round trips per message) are paid only when a
/// handler fails: the window first runs without them, and is done again with each message isolated if one fails.
final class StageWorker {
    let definition: StageDefinition
    let settings: StageSettings
    let sql: RuntimeSQL
    let stop: StopSignal
    let logger: Logger
    let hooks: StageHooks
    let health: StageHealth
    private var db: PostgresConnection?
    private var amqp: AMQPConnection?
    private let decoder = MessageCoding.decoder()

    init(definition: StageDefinition, settings: StageSettings, sql: RuntimeSQL, stop: StopSignal, logger: Logger,
         hooks: StageHooks, health: StageHealth) {
        self.health = health
        self.definition = definition
        self.settings = settings
        self.sql = sql
        self.stop = stop
        self.logger = logger
        self.hooks = hooks
    }

    func run(declare: @escaping (AMQPConnection) throws -> Void, onConsuming: @escaping () -> Void) {
        var announced = false
        while !stop.isStopped {
            guard ensureDatabase() else { break }
            guard let amqp = amqp ?? connectConsumer(declare: declare) else { break }
            self.amqp = amqp
            if !announced {
                onConsuming()
                announced = true
            }
            health.consumer(connected: true)
            do {
                let window = try collectWindow(from: amqp)
                if window.isEmpty { continue }
                try handle(window, ackOn: amqp)
            } catch {
                // The channel died: its delivery tags are void and the broker requeues what we did not ack.
                logger.warning("consumer connection lost, reconnecting", metadata: ["error": "\(error)"])
                amqp.abort()
                self.amqp = nil
                health.consumer(connected: false)
            }
        }
        // Graceful stop: the window in hand was finished above; closing returns prefetched deliveries unacked.
        amqp?.close()
        db?.close()
    }

    private func ensureDatabase() -> Bool {
        if let db, db.isHealthy { return true }
        db?.close()
        db = Connections.postgres(settings.databaseURL, schema: sql.schema, name: definition.name, stop: stop,
                                  logger: logger)
        return db != nil
    }

    /// Poison isolation. On RabbitMQ's quorum queues a consumer that dies returns every unacked delivery with its
    /// delivery count raised: a message that crashes the process would take a whole prefetch of innocent messages to
    /// the dead-letter queue with it after `DELIVERY_LIMIT` crashes. So every (re)connection starts with a prefetch of
    /// one and handles redelivered messages one per window; the first fresh message (or an empty queue) restores the
    /// full prefetch. A crash while recovering then counts against the one message in hand.
    private var recovering = false

    private func connectConsumer(declare: @escaping (AMQPConnection) throws -> Void) -> AMQPConnection? {
        recovering = true
        return Connections.amqp(settings.amqpURL, heartbeat: settings.heartbeatSeconds, stop: stop, logger: logger) { c in
            try declare(c)
            try c.consume(queue: self.definition.queue.name, prefetch: 1)
        }
    }

    private func leaveRecovery(_ amqp: AMQPConnection) throws {
        try amqp.setPrefetch(UInt16(settings.prefetch))
        recovering = false
    }

    /// Size of the last window: more than one means deliveries are queueing, and lingering fills the next one.
    private var lastWindowSize = 0

    /// Waits up to 500 ms for a first delivery, then takes whatever else is already buffered, up to the batch size.
    /// Under load it also lingers up to `WINDOW_LINGER_MS` for more: a few milliseconds that save a commit (and its
    /// WAL flush) per message.
    private func collectWindow(from amqp: AMQPConnection) throws -> [Delivery] {
        guard let first = try amqp.nextDelivery(timeoutMillis: 500) else {
            if recovering { try leaveRecovery(amqp) }
            lastWindowSize = 0
            return []
        }
        if recovering {
            if first.redelivered { return [first] }
            try leaveRecovery(amqp)
        }
        var window = [first]
        let lingerUntil = lastWindowSize > 1 && settings.windowLingerMillis > 0
            ? DispatchTime.now().uptimeNanoseconds + UInt64(settings.windowLingerMillis) * 1_000_000 : 0
        while window.count < settings.batchSize {
            if let next = try amqp.nextDelivery(timeoutMillis: 0) {
                window.append(next)
                continue
            }
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < lingerUntil else { break }
            guard let next = try amqp.nextDelivery(timeoutMillis: max(1, Int((lingerUntil - now) / 1_000_000)))
            else { break }
            window.append(next)
        }
        lastWindowSize = window.count
        return window
    }

    /// Handles one window; retries transient database failures with backoff while keeping the deliveries, then
    /// acks. A failed ack is not retried here: the channel is gone, and the broker redelivers to the inbox's no-op.
    private func handle(_ window: [Delivery], ackOn amqp: AMQPConnection) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        guard let outcome = try commit(window) else { return }
        hooks.afterCommit?(window.count)
        try amqp.ack(window[window.count - 1], multiple: true)
        // Counted once committed (a window done again after a failure is counted once).
        let queue = definition.queue.name
        StageMetrics.window(queue: queue, nanoseconds: DispatchTime.now().uptimeNanoseconds - started,
                            size: window.count)
        for m in outcome.messages {
            StageMetrics.message(queue: queue, type: m.type, outcome: m.outcome)
            if let reason = m.deadLetterReason { StageMetrics.deadLetter(queue: queue, reason: reason) }
            if let nanos = m.handlerNanos { StageMetrics.handler(type: m.type, nanoseconds: nanos) }
        }
        if outcome.deadLettered > 0 || outcome.duplicates > 0 {
            logger.info("window handled", metadata: [
                "window.size": "\(window.count)", "window.duplicates": "\(outcome.duplicates)",
                "window.dead_lettered": "\(outcome.deadLettered)",
            ])
        }
    }

    /// Commits the window's transaction, retrying for about 20 s; nil when stopping before it committed.
    private func commit(_ window: [Delivery]) throws -> WindowOutcome? {
        var backoff = Backoff(baseMillis: 100, capMillis: 5_000)
        let started = Date()
        // Size, envelope and publisher once per window, whatever number of times its transaction is done.
        let checked = window.map(check)
        while true {
            guard ensureDatabase(), let db else { return nil }
            do {
                // The fast pass has no savepoints (two round trips per message saved); if a handler fails in it,
                // the window is rolled back and done again with each message under its own savepoint, so only
                // the guilty message is dead-lettered.
                do {
                    return try process(window, checked, on: db, isolating: false)
                } catch let failed as HandlerFailed {
                    logger.info("a handler failed in a window: the window again, each message isolated",
                                metadata: ["message.id": "\(failed.messageId)", "window.size": "\(window.count)"])
                    return try process(window, checked, on: db, isolating: true)
                } catch let e as PostgresError where !StageError.isTransient(e) {
                    // A handler's deferred write fails where it is sent: with a later message's statement (a
                    // handler failure, above) or with the COMMIT, here. Message by message, each one's writes are
                    // sent with its savepoint's release, so the guilty one is found and dead-lettered.
                    logger.info("a window's commit failed: the window again, each message isolated",
                                metadata: ["error": "\(e)", "window.size": "\(window.count)"])
                    return try process(window, checked, on: db, isolating: true)
                }
            } catch {
                // Give up the window after ~20 s: close the channel so the broker requeues it, rather than let the
                // heartbeat lapse while we hold deliveries without servicing the connection.
                let wait = backoff.nextDelayMillis()
                logger.warning("window failed, retrying", metadata: ["error": "\(error)", "retry.ms": "\(wait)"])
                if Date().timeIntervalSince(started) > 20 { throw error }
                stop.sleep(millis: wait)
                if stop.isStopped { throw error }
            }
        }
    }

    struct WindowOutcome {
        var duplicates = 0
        var deadLettered = 0
        /// Each message's type and outcome, for the metrics (`handled`, `duplicate`, `dead_lettered` with why).
        var messages: [(type: String, outcome: String, deadLetterReason: String?, handlerNanos: UInt64?)] = []
    }

    /// A handler failed permanently during the fast pass (no savepoints): the window's transaction is void.
    private struct HandlerFailed: Error { let messageId: String }

    /// A delivery after the checks that need no database: what the window does with it.
    private enum Checked {
        /// Dead-lettered with `reason`; `kind` is the metrics' label (`forged`: not from the producer its routing key
        /// allows; counted in `refused_messages` too).
        case refused(reason: String, kind: String)
        case accepted(IncomingMessage)
    }

    /// Where a delivery came from, as the checks and a dead letter see it: for an operator's replay, the original
    /// message's routing key and validated publisher, not the replay's own.
    private struct Origin {
        var route: DeadLetterOrigin
        var envelopeId: String?
        var routingKey: String { route.routingKey }
        var publisher: String? { route.publisher }
    }

    /// Size, envelope and publisher, before anything touches the database.
    private func check(_ delivery: Delivery) -> (Checked, Origin) {
        var origin = Origin(route: DeadLetterOrigin(routingKey: delivery.routingKey, publisher: delivery.userId))
        if delivery.exchange == Topology.deadLetterExchange {
            // A replay (`DeadLetterRecords.replay`): only this stage's own relay publishes one, under its login;
            // anyone else who can write to the dead-letter exchange is refused as a forger.
            guard delivery.routingKey == Topology.replayRoutingKey(of: definition.queue.name),
                  delivery.userId == settings.amqpURL.user else {
                logger.warning("message refused", metadata: ["reason": "a replay not published by this stage"])
                return (.refused(reason: "a replay not published by this stage", kind: "forged"), origin)
            }
            origin.route = DeadLetterOrigin(replayHeaders: delivery.headers)
        }
        // Size before anything is decoded: a huge body is not parsed, whoever sent it.
        guard delivery.body.count <= settings.maxMessageBytes else {
            return (.refused(reason: "too large: \(delivery.body.count) bytes, at most \(settings.maxMessageBytes) "
                + "(MAX_MESSAGE_BYTES)", kind: "too_large"), origin)
        }
        let header: EnvelopeHeader
        do {
            header = try decoder.decode(EnvelopeHeader.self, from: Data(delivery.body))
        } catch {
            return (.refused(reason: "undecodable envelope: \(StageError.describe(error))", kind: "undecodable"),
                    origin)
        }
        origin.envelopeId = header.id.description
        // Who sent it, before anything else: a forged message is never acted on, and its id is not put in the inbox
        // (a forger must not be able to pre-empt a real message's id).
        if let why = definition.publishers.refusal(routingKey: origin.routingKey, validatedUser: origin.publisher) {
            logger.warning("message refused", metadata: [
                "message.id": "\(header.id)", "message.type": "\(header.type)", "reason": "\(why)",
            ])
            return (.refused(reason: why, kind: "forged"), origin)
        }
        var log = logger
        log[metadataKey: "message.id"] = "\(header.id)"
        log[metadataKey: "message.type"] = "\(header.type)"
        if let c = header.correlationId { log[metadataKey: "refund.id"] = "\(c)" }
        return (.accepted(IncomingMessage(header: header, routingKey: origin.routingKey,
                                          validatedUserId: origin.publisher, redelivered: delivery.redelivered,
                                          body: delivery.body, logger: log)), origin)
    }

    /// One transaction for the window. `isolating`: each message under a savepoint, so one whose handler fails is
    /// undone alone and dead-lettered; otherwise such a failure ends the pass with `HandlerFailed`.
    ///
    /// The inbox takes the whole window's ids in one statement first; a message whose id it already held (or that
    /// came twice in the window) is a duplicate. A message dead-lettered after its handler failed keeps its inbox
    /// row: a redelivery of it is a duplicate, not a second dead letter.
    private func process(_ window: [Delivery], _ checked: [(Checked, Origin)], on db: PostgresConnection,
                         isolating: Bool) throws -> WindowOutcome {
        let ids = checked.compactMap { c -> String? in
            if case .accepted(let m) = c.0 { return m.header.id.description } else { return nil }
        }
        return try db.transaction { db in
            var outcome = WindowOutcome()
            let tx = StageTransaction(db: db, sql: sql, logger: logger)
            var fresh = ids.isEmpty ? [] : Set(try db.query(sql.insertInboxIds, [PostgresArray.text(ids)])
                .map { try $0.string("message_id") })
            if !isolating {
                // The window's fresh messages, each once, for the handler's questions asked all at once.
                var unseen = fresh
                let messages = checked.compactMap { c -> IncomingMessage? in
                    guard case .accepted(let m) = c.0, unseen.remove(m.header.id.description) != nil else { return nil }
                    return m
                }
                do {
                    try definition.handler.prepare(messages, in: tx)
                } catch {
                    // As a handler's failure: the window again, message by message (and without prepare).
                    if StageError.isTransient(error) { throw error }
                    throw HandlerFailed(messageId: messages.first?.header.id.description ?? "")
                }
            }
            for (delivery, (c, origin)) in zip(window, checked) {
                let message: IncomingMessage
                switch c {
                case .refused(let reason, let kind):
                    if kind == "forged" { try db.execute(sql.countRefused, ["forged"]) }
                    try deadLetter(delivery, origin, reason: reason, tx: tx)
                    outcome.deadLettered += 1
                    outcome.messages.append((delivery.type ?? "unknown", "dead_lettered", kind, nil))
                    continue
                case .accepted(let m):
                    message = m
                }
                let log = message.logger
                tx.logger = log
                guard fresh.remove(message.header.id.description) != nil else {
                    outcome.duplicates += 1
                    outcome.messages.append((message.header.type, "duplicate", nil, nil))
                    log.debug("duplicate delivery ignored")
                    continue
                }
                do {
                    let started = DispatchTime.now().uptimeNanoseconds
                    if isolating {
                        try tx.isolated { _ in try self.definition.routes.handle(message, in: tx) }
                    } else {
                        try definition.routes.handle(message, in: tx)
                    }
                    outcome.messages.append((message.header.type, "handled", nil,
                                             DispatchTime.now().uptimeNanoseconds - started))
                } catch {
                    if StageError.isTransient(error) { throw error }
                    // Without a savepoint the failure voids the window's transaction: end the fast pass.
                    guard isolating else { throw HandlerFailed(messageId: message.header.id.description) }
                    log.warning("message dead-lettered", metadata: ["reason": "\(error)"])
                    try deadLetter(delivery, origin, reason: "\(error)", tx: tx)
                    outcome.deadLettered += 1
                    outcome.messages.append((message.header.type, "dead_lettered", "handler", nil))
                }
            }
            try tx.finish()
            return outcome
        }
    }

    /// Routes the delivery to `<queue>.dlq` through the outbox, with its reason and origin in headers. The body is
    /// kept if it is text (masked: dead letters carry no personal data), replaced by a note if it is binary. The
    /// message as it arrived is recorded in the same transaction, for an operator to replay or discard.
    private func deadLetter(_ d: Delivery, _ origin: Origin, reason: String, tx: StageTransaction) throws {
        let messageId = d.messageId ?? UUID().uuidString.lowercased()
        try tx.enqueue(
            exchange: Topology.deadLetterExchange, routingKey: definition.queue.name,
            messageId: messageId, type: d.type ?? "unknown", correlationId: d.correlationId,
            headers: origin.route.deadLetterHeaders(queue: definition.queue.name, reason: reason),
            body: PersonalData.maskedBody(d.body))
        try DeadLetterRecords(schema: sql.schema).record(DeadLetterRecords.NewLetter(
            queue: definition.queue.name, messageId: messageId, envelopeId: origin.envelopeId,
            type: d.type ?? "unknown", routingKey: origin.routingKey, publisher: origin.publisher,
            correlationId: d.correlationId, reason: reason,
            body: d.body.count <= settings.maxMessageBytes ? d.body : nil), on: tx.db)
        let notice = DeadLetterNotice(routingKey: origin.routingKey, validatedUserId: origin.publisher,
                                      messageId: d.messageId, correlationId: d.correlationId, reason: reason,
                                      body: d.body.count <= settings.maxMessageBytes ? d.body : [])
        tx.logger = logger
        do {
            try tx.isolated { _ in try self.definition.handler.deadLettered(notice, in: tx) }
        } catch {
            if StageError.isTransient(error) { throw error }
            logger.warning("after a dead letter: the handler's follow-up failed", metadata: ["error": "\(error)"])
        }
    }
}
