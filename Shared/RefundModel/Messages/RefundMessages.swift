import Foundation

/// Where the buyer wants the money: back the way it came (default, DOMAIN.md §5) or to the platform balance.
public enum PayoutRoute: String, Codable, Sendable, CaseIterable {
    case original
    case balance
}

/// `refund.applied` (intake → auto-review): the application with the order facts it is judged by, since data crosses
/// services only in messages.
public struct RefundApplied: Codable, Sendable {
    public var refundId: RefundID
    public var order: OrderFacts
    public var lineId: String
    public var reason: RefundReason
    public var requested: Money?
    public var evidence: [EvidenceItem]
    public var giftReturned: Bool
    public var preferredRoute: PayoutRoute
    public var appliedAt: Date
    /// What this application can still take: the smaller of what its line and its order have left (paid minus
    /// other refunds already approved or paid). The pre-check caps its amount here (`R-AMOUNT-CAP`).
    public var orderRefundable: Money

    public init(refundId: RefundID, order: OrderFacts, lineId: String, reason: RefundReason, requested: Money?,
                evidence: [EvidenceItem], giftReturned: Bool, preferredRoute: PayoutRoute, appliedAt: Date,
                orderRefundable: Money) {
        self.refundId = refundId
        self.order = order
        self.lineId = lineId
        self.reason = reason
        self.requested = requested
        self.evidence = evidence
        self.giftReturned = giftReturned
        self.preferredRoute = preferredRoute
        self.appliedAt = appliedAt
        self.orderRefundable = orderRefundable
    }
}

/// An account the buyer designates when the original route failed (DOMAIN.md §5, S2): a bank card or an Alipay
/// account. The number is personal data: it travels only to payout (which needs it to pay) and is masked everywhere
/// else.
public struct DesignatedAccount: Codable, Sendable, Equatable {
    public var channel: PaymentChannel
    public var number: String

    public init(channel: PaymentChannel, number: String) {
        self.channel = channel
        self.number = number
    }

    /// The channels an account can be designated on.
    public static let channels: Set<PaymentChannel> = [.bankCard, .alipay]

    /// What a buyer may type as the number, per channel (regular expressions, ECMA-262 and ICU alike: the API checks
    /// with them and its OpenAPI document publishes them): a bank card of 12-19 digits, or an Alipay login (a
    /// mainland mobile number or an e-mail address); spaces and dashes between digits are allowed and dropped.
    public static let numberPatterns: [PaymentChannel: String] = [
        .bankCard: #"^[ -]*([0-9][ -]*){12,19}$"#,
        .alipay: "^(" + ContactAddress.mobilePattern + "|" + ContactAddress.emailPattern + ")$",
    ]

    /// The number as stored and paid to: digits only for a card or mobile number, an e-mail address as typed;
    /// nil when it does not match its channel's pattern (or is longer than 100 characters).
    public static func normalized(_ raw: String, channel: PaymentChannel) -> String? {
        guard raw.count <= 100, let pattern = numberPatterns[channel],
              raw.range(of: pattern, options: .regularExpression) != nil else { return nil }
        return raw.contains("@") ? raw : raw.filter { $0 != " " && $0 != "-" }
    }

    /// The number as the buyer may see it in a timeline: the last four characters.
    public var masked: String { "****" + String(number.suffix(4)) }
}

/// The buyer's choice after a failed payout: the platform balance (instant) or a designated account.
public struct FallbackChoice: Codable, Sendable, Equatable {
    public enum Route: String, Codable, Sendable, CaseIterable {
        case balance
        case account
    }

    public var route: Route
    public var account: DesignatedAccount?

    public init(route: Route, account: DesignatedAccount? = nil) {
        self.route = route
        self.account = account
    }
}

/// `refund.evidence-added`, `refund.appealed` (with the appeal's new evidence), `refund.withdrawn`,
/// `refund.fallback-chosen` (with the choice).
public struct BuyerAction: Codable, Sendable {
    public var refundId: RefundID
    public var buyerId: String
    public var evidence: [EvidenceItem]
    public var note: String?
    /// Fallback only; absent means the balance (the only choice before designated accounts existed).
    public var fallback: FallbackChoice?
    public var at: Date

