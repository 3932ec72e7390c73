/// Every exchange, queue and routing key of the system, in one place. No service spells a queue name itself.
public enum Topology {
    /// The topic exchange all refund and order events travel on.
    public static let eventsExchange = "refund.events"
    /// The direct exchange dead letters go to; each queue's DLQ is bound with the queue's own name as key.
    public static let deadLetterExchange = "refund.dead-letter"
    /// Header naming why a message was dead-lettered by a stage (the broker's own x-death says only "rejected").
    public static let deadLetterReasonHeader = "x-refund-dead-letter-reason"
    public static let schemaVersionHeader = "x-schema-version"

    public static func deadLetterQueue(of queue: String) -> String { queue + ".dlq" }
    /// Where the broker's own dead letters of a service's queue wait for the service to mask them (then the DLQ).
    public static func quarantineQueue(of queue: String) -> String { queue + ".quarantine" }
    /// The key on `deadLetterExchange` that reaches `queue` itself: an operator's replay of one of its dead letters
    /// (`refundctl dlq replay`), published by the owning service's relay and so under its login.
    public static func replayRoutingKey(of queue: String) -> String { queue + ".replay" }

    /// Headers of a dead letter and of its replay: where the message first came from (the routing key it was
    /// published under, the publisher RabbitMQ validated, the queue that dead-lettered it) and, on a replay, the
    /// dead-letter record it replays.
    public enum DeadLetterHeader {
        public static let originalRoutingKey = "x-original-routing-key"
        public static let originalUserId = "x-original-user-id"
        public static let originalQueue = "x-original-queue"
        public static let replayOf = "x-refund-replay-of"
    }

    /// A queue and the routing-key patterns bound to it on `eventsExchange`.
    public struct QueueSpec: Sendable, Equatable {
        public let name: String
        public let bindings: [String]
        public init(name: String, bindings: [String]) {
            self.name = name
            self.bindings = bindings
        }
    }

    /// Routing keys (also the envelope `type` of what travels under them).
    public enum Key {
        // Marketplace -> intake: order facts.
        public static let orderPrefix = "order."
        public static let orderPlaced = "order.placed"
        public static let orderPaid = "order.paid"
        public static let orderDelivered = "order.delivered"
        public static let orderConsumed = "order.consumed"
        // Intake -> auto-review: what the buyer and reviewers did.
        public static let refundApplied = "refund.applied"
        public static let evidenceAdded = "refund.evidence-added"
        public static let refundAppealed = "refund.appealed"
        public static let refundWithdrawn = "refund.withdrawn"
        public static let reviewerDecided = "refund.reviewer-decided"
        // Auto-review -> supplier-verification -> payout.
        public static let refundApproved = "refund.approved"
        public static let refundVerified = "refund.verified"
        public static let supplierReply = "supplier.reply"
        /// Intake → payout: the buyer's choice after the original route failed.
        public static let fallbackChosen = "refund.fallback-chosen"
        /// Intake → supplier-verification: operations' decision on a disputed refund.
        public static let arbitrationDecided = "refund.arbitration-decided"
        public static func supplierRequest(supplier: String) -> String { "supplier.\(supplier).request" }
        /// Supplier-verification -> one supplier: a reply of theirs was refused, and why (`ReplyRefused`).
        public static func supplierReplyRefused(supplier: String) -> String { "supplier.\(supplier).reply-refused" }
        /// Marketplace → notification: how to reach a buyer (phone, e-mail, locale).
        public static let buyerProfile = "buyer.profile"
        /// Notification → intake: an in-app message (站内信) for the buyer's inbox.
        public static let inAppMessage = "notification.in-app"
        // Payout -> intake: something reviewers must look at (e.g. a possible double payment).
        public static let refundIncident = "refund.incident"
        // Supplier-verification -> intake: a supplier's record (answers, silence, disputes lost, deposit charged).
        public static let supplierRecord = "refund.supplier-record"
        // Every stage -> intake (timeline) and notification: one per visible step.
        public static let statusPrefix = "refund.status."
        public static func status(_ step: String) -> String { statusPrefix + step }
    }

    /// The queue each service consumes, named as the service itself, bound to what it consumes
    /// (`MessageCatalogue`), in the catalogue's order.
    public static func queue(for service: ServiceName) -> QueueSpec {
        var bindings: [String] = []
        for kind in MessageCatalogue.consumed(by: service) where !bindings.contains(kind.binding) {
            bindings.append(kind.binding)
        }
        return QueueSpec(name: service.rawValue, bindings: bindings)
    }

    /// A supplier's own request queue: only that supplier's AMQP user may read it.
    public static func supplierRequestQueue(supplier: String) -> QueueSpec {
        QueueSpec(name: "supplier.\(supplier)",
                  bindings: [Key.supplierRequest(supplier: supplier), Key.supplierReplyRefused(supplier: supplier)])
    }
}

/// The five services. The raw value is the one spelling used for the folder, product, compose service, logger
/// label, queue and database role (schemas use `schema`).
public enum ServiceName: String, Sendable, CaseIterable {
    case intake
    case autoReview = "auto-review"
    case supplierVerification = "supplier-verification"
    case payout
    case notification

    /// The PostgreSQL schema and login role the service owns (ARCHITECTURE.md: one per service).
    public var schema: String {
        switch self {
        case .intake: return "intake"
        case .autoReview: return "review"
        case .supplierVerification: return "supplier"
        case .payout: return "payout"
        case .notification: return "notification"
        }
    }
}
