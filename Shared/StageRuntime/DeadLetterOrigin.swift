import AMQP
import RefundModel

/// Where a message first came from, as a dead letter and a replay carry it in their headers: the routing key it was
/// published under and the publisher RabbitMQ validated. The one place that writes and reads those headers (the
/// consumer's dead letters, the quarantine's, an operator's replay).
struct DeadLetterOrigin: Equatable {
    var routingKey: String
    /// nil: the publisher set no `user_id`.
    var publisher: String?

    /// A delivery on `queue`: its own route, or, for a replay of one of the queue's dead letters (published on the
    /// dead-letter exchange under the queue's replay key), the original message's from the replay's headers.
    init(_ d: Delivery, queue: String, routingKey: String? = nil) {
        let key = routingKey ?? d.routingKey
        guard key == Topology.replayRoutingKey(of: queue) else {
            self.init(routingKey: key, publisher: d.userId)
            return
        }
        self.init(replayHeaders: d.headers)
    }

    init(routingKey: String, publisher: String?) {
        self.routingKey = routingKey
        self.publisher = publisher
    }

    init(replayHeaders headers: [String: String]) {
        let user = headers[Topology.DeadLetterHeader.originalUserId] ?? ""
        self.init(routingKey: headers[Topology.DeadLetterHeader.originalRoutingKey] ?? "",
                  publisher: user.isEmpty ? nil : user)
    }

    /// The headers of its dead letter from `queue`: why (masked, at most 500 characters) and where from.
    func deadLetterHeaders(queue: String, reason: String) -> [String: String] {
        [Topology.deadLetterReasonHeader: PersonalData.mask(String(reason.prefix(500))),
         Topology.DeadLetterHeader.originalQueue: queue,
         Topology.DeadLetterHeader.originalRoutingKey: routingKey,
         Topology.DeadLetterHeader.originalUserId: publisher ?? ""]
    }

    /// The headers of an operator's replay of the dead-letter record `record`.
    func replayHeaders(record: String) -> [String: String] {
        [Topology.DeadLetterHeader.originalRoutingKey: routingKey,
         Topology.DeadLetterHeader.originalUserId: publisher ?? "",
         Topology.DeadLetterHeader.replayOf: record]
    }
}
