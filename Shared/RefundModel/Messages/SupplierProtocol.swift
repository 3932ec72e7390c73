import Foundation

/// The supplier protocol (version 1): a public contract, documented with examples in
/// `Services/supplier-verification/PROTOCOL.md`. Suppliers are other companies' systems: field names and meanings
/// here change only with a new `schemaVersion`.
public enum SupplierProtocol {
    public static let schemaVersion = 1
    public static let requestType = "supplier.verification-request"
    public static let replyType = "supplier.verification-reply"
    /// Sent to the supplier's own queue when one of its replies was refused (`ReplyRefused`).
    public static let replyRefusedType = "supplier.reply-refused"
    /// Replies are published with this routing key, with `user_id` set to the supplier's own AMQP user.
    public static let replyRoutingKey = Topology.Key.supplierReply
    /// Largest reply body accepted; anything bigger is dead-lettered unread.
    public static let maxReplyBytes = 16 * 1024
    /// The published schema a reply must match (`Services/supplier-verification/schemas`, compiled in as
    /// `SupplierSchemas`), checked before the reply is decoded: what the document refuses is what the service refuses.
    public static let replySchema = "verification-reply.schema.json"
    public static let schemas = try! JSONSchemaSet(SupplierSchemas.texts)

    /// The AMQP user of a supplier: `supplier.<id>`, a namespace no service user can be in (service users have no
    /// dot). The service trusts the `user_id` RabbitMQ validated.
    public static func amqpUser(supplier: String) -> String { Producer.supplierUserPrefix + supplier }
    public static func supplier(fromUser user: String) -> String? {
        guard Producer.supplier.matches(user: user) else { return nil }
        return String(user.dropFirst(Producer.supplierUserPrefix.count))
    }
}

/// What the platform asks a supplier (payload of a `supplier.verification-request` envelope).
public struct VerificationRequest: Codable, Sendable, Equatable {
    public var requestId: String
    public var refundId: String
    public var orderId: String
    public var lineId: String
    public var productKind: ProductKind
    /// The card code's or service's reference in the supplier's own system (the order line id when none).
    public var itemReference: String
    public var reason: RefundReason
    /// Answer before this time; silence is decided in the buyer's favour.
    public var answerBy: Date

    public init(requestId: String, refundId: String, orderId: String, lineId: String, productKind: ProductKind,
                itemReference: String, reason: RefundReason, answerBy: Date) {
        self.requestId = requestId
        self.refundId = refundId
        self.orderId = orderId
        self.lineId = lineId
        self.productKind = productKind
        self.itemReference = itemReference
        self.reason = reason
        self.answerBy = answerBy
    }
}

/// A supplier's answer (payload of a `supplier.verification-reply` envelope).
public struct VerificationReply: Codable, Sendable, Equatable {
    public enum Answer: String, Codable, Sendable, CaseIterable {
        /// Unused; the code is voided or the stock returned.
        case confirmed
        /// Activated or consumed at `usedAt`, with the supplier's `log`.
        case used
        /// Partly used (top-up) or partly done (service): `usedBp` of 10,000.
        case partial
        /// The supplier does not know this order.
        case unknownOrder = "unknown-order"
    }

    public var requestId: String
    public var answer: Answer
    public var usedAt: Date?
    public var log: String?
    public var usedBp: Int64?

    public init(requestId: String, answer: Answer, usedAt: Date? = nil, log: String? = nil, usedBp: Int64? = nil) {
        self.requestId = requestId
        self.answer = answer
        self.usedAt = usedAt
        self.log = log
        self.usedBp = usedBp
    }
}

/// `refund.verified` (supplier-verification → payout): the approved refund with the amount to pay after
/// verification and how verification ended.
public struct RefundVerified: Codable, Sendable {
    public enum Outcome: String, Codable, Sendable {
        case notRequired = "not_required"
        case confirmed
        case partial
        case silentSupplier = "silent_supplier"
        case arbitratedForBuyer = "arbitrated_for_buyer"
        case unknownOrder = "unknown_order"
        /// Platform fault or review SLA breached: paid at once; the supplier's answer only books the clawback.
        case advanceCompensation = "advance_compensation"
    }

    public var approved: RefundApproved
    public var amount: Money
    public var outcome: Outcome
    public var verifiedAt: Date

    public init(approved: RefundApproved, amount: Money, outcome: Outcome, verifiedAt: Date) {
        self.approved = approved
        self.amount = amount
        self.outcome = outcome
        self.verifiedAt = verifiedAt
    }
}

/// What a supplier is told when the platform refused one of its replies (payload of `supplier.reply-refused`, on
/// the supplier's own queue): which reply, which request when it could be read, why, and until when a corrected
/// reply still counts. The request stays open: a corrected reply before `answerBy` is taken as any reply.
public struct ReplyRefused: Codable, Sendable, Equatable {
    /// The refused reply's message id (its AMQP `message_id`).
    public var replyMessageId: String?
    /// The request the reply named, when the reply could be read that far.
    public var requestId: String?
    public var reason: String
    /// When the request is decided without an answer; nil when no open request was found.
    public var answerBy: Date?
    public var at: Date

    public init(replyMessageId: String?, requestId: String?, reason: String, answerBy: Date?, at: Date) {
        self.replyMessageId = replyMessageId
        self.requestId = requestId
        self.reason = reason
        self.answerBy = answerBy
        self.at = at
    }
}
