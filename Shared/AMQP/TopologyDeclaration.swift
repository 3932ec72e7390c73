/// Declares what a client needs on the broker: the exchanges, its queue with a dead-letter queue, the bindings.
/// Idempotent, so it runs on every (re)connect.
public struct QueueDeclaration: Sendable, Equatable {
    public var name: String
    public var bindings: [String]
    public var deliveryLimit: Int

    public init(name: String, bindings: [String], deliveryLimit: Int) {
        self.name = name
        self.bindings = bindings
        self.deliveryLimit = deliveryLimit
    }
}

extension AMQPConnection {
    /// The events exchange (topic), the dead-letter exchange (direct), then for each queue: its quorum queue
    /// dead-lettering at-least-once to `<queue>.dlq` after `deliveryLimit` deliveries, the DLQ, and the bindings.
    public func declare(eventsExchange: String, deadLetterExchange: String, queues: [QueueDeclaration]) throws {
        try declareExchange(eventsExchange, type: "topic")
        try declareExchange(deadLetterExchange, type: "direct")
        for q in queues {
            let dlq = q.name + ".dlq"
            try declareQueue(dlq, quorum: true)
            try bindQueue(dlq, exchange: deadLetterExchange, routingKey: q.name)
            try declareQueue(q.name, quorum: true, deadLetterExchange: deadLetterExchange, deadLetterRoutingKey: q.name,
                             deliveryLimit: q.deliveryLimit)
            for key in q.bindings { try bindQueue(q.name, exchange: eventsExchange, routingKey: key) }
        }
    }
}
