/// A message to publish. Always persistent, JSON, with the envelope's id, type and correlation id as properties so
/// broker tooling shows them without parsing the body.
public struct OutgoingMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var messageId: String
    public var type: String
    public var correlationId: String?
    /// Set only by a client that must prove who it is (a supplier): RabbitMQ checks it equals the login user.
    public var userId: String?
    public var headers: [String: String]
    public var body: [UInt8]
    public var timestamp: Int64

    public init(exchange: String, routingKey: String, messageId: String, type: String, correlationId: String? = nil,
                userId: String? = nil, headers: [String: String] = [:], body: [UInt8], timestamp: Int64 = 0) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.messageId = messageId
        self.type = type
        self.correlationId = correlationId
        self.userId = userId
        self.headers = headers
        self.body = body
        self.timestamp = timestamp
    }
}

/// A delivered message, copied out of rabbitmq-c's buffers. `deliveryTag` is only meaningful on the channel (and
/// connection) that delivered it: after a reconnect it must be forgotten, never acked.
public struct Delivery: Sendable {
    public let deliveryTag: UInt64
    public let redelivered: Bool
    public let exchange: String
    public let routingKey: String
    public let messageId: String?
    public let type: String?
    public let correlationId: String?
    /// The user the broker validated as the publisher (only present when the publisher set it).
    public let userId: String?
    public let headers: [String: String]
    public let body: [UInt8]
    /// Which connection generation delivered it (see `AMQPConnection.generation`).
    public let generation: UInt64

    /// A header set from the broker's `x-death` record (a nested table, which `headers` leaves out): the routing
    /// key the message had before the broker dead-lettered it.
    public static let deathRoutingKeyHeader = "x-refund-death-routing-key"
}

/// How the broker answered one publish.
public enum PublishOutcome: Sendable, Equatable {
    /// Routed to at least one queue and stored (quorum: replicated).
    case confirmed
    /// `mandatory` and no queue was bound for the key: the broker returned it.
    case returned(replyCode: Int, replyText: String)
    /// The broker refused it (a queue over its length limit with `reject-publish`, an internal error).
    case nacked
}
