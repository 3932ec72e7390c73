import Foundation

/// One item of evidence: its kind and a reference (an upload id, a URL) or a text.
public struct EvidenceItem: Codable, Sendable, Equatable {
    public var kind: EvidenceKind
    public var reference: String?
    public var text: String?
    public init(kind: EvidenceKind, reference: String? = nil, text: String? = nil) {
        self.kind = kind
        self.reference = reference
        self.text = text
    }
}

/// What the pre-check needs about the buyer's past (auto-review counts it from the applications it has seen).
public struct BuyerHistory: Sendable, Equatable {
    /// Applications in the risk window, this one included.
    public var applicationsInRiskWindow: Int
    /// Rejected applications in the standing window.
    public var rejectionsInStandingWindow: Int
    public init(applicationsInRiskWindow: Int, rejectionsInStandingWindow: Int) {
        self.applicationsInRiskWindow = applicationsInRiskWindow
        self.rejectionsInStandingWindow = rejectionsInStandingWindow
    }
}

/// The pre-check's answer (DOMAIN.md §3): one of four outcomes, the rule that decided it, the amount in fen, the
/// amount rules that shaped it, and, for needs-evidence, the exact missing list.
public struct PreCheckDecision: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        case approved
        case rejected
        case needsEvidence = "needs_evidence"
        case manualReview = "manual_review"
    }

    public var outcome: Outcome
    public var rule: RuleID
    public var amount: Money
    public var amountRules: [RuleID]
    public var missingEvidence: [String]
    /// Approved with the platform paying first (platform fault, or the review SLA ran out).
    public var advanceCompensation: Bool
    /// Approved as a fast refund: no human, no supplier verification before payout.
    public var fastRefund: Bool
    /// For manual review: how long a reviewer has before advance compensation.
    public var reviewSLASeconds: Double?
    /// Why, in English (logs, reviewers, older readers); `reason` is the same as data for the buyer's language.
    public var explanation: String
    public var reason: Explanation? {
        didSet { explanation = reason?.english ?? "" }
    }
    /// The reason to give: a decision stored before reasons were data carries only its English words.
    public var because: Explanation? { reason ?? (explanation.isEmpty ? nil : .text(explanation)) }

    public init(outcome: Outcome, rule: RuleID, amount: Money, amountRules: [RuleID], missingEvidence: [String],
                advanceCompensation: Bool, fastRefund: Bool, reviewSLASeconds: Double?, because reason: Explanation) {
        self.outcome = outcome
        self.rule = rule
        self.amount = amount
        self.amountRules = amountRules
        self.missingEvidence = missingEvidence
        self.advanceCompensation = advanceCompensation
        self.fastRefund = fastRefund
        self.reviewSLASeconds = reviewSLASeconds
        self.reason = reason
        self.explanation = reason.english
    }
}

/// The system pre-check: pure, deterministic, every branch citing a `RuleID`.
public enum PreCheck {
    public struct Input: Sendable {
        public var order: OrderFacts
        public var line: OrderLineFacts
        public var reason: RefundReason
        public var requested: Money?
        public var evidence: Set<EvidenceKind>
        public var giftReturned: Bool
        public var appliedAt: Date
        /// Paid for the whole order minus what other refunds of it already took (approved or paid).
        public var orderRefundable: Money
        public var history: BuyerHistory

        public init(order: OrderFacts, line: OrderLineFacts, reason: RefundReason, requested: Money?,
                    evidence: Set<EvidenceKind>, giftReturned: Bool, appliedAt: Date, orderRefundable: Money,
                    history: BuyerHistory) {
            self.order = order
            self.line = line
            self.reason = reason
            self.requested = requested
            self.evidence = evidence
            self.giftReturned = giftReturned
            self.appliedAt = appliedAt
            self.orderRefundable = orderRefundable
            self.history = history
        }
    }

