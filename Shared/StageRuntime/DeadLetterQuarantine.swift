import AMQP
import Foundation
import Logging
import Postgres
import RefundModel

/// Masks what the broker dead-letters before anyone can read it. The broker moves a message that exceeded its
/// delivery limit (it crashed or stalled its consumer) to `<queue>.quarantine` with its body as it was: phone
/// numbers, e-mails, account numbers. This thread republishes each one, masked, to `<queue>.dlq` (with the reason
/// and its validated publisher in headers) and acks the original only after the broker confirmed the masked copy.
/// Before that it records the original, unmasked, in the service's `dead_letters` (`DeadLetterRecords`), where an
/// operator can replay or discard it. Dead letters the stage writes itself are masked and recorded when written
/// (`StageWorker.deadLetter`).
final class DeadLetterQuarantine {
    let queue: QueueDeclaration
    /// The service's schema, where the originals are recorded.
    let schema: String
    let settings: StageSettings
    let stop: StopSignal
    let logger: Logger

    init(queue: QueueDeclaration, schema: String, settings: StageSettings, stop: StopSignal, logger: Logger) {
        self.queue = queue
        self.schema = schema
        self.settings = settings
        self.stop = stop
        var l = logger
        l[metadataKey: "component"] = "dead-letter-quarantine"
        self.logger = l
    }

    func run(declare: @escaping (AMQPConnection) throws -> Void) {
        var consumer: AMQPConnection?
        var publisher: AMQPConnection?
        var db: PostgresConnection?
        let records = DeadLetterRecords(schema: schema)
        while !stop.isStopped {
            do {
                if db == nil || db?.isHealthy == false {
                    db?.close()
                    db = Connections.postgres(settings.databaseURL, schema: schema, name: "\(queue.name)-quarantine",
                                              stop: stop, logger: logger)
                }
                if consumer == nil {
                    consumer = Connections.amqp(settings.amqpURL, heartbeat: settings.heartbeatSeconds, stop: stop,
                                                logger: logger) { c in
                        try declare(c)
                        try c.consume(queue: Topology.quarantineQueue(of: self.queue.name), prefetch: 20)
                    }
                }
                if publisher == nil {
                    publisher = Connections.amqp(settings.amqpURL, heartbeat: settings.heartbeatSeconds, stop: stop,
                                                 logger: logger) { c in try c.enableConfirms() }
                }
                guard let consumer, let publisher, let db else { break }
                guard let d = try consumer.nextDelivery(timeoutMillis: 500) else {
                    try publisher.serviceHeartbeat()
                    continue
                }
                let origin = Self.origin(d, queue: queue.name)
                // Recorded once however often this is redone (same id and bytes while held).
                try records.record(DeadLetterRecords.NewLetter(
                    queue: queue.name, messageId: d.messageId ?? "", envelopeId: envelopeId(d), type: d.type ?? "unknown",
                    routingKey: origin.routingKey, publisher: origin.publisher, correlationId: d.correlationId,
                    reason: Self.reason, body: d.body.count <= settings.maxMessageBytes ? d.body : nil), on: db)
                let seq = try publisher.publish(Self.masked(d, origin: origin, queue: queue.name,
                                                            user: settings.amqpURL.user))
                guard try publisher.waitForConfirms(timeoutMillis: 15_000)[seq] == .confirmed else {
                    throw AMQPError(.connection, "masked dead letter not confirmed")
                }
                try consumer.ack(d)
                StageMetrics.deadLetter(queue: queue.name, reason: "delivery_limit")
                logger.warning("message exceeded its delivery limit: dead-lettered, masked",
                               metadata: ["message.id": "\(d.messageId ?? "-")", "message.type": "\(d.type ?? "-")"])
            } catch {
                // Unacked originals go back to the quarantine queue and are masked again: nothing is lost.
                logger.warning("quarantine cycle failed, reconnecting", metadata: ["error": "\(error)"])
                consumer?.abort()
                publisher?.abort()
                db?.close()
                consumer = nil
                publisher = nil
                db = nil
                stop.sleep(millis: 500)
            }
        }
        consumer?.close()
        publisher?.close()
        db?.close()
    }

    static let reason = "delivery limit exceeded: the message crashed or stalled its consumer"

    /// The routing key and publisher the message had before the broker dead-lettered it; for a replay that
    /// crashed, the original message's (from the replay's headers).
    static func origin(_ d: Delivery, queue: String) -> DeadLetterOrigin {
        DeadLetterOrigin(d, queue: queue, routingKey: d.headers[Delivery.deathRoutingKeyHeader] ?? d.routingKey)
    }

    private func envelopeId(_ d: Delivery) -> String? {
        guard d.body.count <= settings.maxMessageBytes else { return nil }
        return (try? MessageCoding.decoder().decode(EnvelopeHeader.self, from: Data(d.body)))?.id.description
    }

    /// The dead letter as operators may see it: body and headers masked, the reason, the original route and the
    /// publisher RabbitMQ validated.
    static func masked(_ d: Delivery, origin: DeadLetterOrigin, queue: String, user: String) -> OutgoingMessage {
        let body = PersonalData.maskedBody(d.body)
        let headers = d.headers.mapValues(PersonalData.mask)
            .merging(origin.deadLetterHeaders(queue: queue, reason: reason)) { $1 }
        return OutgoingMessage(exchange: Topology.deadLetterExchange, routingKey: queue,
                               messageId: d.messageId ?? UUID().uuidString.lowercased(), type: d.type ?? "unknown",
                               correlationId: d.correlationId, userId: user, headers: headers, body: body)
    }
}