    public init(refundId: RefundID, buyerId: String, evidence: [EvidenceItem] = [], note: String? = nil,
                fallback: FallbackChoice? = nil, at: Date) {
        self.refundId = refundId
        self.buyerId = buyerId
        self.evidence = evidence
        self.note = note
        self.fallback = fallback
        self.at = at
    }
}

/// `refund.reviewer-decided` (intake → auto-review): a human's decision on a case in manual review or appeal.
public struct ReviewerDecision: Codable, Sendable {
    public enum Kind: String, Codable, Sendable {
        case approve
        case reject
        case askEvidence = "ask_evidence"
    }

    public var refundId: RefundID
    public var reviewerId: String
    public var kind: Kind
    /// Approve: the amount (default: what the pre-check computed); never above what the order can give back.
    public var amount: Money?
    /// Reject: why, shown to the buyer.
    public var reason: String?
    /// Ask for evidence: what to add.
    public var missing: [String]?
    public var at: Date

    public init(refundId: RefundID, reviewerId: String, kind: Kind, amount: Money? = nil, reason: String? = nil,
                missing: [String]? = nil, at: Date) {
        self.refundId = refundId
        self.reviewerId = reviewerId
        self.kind = kind
        self.amount = amount
        self.reason = reason
        self.missing = missing
        self.at = at
    }
}

/// `refund.approved` (auto-review → supplier-verification): everything the later stages need to act.
public struct RefundApproved: Codable, Sendable {
    public var refundId: RefundID
    public var orderId: String
    public var lineId: String
    public var buyerId: String
    public var supplierId: String
    public var productKind: ProductKind
    public var reason: RefundReason
    public var amount: Money
    /// What the buyer paid for the line: partial answers are recomputed from it.
    public var linePaid: Money
    /// What the buyer paid for the whole order: payout's cap across its lines (absent in older messages).
    public var orderPaid: Money?
    public var paymentChannel: PaymentChannel
    public var preferredRoute: PayoutRoute
    public var fastRefund: Bool
    public var advanceCompensation: Bool
    public var rule: RuleID
    public var evidence: [EvidenceKind]
    public var approvedAt: Date

    public init(refundId: RefundID, orderId: String, lineId: String, buyerId: String, supplierId: String,
                productKind: ProductKind, reason: RefundReason, amount: Money, linePaid: Money,
                paymentChannel: PaymentChannel,
                preferredRoute: PayoutRoute, fastRefund: Bool, advanceCompensation: Bool, rule: RuleID,
                evidence: [EvidenceKind], approvedAt: Date, orderPaid: Money? = nil) {
        self.refundId = refundId
        self.orderPaid = orderPaid
        self.orderId = orderId
        self.lineId = lineId
        self.buyerId = buyerId
        self.supplierId = supplierId
        self.productKind = productKind
        self.reason = reason
        self.amount = amount
        self.linePaid = linePaid
        self.paymentChannel = paymentChannel
        self.preferredRoute = preferredRoute
        self.fastRefund = fastRefund
        self.advanceCompensation = advanceCompensation
        self.rule = rule
        self.evidence = evidence
        self.approvedAt = approvedAt
    }
}

/// `refund.status.<step>`: one visible step of a refund, from whichever stage took it. Intake projects these into
/// the buyer's timeline; notification tells the buyer.
public struct RefundStatusEvent: Codable, Sendable {
    public var refundId: RefundID
    public var orderId: String
    public var buyerId: String
    public var step: RefundState
    public var at: Date
    /// `system`, `reviewer:<id>`, `supplier:<id>`, `channel:<name>`, `buyer`.
    public var actor: String
    public var rule: RuleID?
    /// The reason of a rejection, a delay, a decision, in English words (logs, reviewers, older consumers).
    public var explanation: String?
    /// The same reason as data, rendered in the buyer's language by `Phrasebook` (absent from older producers).
    public var reason: Explanation?
    public var amount: Money?
    public var missingEvidence: [String]?
    /// When the next step is expected.
    public var expectedNextBy: Date?
    public var advanceCompensation: Bool?
    /// The pre-check's findings, for the reviewer queue.
    public var findings: PreCheckDecision?
    /// Appeals: the reviewer who rejected, who may not decide the appeal.
    public var excludedReviewer: String?
    /// The step is late: past its expected time (a payout past the channel's arrival time). Same step, new news.
    public var overdue: Bool?

