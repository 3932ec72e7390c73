import AMQP
import Foundation
import Logging
import RefundModel

/// Masks what the broker dead-letters before anyone can read it. The broker moves a message that exceeded its
/// delivery limit (it crashed or stalled its consumer) to `<queue>.quarantine` with its body as it was: phone
/// numbers, e-mails, account numbers. This thread republishes each one, masked, to `<queue>.dlq` (with the reason
/// and its validated publisher in headers) and acks the original only after the broker confirmed the masked copy.
/// Dead letters the stage writes itself are masked when written (`StageWorker.deadLetter`).
final class DeadLetterQuarantine {
    let queue: QueueDeclaration
    let settings: StageSettings
    let stop: StopSignal
    let logger: Logger

    init(queue: QueueDeclaration, settings: StageSettings, stop: StopSignal, logger: Logger) {
        self.queue = queue
        self.settings = settings
        self.stop = stop
        var l = logger
        l[metadataKey: "component"] = "dead-letter-quarantine"
        self.logger = l
    }

    func run(declare: @escaping (AMQPConnection) throws -> Void) {
        var consumer: AMQPConnection?
        var publisher: AMQPConnection?
        while !stop.isStopped {
            do {
                if consumer == nil {
                    consumer = Connections.amqp(settings.amqpURL, heartbeat: settings.heartbeatSeconds, stop: stop,
                                                logger: logger) { c in
                        try declare(c)
                        try c.consume(queue: self.queue.quarantineQueue, prefetch: 20)
                    }
                }
                if publisher == nil {
                    publisher = Connections.amqp(settings.amqpURL, heartbeat: settings.heartbeatSeconds, stop: stop,
                                                 logger: logger) { c in try c.enableConfirms() }
                }
                guard let consumer, let publisher else { break }
                guard let d = try consumer.nextDelivery(timeoutMillis: 500) else {
                    try publisher.serviceHeartbeat()
                    continue
                }
                let seq = try publisher.publish(Self.masked(d, queue: queue.name, user: settings.amqpURL.user))
                guard try publisher.waitForConfirms(timeoutMillis: 15_000)[seq] == .confirmed else {
                    throw AMQPError(.connection, "masked dead letter not confirmed")
                }
                try consumer.ack(d)
                logger.warning("message exceeded its delivery limit: dead-lettered, masked",
                               metadata: ["message.id": "\(d.messageId ?? "-")", "message.type": "\(d.type ?? "-")"])
            } catch {
                // Unacked originals go back to the quarantine queue and are masked again: nothing is lost.
                logger.warning("quarantine cycle failed, reconnecting", metadata: ["error": "\(error)"])
                consumer?.abort()
                publisher?.abort()
                consumer = nil
                publisher = nil
                stop.sleep(millis: 500)
            }
        }
        consumer?.close()
        publisher?.close()
    }

    /// The dead letter as operators may see it: body and headers masked, the reason, the original route and the
    /// publisher RabbitMQ validated.
    static func masked(_ d: Delivery, queue: String, user: String) -> OutgoingMessage {
        let body = PersonalData.maskedBody(d.body)
        var headers = d.headers.mapValues(PersonalData.mask)
        headers[Topology.deadLetterReasonHeader] = "delivery limit exceeded: the message crashed or stalled its consumer"
        headers["x-original-queue"] = queue
        headers["x-original-user-id"] = d.userId ?? ""
        return OutgoingMessage(exchange: Topology.deadLetterExchange, routingKey: queue,
                               messageId: d.messageId ?? UUID().uuidString.lowercased(), type: d.type ?? "unknown",
                               correlationId: d.correlationId, userId: user, headers: headers, body: body)
    }
}