    public static func decide(_ i: Input, settings s: PolicySettings) throws -> PreCheckDecision {
        let line = i.line
        let zero = Money.zero(line.paid.currency)
        func reject(_ rule: RuleID, _ why: Explanation) -> PreCheckDecision {
            PreCheckDecision(outcome: .rejected, rule: rule, amount: zero, amountRules: [], missingEvidence: [],
                             advanceCompensation: false, fastRefund: false, reviewSLASeconds: nil, because: why)
        }

        // 1. What can never be refunded.
        if line.productKind == .physical {
            if line.customMade { return reject(.physicalCustom, .init(.customMade)) }
            if line.opened == true { return reject(.physicalOpened, .init(.physicalOpened)) }
        }
        if i.reason == .wrongAccount || i.reason == .accountBanned {
            return reject(.buyerMistake, .init(.buyerMistake))
        }
        let consumedCounts: Set<RefundReason> = [.notDelivered, .invalidCode, .noReason]
        if line.consumedAt != nil, consumedCounts.contains(i.reason) {
            return reject(.consumed, .init(.consumedByBuyer))
        }
        if i.reason == .partlyUsed && line.productKind != .topUp {
            return reject(.kindMismatch, .init(.proRataTopUpOnly))
        }
        if i.reason == .serviceIncomplete && line.productKind != .service {
            return reject(.kindMismatch, .init(.completionServicesOnly))
        }

        // 2. Windows.
        let delivered = line.deliveredAt != nil
        switch i.reason {
        case .notDelivered:
            if i.appliedAt > i.order.promisedDeliveryAt.addingTimeInterval(s.notDeliveredWindow) {
                return reject(.notDeliveredWindow, .init(.notDeliveredWindowPassed))
            }
        case .invalidCode, .notAsDescribed:
            if let d = line.deliveredAt, i.appliedAt > d.addingTimeInterval(s.defectWindow) {
                return reject(.defectWindow, .init(.defectWindowPassed))
            }
        case .noReason:
            if !line.noReasonRefund { return reject(.noReasonNotAllowed, .init(.noReasonNotOffered)) }
            if (line.usedValue.map { !$0.isZero } ?? false) {
                return reject(.consumed, .init(.noReasonUnusedOnly))
            }
            let start = line.deliveredAt ?? i.order.paidAt ?? i.order.placedAt
            if i.appliedAt > start.addingTimeInterval(s.coolingOff) {
                return reject(.coolingOffWindow, .init(.coolingOffPassed))
            }
        default:
            break
        }

        // 3. Evidence: the exact missing list. For "not delivered" the platform's own records prove it when they
        // show no delivery; only a claim against a recorded delivery needs the buyer's order page and status.
        let missing = (i.reason == .notDelivered && !delivered)
            ? [] : EvidencePolicy.missing(kind: line.productKind, reason: i.reason, provided: i.evidence)

        // 4. Amount: actual paid, then usage or completion, gift, fee, and the order's cap.
        var amountRules: [RuleID] = []
        var amount = line.paid
        if line.paid < line.listPrice { amountRules.append(.paidNotList) }
        switch i.reason {
        case .partlyUsed:
            guard let face = line.faceValue, !face.isZero else {
                return reject(.proRata, .init(.noUsageRecords))
            }
            let used = min(line.usedValue?.minorUnits ?? 0, face.minorUnits)
            amount = try amount.multiplied(numerator: face.minorUnits - used, denominator: face.minorUnits)
            amountRules.append(.proRata)
        case .serviceIncomplete:
            let done = min(max(line.completionBp ?? 0, 0), 10_000)
            amount = try amount.multiplied(numerator: 10_000 - done, denominator: 10_000)
            amountRules.append(.serviceCompletion)
        default:
            break
        }
        if let gift = line.giftValue, !gift.isZero, !i.giftReturned {
            amount = try amount.subtractingClamped(gift)
            amountRules.append(.giftDeducted)
        }
        // A fee is the price of the buyer's own choice; refunds for the seller's or platform's fault carry none.
        let feeReasons: Set<RefundReason> = [.noReason, .partlyUsed, .serviceIncomplete]
        if line.refundFeeBp > 0, feeReasons.contains(i.reason) {
            amount = try amount.subtracting(try amount.basisPoints(min(line.refundFeeBp, 10_000)))
            amountRules.append(.refundFee)
        }
        if i.orderRefundable < amount {
            amount = i.orderRefundable
            amountRules.append(.amountCap)
        }
        if let requested = i.requested, requested < amount { amount = requested }
        if amount.isZero { return reject(.nothingRefundable, .init(.nothingLeft)) }

        func decision(_ outcome: PreCheckDecision.Outcome, _ rule: RuleID, _ why: Explanation, advance: Bool = false,
                      fast: Bool = false) -> PreCheckDecision {
            var sla: Double?
            if outcome == .manualReview {
                sla = amount.minorUnits >= s.highAmountFromFen ? s.highAmountReviewSLA : s.reviewSLA
            }
            return PreCheckDecision(outcome: outcome, rule: rule, amount: amount, amountRules: amountRules,
                                    missingEvidence: outcome == .needsEvidence ? missing : [],
                                    advanceCompensation: advance, fastRefund: fast, reviewSLASeconds: sla,
                                    because: why)
        }

        if !missing.isEmpty {
            return decision(.needsEvidence, .evidenceMissing, .init(.evidenceMissing, ["missing": missing.joined(separator: ",")]))
        }
        // 5. Risk before any automatic approval.
        if i.history.applicationsInRiskWindow > s.riskMaxApplications {
            return decision(.manualReview, .riskFrequency, .init(.riskFrequency, ["max": String(s.riskMaxApplications)]))
        }
        if amount.minorUnits >= s.highAmountFromFen {
            return decision(.manualReview, .riskHighAmount, .init(.riskHighAmount))
        }
        let goodStanding = i.history.rejectionsInStandingWindow < s.standingMaxRejections
        // 6. Outcomes by reason.
        switch i.reason {
        case .platformFault:
            return decision(.approved, .platformFault, .init(.platformFault), advance: true)
        case .notDelivered:
            if delivered {
                return decision(.manualReview, .deliveryDisputed, .init(.deliveryDisputed))
            }
            if !goodStanding { return decision(.manualReview, .riskStanding, .init(.abnormalHistory)) }
            if amount.minorUnits < s.fastRefundBelowFen {
                return decision(.approved, .fastRefund, .init(.fastRefund),
                                fast: true)
            }
            return decision(.approved, .notDelivered, .init(.notDeliveredFull))
        case .notAsDescribed:
            return decision(.manualReview, .notAsDescribed, .init(.notAsDescribed))
        case .invalidCode, .noReason, .partlyUsed, .serviceIncomplete:
            if !goodStanding { return decision(.manualReview, .riskStanding, .init(.abnormalHistory)) }
            let rule: RuleID = switch i.reason {
            case .invalidCode: .invalidCode
            case .noReason: .coolingOff
            case .partlyUsed: .proRata
            default: .serviceCompletion
            }
            return decision(.approved, rule, .init(.eligibleByRule, ["rule": rule.rawValue]))
        case .wrongAccount, .accountBanned:
            return reject(.buyerMistake, .init(.buyerMistake))
        }
    }
}