    public init(refundId: RefundID, orderId: String, buyerId: String, step: RefundState, at: Date, actor: String,
                rule: RuleID? = nil, because reason: Explanation? = nil, amount: Money? = nil,
                missingEvidence: [String]? = nil,
                expectedNextBy: Date? = nil, advanceCompensation: Bool? = nil, findings: PreCheckDecision? = nil,
                excludedReviewer: String? = nil, overdue: Bool? = nil) {
        self.refundId = refundId
        self.reason = reason
        self.explanation = reason?.english
        self.overdue = overdue
        self.orderId = orderId
        self.buyerId = buyerId
        self.step = step
        self.at = at
        self.actor = actor
        self.rule = rule
        self.amount = amount
        self.missingEvidence = missingEvidence
        self.expectedNextBy = expectedNextBy
        self.advanceCompensation = advanceCompensation
        self.findings = findings
        self.excludedReviewer = excludedReviewer
    }

    public var routingKey: String { Topology.Key.status(step.rawValue) }
}

/// Envelope `type` strings: the routing key is the type, so one constant serves both.
public enum MessageType {
    public static let refundApplied = Topology.Key.refundApplied
    public static let evidenceAdded = Topology.Key.evidenceAdded
    public static let refundAppealed = Topology.Key.refundAppealed
    public static let refundWithdrawn = Topology.Key.refundWithdrawn
    public static let reviewerDecided = Topology.Key.reviewerDecided
    public static let refundApproved = Topology.Key.refundApproved
    public static let refundVerified = Topology.Key.refundVerified
    public static let arbitrationDecided = Topology.Key.arbitrationDecided
    public static let fallbackChosen = Topology.Key.fallbackChosen
    public static let refundStatus = "refund.status"
    public static let buyerProfile = Topology.Key.buyerProfile
    public static let inAppMessage = Topology.Key.inAppMessage
    public static let refundIncident = Topology.Key.refundIncident
    public static let supplierRecord = Topology.Key.supplierRecord
}

/// `refund.supplier-record` (supplier-verification → intake): a supplier's whole record so far, sent whenever it
/// changes. Every count only grows, so intake keeps the largest of each, whatever order the messages arrive in.
public struct SupplierRecord: Codable, Sendable, Equatable {
    public var supplierId: String
    public var answeredInTime: Int
    public var answeredLate: Int
    public var silent: Int
    public var disputesLost: Int
    /// Charged against its deposit so far, in fen (CNY).
    public var depositChargedFen: Int64
    /// Replies the platform refused (and told the supplier so); absent from reports sent before it was counted.
    public var refusedReplies: Int?

    public init(supplierId: String, answeredInTime: Int, answeredLate: Int, silent: Int, disputesLost: Int,
                depositChargedFen: Int64, refusedReplies: Int? = nil) {
        self.refusedReplies = refusedReplies
        self.supplierId = supplierId
        self.answeredInTime = answeredInTime
        self.answeredLate = answeredLate
        self.silent = silent
        self.disputesLost = disputesLost
        self.depositChargedFen = depositChargedFen
    }
}

/// `refund.incident` (payout → intake): money may have moved where it should not. Intake flags the refund, opens a
/// reviewer ticket and puts the incident on the reviewers' view of it; reconciliation lists it until resolved.
public struct RefundIncident: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// A channel confirmed (SUCCESS) a request number that had been superseded: the refund was, or is being,
        /// paid another way (the balance, a designated account), so the buyer may have been paid twice.
        case possibleDoublePayment = "possible_double_payment"
    }

    public var refundId: RefundID
    public var kind: Kind
    public var channel: String
    /// The superseded request number the channel confirmed.
    public var requestNo: String
    public var amount: Money
    /// How the refund was paid instead (`balance`, or the designated account's channel).
    public var paidInstead: String
    public var detectedAt: Date

    public init(refundId: RefundID, kind: Kind, channel: String, requestNo: String, amount: Money, paidInstead: String,
                detectedAt: Date) {
        self.refundId = refundId
        self.kind = kind
        self.channel = channel
        self.requestNo = requestNo
        self.amount = amount
        self.paidInstead = paidInstead
        self.detectedAt = detectedAt
    }
}
