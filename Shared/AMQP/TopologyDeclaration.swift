/// Declares what a client needs on the broker: the exchanges, its queue with a dead-letter queue, the bindings.
/// Idempotent, so it runs on every (re)connect.
public struct QueueDeclaration: Sendable, Equatable {
    public var name: String
    public var bindings: [String]
    public var deliveryLimit: Int
    /// Where the queue's dead letters end (the names are the platform's: `Topology`).
    public var deadLetterQueue: String
    /// What the broker dead-letters (delivery limit) goes first to this queue, where the owning service masks
    /// personal data before it reaches the DLQ; nil: straight to the DLQ (queues whose messages carry none, such as
    /// supplier requests).
    public var quarantineQueue: String?
    /// Also bound on the dead-letter exchange under this key: where an operator's replay of one of the queue's dead
    /// letters comes back in (nil: no replays, e.g. supplier request queues).
    public var replayRoutingKey: String?

    public init(name: String, bindings: [String], deliveryLimit: Int, deadLetterQueue: String,
                quarantineQueue: String? = nil, replayRoutingKey: String? = nil) {
        self.name = name
        self.bindings = bindings
        self.deliveryLimit = deliveryLimit
        self.deadLetterQueue = deadLetterQueue
        self.quarantineQueue = quarantineQueue
        self.replayRoutingKey = replayRoutingKey
    }
}

extension AMQPConnection {
    /// The events exchange (topic), the dead-letter exchange (direct), then for each queue: its quorum queue
    /// dead-lettering at-least-once to its DLQ (through its quarantine, if any) after `deliveryLimit` deliveries, the
    /// DLQ, and the bindings.
    public func declare(eventsExchange: String, deadLetterExchange: String, queues: [QueueDeclaration]) throws {
        try declareExchange(eventsExchange, type: "topic")
        try declareExchange(deadLetterExchange, type: "direct")
        for q in queues {
            try declareQueue(q.deadLetterQueue, quorum: true)
            try bindQueue(q.deadLetterQueue, exchange: deadLetterExchange, routingKey: q.name)
            var brokerDeadLetters = q.name
            if let quarantine = q.quarantineQueue {
                try declareQueue(quarantine, quorum: true)
                try bindQueue(quarantine, exchange: deadLetterExchange, routingKey: quarantine)
                brokerDeadLetters = quarantine
            }
            try declareQueue(q.name, quorum: true, deadLetterExchange: deadLetterExchange,
                             deadLetterRoutingKey: brokerDeadLetters, deliveryLimit: q.deliveryLimit)
            for key in q.bindings { try bindQueue(q.name, exchange: eventsExchange, routingKey: key) }
            if let key = q.replayRoutingKey { try bindQueue(q.name, exchange: deadLetterExchange, routingKey: key) }
        }
    }
}
