/// One kind of message on `refund.events`: the routing key it travels under, its envelope `type`, who may publish it
/// and which of the platform's services consume it.
public struct MessageKind: Sendable, Hashable {
    /// Exact, or with `*` for one word (`supplier.*.request`: one per supplier).
    public let routingKey: String
    /// The envelope's `type`: a consumer's handler is registered under it (`MessageRoutes`).
    public let type: String
    public let producers: Set<Producer>
    public let consumers: Set<ServiceName>
    /// What a consuming queue binds to receive it: the routing key itself, or a pattern shared by a family of kinds
    /// (every status step travels under `refund.status.<step>`; consumers bind `refund.status.*` once).
    public let binding: String

    init(_ routingKey: String, type: String? = nil, from producers: Set<Producer>, to consumers: Set<ServiceName>,
         binding: String? = nil) {
        self.routingKey = routingKey
        self.type = type ?? routingKey
        self.producers = producers
        self.consumers = consumers
        self.binding = binding ?? routingKey
    }
}

/// Every message of the platform, once. Adding a message (or a stage) means adding its rows here; from them come
///  - each stage's queue bindings (`Topology.queue(for:)`),
///  - who may publish what: the consumers' authenticity check and the broker's topic permissions (`Producers`),
///  - the check, when a stage starts, that its handlers (`MessageRoutes`) cover exactly the types it consumes.
public enum MessageCatalogue {
    public static let kinds: [MessageKind] = {
        typealias K = Topology.Key
        let intake = Producer.service(.intake)
        var kinds: [MessageKind] = [
            // The marketplace: order facts and how to reach its buyers.
            MessageKind(K.orderPlaced, from: [.marketplace], to: [.intake, .payout]),
            MessageKind(K.orderPaid, from: [.marketplace], to: [.intake]),
            MessageKind(K.orderDelivered, from: [.marketplace], to: [.intake]),
            MessageKind(K.orderConsumed, from: [.marketplace], to: [.intake]),
            MessageKind(K.buyerProfile, from: [.marketplace], to: [.notification]),
            // Intake: what buyers and reviewers did.
            MessageKind(K.refundApplied, from: [intake], to: [.autoReview]),
            MessageKind(K.evidenceAdded, from: [intake], to: [.autoReview]),
            MessageKind(K.refundAppealed, from: [intake], to: [.autoReview]),
            MessageKind(K.refundWithdrawn, from: [intake], to: [.autoReview]),
            MessageKind(K.reviewerDecided, from: [intake], to: [.autoReview]),
            MessageKind(K.fallbackChosen, from: [intake], to: [.payout]),
            MessageKind(K.arbitrationDecided, from: [intake], to: [.supplierVerification]),
            // The refund's way on.
            MessageKind(K.refundApproved, from: [.service(.autoReview)], to: [.supplierVerification]),
            MessageKind(K.refundVerified, from: [.service(.supplierVerification)], to: [.payout]),
            // Suppliers: each reads its own queue (`Topology.supplierRequestQueue`), no service consumes these.
            MessageKind(K.supplierRequest(supplier: "*"), type: SupplierProtocol.requestType,
                        from: [.service(.supplierVerification)], to: []),
            MessageKind(K.supplierReplyRefused(supplier: "*"), type: SupplierProtocol.replyRefusedType,
                        from: [.service(.supplierVerification)], to: []),
            MessageKind(K.supplierReply, type: SupplierProtocol.replyType, from: [.supplier],
                        to: [.supplierVerification]),
            // What intake keeps for buyers and reviewers.
            MessageKind(K.inAppMessage, from: [.service(.notification)], to: [.intake]),
            MessageKind(K.refundIncident, from: [.service(.payout)], to: [.intake]),
            MessageKind(K.supplierRecord, from: [.service(.supplierVerification)], to: [.intake]),
        ]
        // Every visible step: from the stages that reach it (`RefundState.producers`), to the timeline and the buyer.
        for step in RefundState.allCases {
            kinds.append(MessageKind(K.status(step.rawValue), type: MessageType.refundStatus,
                                     from: Set(step.producers.map { Producer.service($0) }),
                                     to: [.intake, .notification], binding: K.statusPrefix + "*"))
        }
        return kinds
    }()

    /// What `service` consumes.
    public static func consumed(by service: ServiceName) -> [MessageKind] {
        kinds.filter { $0.consumers.contains(service) }
    }

    /// The envelope types `service` must have a handler for.
    public static func types(consumedBy service: ServiceName) -> Set<String> {
        Set(consumed(by: service).map(\.type))
    }
}
